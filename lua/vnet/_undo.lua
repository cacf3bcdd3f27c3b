--- vnet._undo: what undoes each journal entry, as one record (text, the
-- format core/session.c documents): the in-process undo applies it
-- (session.core.apply) and the guardian applies the same record after a
-- SIGKILL. This file turns what a module did into the record's body; the
-- journal (vnet._journal) adds the type, id and place.
local nl = require "vnet.nl.core"

local M = {}

local function hex(b)
  if not b or b == "" then return "-" end
  return (b:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- "10.0.0.0/24", "fe80::1", "default" -> family number, prefix length,
-- address bytes (nil for default); nil when it is none of those
local function prefix(s, fam)
  if s == nil or s == "default" then return fam == "inet6" and 10 or 2, 0, nil end
  local a, len = tostring(s):match("^([^/]+)/?(%d*)$")
  local f, bytes = nl.pton(a or "")
  if not f then return nil end
  return f == "inet6" and 10 or 2, tonumber(len) or #bytes * 8, bytes
end

--- addr(cidr) -> "A" and the body of an address to delete, or nil
function M.addr(cidr)
  local fam, len, bytes = prefix(cidr)
  if not bytes then return nil end
  return "A", string.format("%d %d %s", fam, len, hex(bytes))
end

--- route(s) -> "T" and the body of a route to delete (s: route.lua's
-- spec: family, dst, via, table, metric), or nil
function M.route(s)
  local fam, len, dst = prefix(s.dst, s.family)
  if not fam then return nil end
  local via
  if s.via then
    local f, b = nl.pton(s.via)
    if not f then return nil end
    via = b
  end
  return "T", string.format("%d %d %d %d %s %s", fam, len, s.table or -1, s.metric or -1,
    hex(dst), hex(via))
end

--- neigh(dst, proxy) -> "H" and the body of a neighbour to delete, or nil
function M.neigh(dst, proxy)
  local f, b = nl.pton(dst)
  if not f then return nil end
  return "H", string.format("%d %d %s", f == "inet6" and 10 or 2, proxy and 8 or 0, hex(b))
end

--- vlan(vid, back, self) -> "V" and the body that puts a port VLAN back
-- (back: {pvid =, untagged =}, as it was) or deletes it (back nil); self:
-- the VLAN is the bridge's own
function M.vlan(vid, back, self)
  local flags = back and ((back.pvid and 2 or 0) + (back.untagged and 4 or 0)) or 0 -- BRIDGE_VLAN_INFO_*
  return "V", string.format("%s %d %d %d", back and "a" or "d", vid, flags, self and 1 or 0)
end

--- restore(back) -> "R" and the body that sets a link's fields back
-- (back: mtu, up, master, txqueuelen, name, address (bytes); absent:
-- unchanged)
function M.restore(back)
  local function n(v) return v == nil and -1 or v == true and 1 or v == false and 0 or v end
  return "R", string.format("%d %d %d %d %s %s", n(back.mtu), n(back.up), n(back.master),
    n(back.txqueuelen), back.name or "-", hex(back.address))
end

local sizes = { u8 = 1, u16 = 2, u32 = 4 }

--- port(items) -> "P" and the body that sets bridge-port options back
-- (items: vnet._kinds.encode's {attr, fmt, value} of the old values)
function M.port(items)
  local out = {}
  for _, it in ipairs(items) do
    local size = sizes[it[2]]
    if not size or type(it[3]) ~= "number" then return nil end
    out[#out + 1] = string.format("%d:%d:%d", it[1], size, it[3])
  end
  if #out == 0 then return nil end
  return "P", table.concat(out, ",")
end

--- move(toino, toref, name) -> "M" and the body that moves a link back
-- to namespace toino (toref: "-", "@" or its path) under its old name
function M.move(toino, toref, name)
  return "M", string.format("%d %s %s", toino, toref, name)
end

return M
