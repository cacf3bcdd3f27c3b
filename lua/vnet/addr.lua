--- vnet.addr: IPv4 and IPv6 addresses of links.
--
--    addr.add("veth0", "10.0.0.1/24")
--    addr.add("veth0", "10.0.0.1/24", { broadcast = "+", label = "veth0:a" })
--    addr.add("tun0", "10.9.0.1", { peer = "10.9.0.2" })
--    addr.add("veth0", "2001:db8::1/64", { nodad = true })
--    for _, a in ipairs(addr.list("veth0")) do print(a.cidr, a.scope) end
--    addr.flush("veth0", { family = "inet" })
--
-- A link is a name, an ifindex or an object with `ifindex` (a link, a TUN).
-- An address without /len is a host address (/32, /128), as with `ip addr
-- add`. Options of add and del:
--    peer        the other end of a point-to-point address
--    broadcast   an address, or "+" for the prefix's highest address (IPv4)
--    scope       "global" | "site" | "link" | "host" | a number
--    label       an IPv4 label, the link's name or "name:something"
--    nodad, noprefixroute, home, mngtmpaddr, autojoin   flags (booleans)
--    valid_lft, preferred_lft   lifetimes in seconds
--    replace     replace an existing address instead of failing (add only)
-- An address table has family, address, prefixlen, cidr, peer, broadcast,
-- scope, label, flags (a list), valid_lft and preferred_lft (-1: forever),
-- ifindex. System failures return nil, "addr.add veth0: File exists (ipv4:
-- Address already assigned)", 17; misuse raises.
local core = require "vnet.addr.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local E = require("vnet.nl.core").errno
local nl = require "vnet.nl.core"
local opts = require "vnet._opts"

local M = {}

local spec = {
  peer = "string", broadcast = "string", scope = { "string", "integer" },
  label = "string", nodad = "boolean", noprefixroute = "boolean",
  home = "boolean", mngtmpaddr = "boolean", autojoin = "boolean",
  valid_lft = "integer", preferred_lft = "integer", replace = "boolean",
}
local flagopts = { "nodad", "noprefixroute", "home", "mngtmpaddr", "autojoin" }

local function link() return require "vnet.link" end

-- The IPv4 broadcast of cidr ("+" in iproute2): the prefix's last address.
local function plus_broadcast(op, name, cidr)
  local fam, b, len = nl.cidr(cidr) -- the one address syntax (core/netlink/inaddr.c)
  if fam ~= "inet" or not len then
    raise(string.format("%s %s: broadcast '+' needs an IPv4 address with a " ..
      "prefix length (got '%s')", op, name, cidr))
  end
  local n = string.unpack(">I4", b)
  local host = (1 << (32 - len)) - 1
  return nl.ntop(string.pack(">I4", (n | host) & 0xffffffff))
end

-- add or del: the shared body (op names the user's function in errors).
function M._send(op, cmd, l, cidr, o)
  o = opts.check(op, o, spec)
  local L = link()
  local function body()
    local idx, name, eno = L._resolve(op, l)
    if not idx then return nil, name, eno end
    if type(cidr) ~= "string" then
      raise(op .. " " .. name .. ": address must be a string")
    end
    local s = { ["local"] = cidr, peer = o.peer, broadcast = o.broadcast,
      label = o.label, valid_lft = o.valid_lft, preferred_lft = o.preferred_lft,
      replace = o.replace }
    if o.broadcast == "+" then s.broadcast = plus_broadcast(op, name, cidr) end
    if o.scope ~= nil then
      s.scope = core.scope(o.scope)
      if not s.scope then
        raise(string.format("%s %s: option 'scope' must be global, site, link, " ..
          "host or a number (got '%s')", op, name, o.scope))
      end
    end
    if o.label and not (o.label == name or o.label:sub(1, #name + 1) == name .. ":") then
      raise(string.format("%s %s: option 'label' must be '%s' or start with '%s:' (got '%s')",
        op, name, name, name, o.label))
    end
    local bits = 0
    for _, f in ipairs(flagopts) do
      if o[f] then bits = bits | core.flags[f] end
    end
    if bits ~= 0 then s.flags = bits end
    local ok, err, eno2 = core[cmd](idx, s, op, name)
    if ok and cmd == "add" then require("vnet.session").own_addr(cidr, idx, name) end
    return ok, err, eno2
  end
  if L.is(l) then return L._within(l, op, body) end
  return body()
end

--- addr.add(link, cidr [, options]) -> true | nil, msg, errno
function M.add(l, cidr, o) return M._send("addr.add", "add", l, cidr, o) end

--- addr.del(link, cidr [, options]) -> true | nil, msg, errno
function M.del(l, cidr, o) return M._send("addr.del", "del", l, cidr, o) end

local list_spec = { family = "string", scope = "string" }

function M._list(op, l, o)
  o = opts.check(op, o, list_spec)
  if o.family and o.family ~= "inet" and o.family ~= "inet6" then
    raise(string.format("%s: option 'family' must be inet or inet6 (got '%s')", op, o.family))
  end
  local L = link()
  local function body()
    local idx, name, eno = 0, "", nil
    if l ~= nil then
      idx, name, eno = L._resolve(op, l)
      if not idx then return nil, name, eno end
    end
    local all, err
    all, err, eno = core.list(idx, o.family, op, name)
    if not all then return all, err, eno end
    local out = all
    if o.scope then
      out = {}
      for _, a in ipairs(all) do if a.scope == o.scope then out[#out + 1] = a end end
    end
    return require("vnet.show").mark("vnet.addr.list", out, "vnet.addr") -- as `ip -br addr`
  end
  if L.is(l) then return L._within(l, op, body) end
  return body()
end

--- addr.list([link] [, {family = "inet"|"inet6", scope = "global"...}])
-- -> { address, ... } | nil, msg, errno (all links when link is nil)
function M.list(l, o) return M._list("addr.list", l, o) end

--- addr.flush(link [, {family =, scope =}]) -> number removed | nil, msg, errno
-- Removes the link's addresses (those matching the filter); IPv6
-- link-local addresses stay unless scope = "link" asks for them.
function M.flush(l, o)
  local op = "addr.flush"
  if l == nil then raise(op .. ": expected a link name, ifindex or link object (got nil)") end
  local L = link()
  local function body()
    local all, err, eno = M._list(op, L.is(l) and l.ifindex or l, o)
    if not all then return nil, err, eno end
    local n = 0
    for _, a in ipairs(all) do
      if (o and o.scope) or a.scope ~= "link" then
        local ok
        ok, err, eno = core.del(a.ifindex, { ["local"] = a.cidr, peer = a.peer }, op, tostring(a.ifindex))
        if not ok and eno ~= E.EADDRNOTAVAIL then return nil, err, eno end -- gone with its primary
        if ok then n = n + 1 end
      end
    end
    return n
  end
  if L.is(l) then return L._within(l, op, body) end
  return body()
end

return M
