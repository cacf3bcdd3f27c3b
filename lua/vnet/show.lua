--- vnet.show: links, addresses, routes, neighbours and namespaces as a
-- person reads them (`ip -br` columns, `ip route` lines) and as a program
-- does (JSON shaped like `ip -j`).
--
--    print(vnet.link.list())          --> lo   UNKNOWN   00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>
--    print(vnet.addr.list())          --> lo   UNKNOWN   127.0.0.1/8 ::1/128
--    print(vnet.route.list())         --> 10.0.0.0/24 dev veth0 proto kernel scope link src 10.0.0.1
--    print(vnet.json(vnet.link.list()))  -- [{"ifindex":1,"ifname":"lo",...}]
--
-- The lists that link.list(), addr.list(), route.list(), neigh.list() and
-- netns.list() return are plain arrays whose tostring is that text; each
-- element's tostring is its one line. show.ip(x) gives the `ip -j` shaped
-- table (ifname, operstate, addr_info[].local, gateway, prefsrc...; no
-- internal fields), show.json(x) its JSON text (vnet.json is the same
-- function), show.text(x) the text. Other values: json encodes tables
-- (keys starting with "_" left out), text uses tostring.
local M = {}

local lcore = require "vnet.link.core"
local nscore = require "vnet.netns.core"

local J = require "vnet._json"

--- show.null: encodes as JSON null (as `ip -j` shows a set flag: "router": null)
M.null = J.null

-- The namespace (inode) a list was read in: its names are looked up there only.
local where = setmetatable({}, { __mode = "k" })

local function same_ns(x)
  local ino = where[x] or rawget(x, "_nsino") -- (a link object knows its own)
  return ino == nil or ino == nscore.current_id()
end

-- ---- JSON -------------------------------------------------------------------

-- `ip -j` objects: their keys in the order iproute2 prints them
local shape = J.object
local LINK = shape { "ifindex", "link", "link_index", "link_netnsid", "ifname", "flags", "mtu",
  "master", "operstate", "txqlen", "link_type", "address", "broadcast", "promiscuity",
  "min_mtu", "max_mtu", "linkinfo", "num_tx_queues", "num_rx_queues", "addr_info" }
local INFO = shape { "info_kind", "info_data", "info_slave_kind", "info_slave_data" }
local ADDR = shape { "family", "local", "address", "prefixlen", "broadcast", "scope", "dynamic",
  "label", "valid_life_time", "preferred_life_time" }
local ROUTE = shape { "type", "dst", "gateway", "dev", "table", "protocol", "scope", "prefsrc",
  "metric", "flags" }
local NEIGH = shape { "dst", "dev", "lladdr", "router", "proxy", "state" }
local kind, ip -- below

--- show.array: a metatable that makes an empty table encode as [] (not {})
M.array = J.array
local function array(t) return setmetatable(t, M.array) end

-- ---- ip -j shapes -----------------------------------------------------------

local function host_prefix(cidr, family)
  local a, len = cidr:match("^(.-)/(%d+)$")
  if a and tonumber(len) == (family == "inet6" and 128 or 32) then return a end
  return cidr
end

-- ifindex -> name, in the list's namespace (nil elsewhere)
local function namer(x, links)
  if links then
    local by = {}
    for _, l in ipairs(links) do by[l.ifindex] = l.name end
    return function(i) return by[i] end
  end
  if not same_ns(x) then return function() return nil end end
  return function(i) return lcore.name(i) end
end

local function link_flags(l, parent)
  local f, has = {}, {}
  for _, x in ipairs(l.flags or {}) do has[x] = true end
  if has.UP and not has.LOWER_UP and l.link_type ~= "loopback" then f[1] = "NO-CARRIER" end
  for _, x in ipairs(l.flags or {}) do f[#f + 1] = x end
  if parent and not parent.up then f[#f + 1] = "M-DOWN" end
  return array(f)
end

local function link_ip(l, name_of, by)
  local j = setmetatable({ ifindex = l.ifindex, ifname = l.name, mtu = l.mtu, operstate = l.operstate,
    txqlen = l.txqueuelen, link_type = l.link_type, address = l.address,
    broadcast = l.broadcast, promiscuity = l.promiscuity, min_mtu = l.min_mtu,
    max_mtu = l.max_mtu, num_tx_queues = l.numtxqueues, num_rx_queues = l.numrxqueues }, LINK)
  local parent
  if l.parent and l.parent ~= l.ifindex then
    local pname = not l.netns_id and name_of(l.parent)
    if pname then
      j.link = pname
      parent = by and by[l.parent]
    else
      j.link_index, j.link_netnsid = l.parent, l.netns_id
    end
  end
  if l.master then j.master = name_of(l.master) or l.master end
  j.flags = link_flags(l, parent)
  if l.kind or l.slave_kind then
    j.linkinfo = setmetatable({ info_kind = l.kind, info_slave_kind = l.slave_kind }, INFO)
    if l.info and next(l.info) then j.linkinfo.info_data = l.info end
    if l.port and next(l.port) then j.linkinfo.info_slave_data = l.port end
  end
  return j
end

local function addr_ip(a)
  local life = function(s) return (s == nil or s < 0) and 4294967295 or s end
  local j = setmetatable({ family = a.family, ["local"] = a.address, address = a.peer,
    prefixlen = a.prefixlen, broadcast = a.broadcast, scope = a.scope, label = a.label,
    valid_life_time = life(a.valid_lft), preferred_life_time = life(a.preferred_lft) }, ADDR)
  j.dynamic = true -- unless permanent, as iproute2 says
  for _, f in ipairs(a.flags or {}) do
    if f == "permanent" then j.dynamic = nil else j[f] = true end
  end
  return j
end

local function route_ip(r)
  local j = setmetatable({ dst = r.dst == "default" and "default" or host_prefix(r.dst, r.family),
    gateway = r.via, dev = r.dev, prefsrc = r.src }, ROUTE) -- (no flags: not read yet)
  if r.type ~= "unicast" then j.type = r.type end
  if r.table ~= 254 then j.table = ({ [255] = "local", [253] = "default" })[r.table] or tostring(r.table) end
  if r.protocol ~= "boot" and r.protocol ~= "unspec" then j.protocol = r.protocol end
  if r.scope ~= "global" then j.scope = r.scope end
  if r.metric and r.metric ~= 0 then j.metric = r.metric end
  return j
end

local function neigh_ip(n)
  return setmetatable({ dst = n.dst, dev = n.dev, lladdr = n.lladdr,
    router = n.router and M.null or nil, proxy = n.proxy and M.null or nil,
    state = array(n.state or {}) }, NEIGH)
end

-- The links of the namespace a list was read in, by ifindex (nil elsewhere).
local function links_here(x)
  if not same_ns(x) then return nil end
  local ts = lcore.list("show")
  if not ts then return nil end
  local by = {}
  for _, t in ipairs(ts) do by[t.ifindex] = t end
  return by
end

ip = {}
-- a single link's parent, read now (for M-DOWN), when it is here
local function parent_of(l)
  if not (l.parent and not l.netns_id and same_ns(l)) then return nil end
  local p = lcore.get(l.parent, "show", "#" .. l.parent)
  return p and { [l.parent] = p }
end
ip["vnet.link"] = function(l) return link_ip(l, namer(l), parent_of(l)) end
ip["vnet.link.list"] = function(ls)
  local name_of, by = namer(ls, ls), {}
  for _, l in ipairs(ls) do by[l.ifindex] = l end
  local out = array {}
  for i, l in ipairs(ls) do out[i] = link_ip(l, name_of, by) end
  return out
end
ip["vnet.addr"] = addr_ip
ip["vnet.addr.list"] = function(as)
  local links, out, at = links_here(as) or {}, array {}, {}
  for _, a in ipairs(as) do
    local e = at[a.ifindex]
    if not e then
      local t = links[a.ifindex]
      e = setmetatable({ ifindex = a.ifindex, addr_info = array {} }, LINK)
      if t then
        local lj = link_ip(t, function(i) return links[i] and links[i].name end, links)
        for _, k in ipairs { "ifname", "link", "link_index", "link_netnsid", "flags", "mtu",
          "master", "operstate", "txqlen", "link_type", "address", "broadcast" } do
          e[k] = lj[k]
        end
      end
      at[a.ifindex] = e
      out[#out + 1] = e
    end
    e.addr_info[#e.addr_info + 1] = addr_ip(a)
  end
  return out
end
ip["vnet.route"] = route_ip
ip["vnet.neigh"] = neigh_ip
for _, k in ipairs { "route", "neigh" } do
  ip["vnet." .. k .. ".list"] = function(xs)
    local out = array {}
    for i, x in ipairs(xs) do out[i] = ip["vnet." .. k](x) end
    return out
  end
end
ip["vnet.netns.list"] = function(ns)
  local out = array {}
  for i, n in ipairs(ns) do out[i] = { name = n } end
  return out
end

function kind(x)
  local mt = getmetatable(x)
  return type(mt) == "table" and ip[rawget(mt, "__name")] and rawget(mt, "__name")
end

--- show.ip(x) -> x as `ip -j` shows it (a table), or x itself for other values
function M.ip(x)
  local k = kind(x)
  if k then return ip[k](x) end
  return x
end

--- show.json(x) -> JSON text; vnet objects and lists in `ip -j` shape
function M.json(x)
  return J.encode(x, function(v) local k = kind(v); return k and ip[k](v) end)
end

-- ---- text -------------------------------------------------------------------

local function pad(s, n) return s .. string.rep(" ", n - #s) end

local function link_line(l, name_of, by)
  local j = link_ip(l, name_of, by)
  local name = l.name .. (j.link and "@" .. j.link or j.link_index and "@if" .. j.link_index or "")
  local cols = { pad(name, 16), pad(l.operstate or "UNKNOWN", 14) }
  if l.address and l.link_type ~= "none" then cols[#cols + 1] = l.address end
  cols[#cols + 1] = "<" .. table.concat(j.flags, ",") .. ">"
  return table.concat(cols, " ")
end

local function addr_line(a)
  local s = a.family .. " " .. (a.peer and a.address .. " peer " .. a.peer .. "/" .. a.prefixlen or a.cidr)
  if a.broadcast then s = s .. " brd " .. a.broadcast end
  s = s .. " scope " .. a.scope
  for _, f in ipairs(a.flags or {}) do if f ~= "permanent" then s = s .. " " .. f end end
  local label = a.label or a.dev
  return label and s .. " " .. label or s
end

local function route_line(r)
  local j, s = route_ip(r), {}
  if j.type then s[#s + 1] = j.type end
  s[#s + 1] = j.dst
  if j.gateway then s[#s + 1] = "via " .. j.gateway end
  if j.dev then s[#s + 1] = "dev " .. j.dev end
  if j.table then s[#s + 1] = "table " .. j.table end
  if j.protocol then s[#s + 1] = "proto " .. j.protocol end
  if j.scope then s[#s + 1] = "scope " .. j.scope end
  if j.prefsrc then s[#s + 1] = "src " .. j.prefsrc end
  if j.metric then s[#s + 1] = "metric " .. j.metric end
  return table.concat(s, " ")
end

local function neigh_line(n)
  local s = { n.dst, "dev " .. tostring(n.dev) }
  if n.lladdr then s[#s + 1] = "lladdr " .. n.lladdr end
  if n.router then s[#s + 1] = "router" end
  if n.proxy then s[#s + 1] = "proxy" end
  s[#s + 1] = table.concat(n.state or {}, " ")
  return table.concat(s, " ")
end

local function lines(xs, line)
  local out = {}
  for i, x in ipairs(xs) do out[i] = line(x) end
  return table.concat(out, "\n")
end

local text = {}
text["vnet.link"] = function(l) return link_line(l, namer(l), parent_of(l)) end
text["vnet.link.list"] = function(ls)
  local name_of, by = namer(ls, ls), {}
  for _, l in ipairs(ls) do by[l.ifindex] = l end
  return lines(ls, function(l) return link_line(l, name_of, by) end)
end
text["vnet.addr"] = addr_line
-- ip -br addr: one line per link, its addresses after its state
text["vnet.addr.list"] = function(as)
  local out = {}
  for i, e in ipairs(ip["vnet.addr.list"](as)) do
    local cidrs = {}
    for k, a in ipairs(e.addr_info) do
      cidrs[k] = (a.address and a["local"] .. " peer " .. a.address or a["local"]) .. "/" .. a.prefixlen
    end
    local name = (e.ifname or ("if" .. e.ifindex)) ..
      (e.link and "@" .. e.link or e.link_index and "@if" .. e.link_index or "")
    out[i] = pad(name, 16) .. " " .. pad(e.operstate or "", 14) ..
      " " .. table.concat(cidrs, " ")
  end
  return table.concat(out, "\n")
end
text["vnet.route"] = route_line
text["vnet.route.list"] = function(rs) return lines(rs, route_line) end
text["vnet.neigh"] = neigh_line
text["vnet.neigh.list"] = function(ns) return lines(ns, neigh_line) end
text["vnet.netns.list"] = function(ns) return table.concat(ns, "\n") end

--- show.text(x) -> x as text: `ip -br`-style for vnet objects and lists,
-- tostring for anything else
function M.text(x)
  local k = kind(x)
  if k then return text[k](x) end
  return tostring(x)
end

-- ---- the metatables the modules put on what they return ---------------------

local metas = {}
for name in pairs(ip) do
  if name ~= "vnet.link" then -- link.lua owns the link object's metatable
    metas[name] = { __name = name, __tostring = text[name] }
  end
end

--- show.mark(name, x [, each]) -> x: give x the metatable of `name`
-- ("vnet.route.list"...), and each element that of `each`; remember the
-- namespace it was read in (its ifindexes mean something there only).
function M.mark(name, x, each)
  if type(x) ~= "table" then return x end
  if each then
    local mt = metas[each]
    for _, e in ipairs(x) do setmetatable(e, mt) end
  end
  where[x] = nscore.current_id()
  return setmetatable(x, metas[name])
end
M.link_text = text["vnet.link"]

--- show._print(as_json, ...): what `vnet -e` and `vnet -j` print for the
-- values a chunk returned: each as text, tab-separated, or one JSON value
-- (an array when there are several)
function M._print(as_json, ...)
  local n = select("#", ...)
  if n == 0 then return end
  if as_json then
    io.stdout:write(M.json(n == 1 and (...) or array(table.pack(...))), "\n")
  else
    local t = {}
    for i = 1, n do t[i] = M.text((select(i, ...))) end
    io.stdout:write(table.concat(t, "\t"), "\n")
  end
  io.stdout:flush()
end

return M
