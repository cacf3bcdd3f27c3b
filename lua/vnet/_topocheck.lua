--- vnet._topocheck: check a topology description and turn it into the
-- desired state vnet.topo applies. Every error names where it is
-- (`links[3].b: node 'h9' is not defined`); nothing here touches the kernel.
--
-- The desired state: { name, nodes = { [node] = N }, order = {node...} }
-- N = { name, kind, ns (namespace name), sysctl = {key = "value"},
--       routes = { [dst] = { via =, dev =, metric = } }, ifaces = { [ifname] = I },
--       iforder = {ifname...} }
-- I = { name, node, kind, at (where it was described), mtu, mac, addrs = {cidr...},
--       peer = {node, name} (veth), master (a bridge's name), tc = {kind, options},
--       create = { options of link.create beyond name/mtu/address },
--       vlans = { {vid, pvid, untagged}, ... } (a switch port's), vlan_filtering (a switch's) }
-- (vnet._topovlan checks the VLAN fields and says what they become)
local tc = require "vnet.tc"
local vlan = require "vnet._topovlan"
local nl = require "vnet.nl.core"

local M = {}

local NODE_KINDS = { host = true, router = true, switch = true }
local TUNNEL_KINDS = { vxlan = true, geneve = true, gre = true, gretap = true }
local ATTACH_KINDS = { macvlan = "mode", macvtap = "mode", ipvlan = "mode", ipvtap = "mode" }
local MODES = {
  macvlan = { private = true, vepa = true, bridge = true, passthru = true, source = true },
  ipvlan = { l2 = true, l3 = true, l3s = true },
}
MODES.macvtap, MODES.ipvtap = MODES.macvlan, MODES.ipvlan
M.node_kinds, M.tunnel_kinds = NODE_KINDS, TUNNEL_KINDS

local FIELDS = {
  top = { "name", "nodes", "links", "tunnels" },
  node = { "kind", "addr", "routes", "sysctl", "attach", "stp", "vlan_filtering" },
  link = { "a", "b", "mtu", "tc" },
  ["end"] = { "node", "name", "addr", "mtu", "mac", "tc", "vlan", "vlans", "pvid", "untagged" },
  tunnel = { "kind", "id", "port", "a", "b", "mtu", "tc" },
  tunnel_end = { "node", "name", "underlay", "addr", "mtu", "mac", "tc" },
  attach = { "kind", "name", "parent", "mode", "addr", "mtu", "mac", "tc" },
  route = { "via", "dev", "metric" },
}

local function fail(where, fmt, ...)
  error({ topo = (where ~= "" and where .. ": " or "") .. string.format(fmt, ...) }, 0)
end

local function fields(where, t, kind)
  if type(t) ~= "table" then fail(where, "must be a table (got %s)", type(t)) end
  local known = {}
  for _, k in ipairs(FIELDS[kind]) do known[k] = true end
  for k in pairs(t) do
    if not known[k] then
      fail(where, "unknown field '%s' (known: %s)", tostring(k), table.concat(FIELDS[kind], ", "))
    end
  end
end

local function str(where, v, what)
  if type(v) ~= "string" then fail(where, "%s must be a string (got %s)", what, type(v)) end
  return v
end

local function is_ip(s)
  return nl.pton(s) ~= nil
end

-- "10.0.0.1/24", "fd00::1/64"; a bare address gets /32 or /128
local function cidr(where, v)
  if type(v) ~= "string" then fail(where, "must be an address string like \"10.0.0.1/24\" (got %s)", type(v)) end
  local ip, len = v:match("^([^/]+)/(%d+)$")
  local fam, bytes = nl.pton(ip or v)
  if not fam then fail(where, "'%s' is not an address (10.0.0.1/24 or fd00::1/64)", v) end
  ip = nl.ntop(bytes) -- as the kernel prints it, so that diff compares alike
  local max = ip:find(":", 1, true) and 128 or 32
  len = tonumber(len or max)
  if len > max then fail(where, "'%s': prefix length %d is over %d", v, len, max) end
  return ip .. "/" .. len
end

local function addrs(where, v)
  if v == nil then return {} end
  if type(v) == "string" then return { cidr(where, v) } end
  if type(v) ~= "table" then fail(where, "must be an address or a list of them (got %s)", type(v)) end
  local out = {}
  for i, a in ipairs(v) do out[i] = cidr(string.format("%s[%d]", where, i), a) end
  return out
end

local function ifname(where, name)
  if #name == 0 or #name > 15 or name:find("[/:%s]") or name == "." or name == ".." then
    fail(where, "'%s' is not a usable interface name (1 to 15 bytes, no '/', ':' or space)%s", name,
      #name > 15 and "; name the end: { node = ..., name = \"short\" }" or "")
  end
  return name
end

local function mtu(where, v)
  if v == nil then return nil end
  if math.type(v) ~= "integer" or v < 68 or v > 65535 then
    fail(where, "must be an integer from 68 to 65535 (got %s)", tostring(v))
  end
  return v
end

local function mac(where, v)
  if v == nil then return nil end
  if type(v) ~= "string" or not nl.mac(v) then fail(where, "'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", tostring(v)) end
  return v:lower()
end

-- tc = { netem = {...} } | { tbf = {...} } | { htb = {...} }, and/or
-- ingress = { one of them } -> { kind, options, ingress = { kind, options } }
local function tcspec(where, v, inner)
  if v == nil then return nil end
  if type(v) ~= "table" then fail(where, "must be a table like { netem = { delay = 50 } } (got %s)", type(v)) end
  local kind, o, ingress
  for k, x in pairs(v) do
    if k == "ingress" and not inner then ingress = x
    elseif k == "netem" or k == "tbf" or k == "htb" then
      if kind then fail(where, "names two qdiscs ('%s' and '%s'): an interface has one at its root", kind, k) end
      kind, o = k, x
    else
      fail(where, "unknown qdisc '%s' (netem, tbf, htb%s)", tostring(k), inner and "" or "; ingress = { ... } shapes what arrives")
    end
  end
  if not kind and ingress == nil then
    fail(where, "must name one qdisc: { netem = {...} }, { tbf = {...} } or { htb = {...} }")
  end
  local spec = {}
  if kind then
    if type(o) ~= "table" then fail(where .. "." .. kind, "must be a table of options (got %s)", type(o)) end
    local ok, err = pcall(tc._convert, "tc", o, kind)
    if not ok then fail(where .. "." .. kind, "%s", (tostring(err):gsub("^.-:%d+: ", ""):gsub("^tc: ", ""))) end
    local copy = {}
    for k, x in pairs(o) do copy[k] = x end
    spec.kind, spec.options = kind, copy
  end
  if ingress ~= nil then spec.ingress = tcspec(where .. ".ingress", ingress, true) end
  return spec
end

--- check(t) -> desired state; raises { topo = "where: what" } on a bad table
function M.check(t)
  fields("", t, "top")
  local name = t.name or "topo"
  if type(name) ~= "string" or not name:find("^[%a_][%w_]*$") or #name > 40 then
    fail("name", "'%s' is not a topology name (letters, digits, '_'; at most 40)", tostring(name))
  end
  if type(t.nodes) ~= "table" or next(t.nodes) == nil then fail("nodes", "must be a table of nodes by name") end
  local D = { name = name, nodes = {}, order = {} }
  local where_if = {} -- node .. ":" .. ifname -> where it was defined

  local names = {}
  for k in pairs(t.nodes) do names[#names + 1] = k end
  table.sort(names, function(x, y) return tostring(x) < tostring(y) end)
  for _, nname in ipairs(names) do
    local n = t.nodes[nname]
    local w = "nodes." .. tostring(nname)
    if type(nname) ~= "string" or not nname:find("^[%a_][%w_]*$") then
      fail("nodes", "'%s' is not a node name (a letter, then letters, digits, '_')", tostring(nname))
    end
    if n == true then n = {} end
    fields(w, n, "node")
    local kind = n.kind or "host"
    if not NODE_KINDS[kind] then fail(w .. ".kind", "'%s' is not a node kind (host, router, switch)", tostring(kind)) end
    local N = { name = nname, kind = kind, ns = name .. "-" .. nname, sysctl = {}, routes = {},
      ifaces = {}, iforder = {}, count = 0 }
    N.sysctl["net.ipv4.ip_forward"] = kind == "router" and "1" or "0"
    N.sysctl["net.ipv6.conf.all.forwarding"] = kind == "router" and "1" or "0"
    for k, v in pairs(n.sysctl or {}) do
      if type(k) ~= "string" or not k:find("^net%.[%w_%.%-]+$") then
        fail(w .. ".sysctl", "'%s' is not a network sysctl (net.ipv4.ip_forward, ...)", tostring(k))
      end
      if type(v) ~= "string" and type(v) ~= "number" and type(v) ~= "boolean" then
        fail(w .. ".sysctl['" .. k .. "']", "must be a string, number or boolean (got %s)", type(v))
      end
      N.sysctl[k] = type(v) == "boolean" and (v and "1" or "0") or tostring(v)
    end
    N.vlan_filtering = vlan.node(w, n, kind)
    if kind == "switch" then
      ifname(w, nname)
      N.ifaces[nname] = { name = nname, node = nname, kind = "bridge", at = w, addrs = addrs(w .. ".addr", n.addr),
        create = { stp = n.stp and true or nil, vlan_filtering = N.vlan_filtering or nil },
        vlan_filtering = N.vlan_filtering == true }
      N.iforder[1] = nname
      where_if[nname .. ":" .. nname] = w
    elseif n.addr ~= nil or n.stp ~= nil then
      fail(w .. "." .. (n.addr ~= nil and "addr" or "stp"), "only a switch has it (the addresses of a host are on its links)")
    end
    N.src = n
    D.nodes[nname] = N
    D.order[#D.order + 1] = nname
  end
  table.sort(D.order)

  local function node_of(w, v)
    local nn = type(v) == "table" and v.node or v
    str(w, nn, "the node")
    local node, nm = nn:match("^([^:]+):(.+)$")
    node = node or nn
    if not D.nodes[node] then fail(w, "node '%s' is not defined", node) end
    return D.nodes[node], nm
  end

  local function add_iface(w, N, I)
    local key = N.name .. ":" .. I.name
    if where_if[key] then
      fail(w, "interface '%s' on node '%s' is defined twice (%s and %s)", I.name, N.name, where_if[key], w)
    end
    where_if[key] = w
    I.node, I.at = N.name, w
    N.ifaces[I.name] = I
    N.iforder[#N.iforder + 1] = I.name
  end

  local function endpoint(w, v, kind, defname)
    local N, nm = node_of(w, v)
    local e = type(v) == "table" and v or {}
    if type(v) == "table" then fields(w, v, kind) end
    local name = e.name ~= nil and str(w .. ".name", e.name, "name") or nm
    if not name then
      name = defname(N)
    end
    ifname(w, name)
    return N, { name = name, mtu = mtu(w .. ".mtu", e.mtu), mac = mac(w .. ".mac", e.mac),
      addrs = addrs(w .. ".addr", e.addr), tc = tcspec(w .. ".tc", e.tc), create = {} }, e
  end

  local function ethname(N)
    local i = N.count
    N.count = N.count + 1
    return N.name .. "-eth" .. i
  end

  if t.links ~= nil and type(t.links) ~= "table" then fail("links", "must be a list of links (got %s)", type(t.links)) end
  for i, l in ipairs(t.links or {}) do
    local w = "links[" .. i .. "]"
    fields(w, l, "link")
    if l.a == nil or l.b == nil then fail(w, "needs both ends: { a = \"h1\", b = \"r1\" }") end
    local lmtu, ltc = mtu(w .. ".mtu", l.mtu), tcspec(w .. ".tc", l.tc)
    local NA, A, ea = endpoint(w .. ".a", l.a, "end", ethname)
    local NB, B, eb = endpoint(w .. ".b", l.b, "end", ethname)
    for _, p in ipairs { { NA, A, B, NB, ".a", ea }, { NB, B, A, NA, ".b", eb } } do
      local N, I, O, ON, s = p[1], p[2], p[3], p[4], p[5]
      I.kind, I.peer = "veth", { node = ON.name, name = O.name }
      I.mtu, I.tc = I.mtu or lmtu, I.tc or ltc
      if N.kind == "switch" then
        if #I.addrs > 0 then fail(w .. s .. ".addr", "'%s' is a switch: its ports have no addresses", N.name) end
        I.master = N.name
      end
      vlan.port(w .. s, N, p[6], I)
      local V = vlan.sub(I) -- vlan = 10: the addresses go on "<end>.10"
      add_iface(w .. s, N, I)
      if V then add_iface(w .. s .. ".vlan", N, V) end
    end
  end

  if t.tunnels ~= nil and type(t.tunnels) ~= "table" then fail("tunnels", "must be a list of tunnels (got %s)", type(t.tunnels)) end
  for i, tn in ipairs(t.tunnels or {}) do
    local w = "tunnels[" .. i .. "]"
    fields(w, tn, "tunnel")
    local kind = tn.kind
    if not TUNNEL_KINDS[kind] then fail(w .. ".kind", "'%s' is not a tunnel kind (vxlan, geneve, gre, gretap)", tostring(kind)) end
    if tn.a == nil or tn.b == nil then fail(w, "needs both ends: { a = { node =, underlay = }, b = {...} }") end
    if tn.id ~= nil and (math.type(tn.id) ~= "integer" or tn.id < 0 or tn.id > (kind:find("gre") and 0xffffffff or 0xffffff)) then
      fail(w .. ".id", "must be an integer from 0 to %d (got %s)", kind:find("gre") and 0xffffffff or 0xffffff, tostring(tn.id))
    end
    if tn.port ~= nil and (kind:find("gre") or math.type(tn.port) ~= "integer" or tn.port < 1 or tn.port > 65535) then
      fail(w .. ".port", kind:find("gre") and "a %s tunnel has no port" or "must be a UDP port 1 to 65535", kind)
    end
    local function tname(N)
      local k = 0
      while N.ifaces[N.name .. "-" .. kind .. k] do k = k + 1 end
      return N.name .. "-" .. kind .. k
    end
    local NA, A, ea = endpoint(w .. ".a", tn.a, "tunnel_end", tname)
    local NB, B, eb = endpoint(w .. ".b", tn.b, "tunnel_end", tname)
    for _, p in ipairs { { NA, A, ea, eb, ".a" }, { NB, B, eb, ea, ".b" } } do
      local N, I, e, o, s = p[1], p[2], p[3], p[4], p[5]
      if type(e.underlay) ~= "string" or not is_ip(e.underlay) or e.underlay:find(":", 1, true) then
        fail(w .. s .. ".underlay", "must be this end's IPv4 underlay address (got %s)", tostring(e.underlay))
      end
      I.kind, I.mtu, I.tc = kind, I.mtu or mtu(w .. ".mtu", tn.mtu), I.tc or tcspec(w .. ".tc", tn.tc)
      if N.kind == "switch" then I.master = N.name end
      local c = I.create
      c["local"], c.remote = e.underlay, o.underlay
      if kind == "vxlan" or kind == "geneve" then c.id, c.dstport = tn.id or 0, tn.port or (kind == "vxlan" and 4789 or 6081) end
      if kind == "geneve" then c["local"] = nil end
      if kind:find("gre") and tn.id then c.key = tn.id end
      add_iface(w .. s, N, I)
    end
    A.tpeer, B.tpeer = { node = NB.name, name = B.name }, { node = NA.name, name = A.name }
  end

  for _, nname in ipairs(D.order) do
    local N = D.nodes[nname]
    local n = N.src
    local w = "nodes." .. nname
    if n.attach ~= nil and type(n.attach) ~= "table" then fail(w .. ".attach", "must be a list (got %s)", type(n.attach)) end
    for i, a in ipairs(n.attach or {}) do
      local aw = string.format("%s.attach[%d]", w, i)
      fields(aw, a, "attach")
      if not ATTACH_KINDS[a.kind] then fail(aw .. ".kind", "'%s' is not an attachment kind (macvlan, macvtap, ipvlan, ipvtap)", tostring(a.kind)) end
      str(aw .. ".name", a.name, "name")
      ifname(aw .. ".name", a.name)
      str(aw .. ".parent", a.parent, "parent")
      if not N.ifaces[a.parent] then fail(aw .. ".parent", "interface '%s' is not defined on node '%s'", a.parent, nname) end
      local mode = a.mode or (a.kind:find("mac") and "bridge" or "l2")
      if not MODES[a.kind][mode] then fail(aw .. ".mode", "'%s' is not a %s mode", tostring(mode), a.kind) end
      add_iface(aw, N, { name = a.name, kind = a.kind, mtu = mtu(aw .. ".mtu", a.mtu), mac = mac(aw .. ".mac", a.mac),
        addrs = addrs(aw .. ".addr", a.addr), tc = tcspec(aw .. ".tc", a.tc), create = { link = a.parent, mode = mode } })
    end
    if n.routes ~= nil and type(n.routes) ~= "table" then fail(w .. ".routes", "must be a table { default = \"gw\", [\"dst/len\"] = \"gw\" }") end
    for dst, r in pairs(n.routes or {}) do
      local rw = string.format("%s.routes['%s']", w, tostring(dst))
      if type(r) == "string" then r = { via = r } end
      local v6 = type(r) == "table" and type(r.via) == "string" and r.via:find(":", 1, true)
      local key = (dst == "default" or dst == "default6") and (v6 and "default6" or "default") or cidr(rw, dst)
      fields(rw, r, "route")
      if r.via ~= nil and (type(r.via) ~= "string" or not is_ip(r.via)) then fail(rw .. ".via", "'%s' is not an address", tostring(r.via)) end
      if r.dev ~= nil and not N.ifaces[r.dev] then fail(rw .. ".dev", "interface '%s' is not defined on node '%s'", tostring(r.dev), nname) end
      if r.via == nil and r.dev == nil then fail(rw, "needs a gateway (via) or a device (dev)") end
      if r.metric ~= nil and (math.type(r.metric) ~= "integer" or r.metric < 0 or r.metric > 0xffffffff) then
        fail(rw .. ".metric", "must be an integer from 0 to 4294967295")
      end
      N.routes[key] = { via = r.via, dev = r.dev, metric = r.metric }
    end
    -- shaping what arrives: an ifb per interface that asks, the
    -- interface's ingress redirected to it, the qdisc on the ifb
    local k = 0
    for _, ifn in ipairs({ table.unpack(N.iforder) }) do
      local I = N.ifaces[ifn]
      local spec = I.tc
      if spec then
        I.tc = spec.kind and { kind = spec.kind, options = spec.options } or nil
        if spec.ingress then
          while N.ifaces["ifb" .. k] do k = k + 1 end
          local name = "ifb" .. k
          add_iface(I.at .. ".tc.ingress", N, { name = name, kind = "ifb", addrs = {}, create = {},
            tc = spec.ingress, ingress_of = ifn })
          I.redirect = name
        end
      end
    end
    N.src, N.count, N.vlan_filtering = nil, nil, nil
  end
  return D
end

return M
