--- vnet._topovlan: the VLANs of a topology. Two things a description
-- says about them (docs/topology.md, "VLANs"):
--
-- * on a link's end at a host or router, `vlan = 10`: the end gets an
--   802.1Q interface "<end>.10" (kind vlan) on the veth, and the end's
--   addresses go on it (the veth keeps the MTU, MAC and qdisc);
-- * on a link's end at a switch whose node says `vlan_filtering = true`,
--   `vlans = {10, 20}`, `pvid = 10`, `untagged = {10}`: the port's VLANs,
--   exactly these (what `bridge vlan show` lists for the port).
--
-- Checking (for vnet._topocheck), comparing with what is live and the
-- text of a change (for vnet._topolive) are here, in one place.
local M = {}

local function fail(where, fmt, ...)
  error({ topo = where .. ": " .. string.format(fmt, ...) }, 0)
end

-- an integer VLAN id, 1..4094
local function vid(where, v)
  if math.type(v) ~= "integer" then
    fail(where, "must be an integer VLAN id 1..4094 (got %s)", math.type(v) or type(v))
  end
  if v < 1 or v > 4094 then fail(where, "%d is out of range 1..4094", v) end
  return v
end

local function vidlist(where, v)
  if math.type(v) == "integer" then v = { v } end
  if type(v) ~= "table" or #v == 0 then fail(where, "must be a VLAN id or a list of them, like {10, 20}") end
  local out, seen = {}, {}
  for i, x in ipairs(v) do
    vid(string.format("%s[%d]", where, i), x)
    if seen[x] then fail(where, "VLAN %d is listed twice", x) end
    seen[x], out[#out + 1] = true, x
  end
  return out, seen
end

--- node(where, n, kind) -> vlan_filtering of a node (switches only)
function M.node(where, n, kind)
  local f = n.vlan_filtering
  if f == nil then return nil end
  if kind ~= "switch" then fail(where .. ".vlan_filtering", "only a switch has it") end
  if type(f) ~= "boolean" then fail(where .. ".vlan_filtering", "must be true or false (got %s)", type(f)) end
  return f
end

--- port(where, N, e, I): a link end's VLAN fields into the interface I
-- (I.vlans = { {vid, pvid, untagged}, ... } on a switch port; I.vlan on a
-- host's or router's end). Raises { topo = ... } on a bad one.
function M.port(where, N, e, I)
  local switch = N.kind == "switch"
  if e.vlan ~= nil then
    if switch then
      fail(where .. ".vlan", "'%s' is a switch: give its port vlans, pvid and untagged instead", N.name)
    end
    I.vlan = vid(where .. ".vlan", e.vlan)
    local sub = I.name .. "." .. I.vlan
    if #sub > 15 then
      fail(where .. ".vlan", "the VLAN interface '%s' would be over 15 bytes; name the end shorter (name = \"...\")", sub)
    end
  end
  local given = e.vlans ~= nil and "vlans" or e.pvid ~= nil and "pvid" or e.untagged ~= nil and "untagged"
  if not given then return end
  if not switch then
    fail(where .. "." .. given, "'%s' is not a switch: a port's VLANs are a switch's (a %s's end takes vlan = <id>)",
      N.name, N.kind)
  end
  if not N.vlan_filtering then
    fail(where .. "." .. given, "switch '%s' does not filter VLANs (set nodes.%s.vlan_filtering = true)", N.name, N.name)
  end
  if e.vlans == nil then fail(where .. "." .. given, "needs vlans too: list the port's VLANs (vlans = {10, 20})") end
  local list, member = vidlist(where .. ".vlans", e.vlans)
  local shown = table.concat(list, ", ")
  local pvid = e.pvid ~= nil and vid(where .. ".pvid", e.pvid) or nil
  if pvid and not member[pvid] then fail(where .. ".pvid", "%d is not one of the port's vlans (%s)", pvid, shown) end
  local untagged = {}
  if e.untagged ~= nil then
    local u = vidlist(where .. ".untagged", e.untagged)
    for _, x in ipairs(u) do
      if not member[x] then fail(where .. ".untagged", "%d is not one of the port's vlans (%s)", x, shown) end
      untagged[x] = true
    end
  end
  table.sort(list)
  I.vlans = {}
  for i, x in ipairs(list) do I.vlans[i] = { vid = x, pvid = x == pvid, untagged = untagged[x] == true } end
end

--- sub(I) -> the vlan interface on the veth end I (which gives it its
-- addresses), or nil when I has no vlan
function M.sub(I)
  if not I.vlan then return nil end
  local V = { name = I.name .. "." .. I.vlan, kind = "vlan", addrs = I.addrs,
    create = { link = I.name, id = I.vlan } }
  I.addrs = {}
  return V
end

--- mismatch(I, l, S) -> why live vlan link l cannot be I (nil: it can)
function M.mismatch(I, l, S)
  local parent = S.byindex[l.parent or -1]
  if not parent or parent.name ~= I.create.link or (l.info or {}).id ~= I.create.id then
    return "VLAN or parent changed"
  end
end

local function vtext(v)
  return v.vid .. (v.pvid and " pvid" or "") .. (v.untagged and " untagged" or "")
end

--- change(nn, ifn, want, have) -> the diff's change making port ifn's
-- VLANs `want` (I.vlans), or nil when `have` ({[vid] = v} live; nil: the
-- port is new or changes bridge, and the kernel gave it the default) is so
function M.change(nn, ifn, want, have)
  local parts = {}
  if have == nil then
    for i, v in ipairs(want) do parts[i] = vtext(v) end
  else
    local keep = {}
    for _, v in ipairs(want) do
      local h = have[v.vid]
      keep[v.vid] = true
      if not h or h.pvid ~= v.pvid or h.untagged ~= v.untagged then parts[#parts + 1] = "+" .. vtext(v) end
    end
    local gone = {}
    for x in pairs(have) do if not keep[x] then gone[#gone + 1] = x end end
    table.sort(gone)
    for _, x in ipairs(gone) do parts[#parts + 1] = "-" .. x end
    if #parts == 0 then return nil end
  end
  return { op = "~", what = "vlan", node = nn, name = ifn, to = want,
    text = string.format("~ vlan %s:%s %s", nn, ifn, table.concat(parts, ", ")) }
end

--- read() -> { [ifname] = { [vid] = {vid, pvid, untagged} } } of the
-- bridges and ports in the namespace we are in ({} when none)
function M.read()
  local out = {}
  for _, p in ipairs(require("vnet.link.core").vlan_list("topo", "vlans") or {}) do
    if p.name then
      local t = {}
      for _, v in ipairs(p.vlans) do t[v.vid] = v end
      out[p.name] = t
    end
  end
  return out
end

return M
