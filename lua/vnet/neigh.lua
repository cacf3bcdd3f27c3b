--- vnet.neigh: the neighbour table (ARP for IPv4, NDP for IPv6), so that
-- TAP and macvlan experiments can be wired statically.
--
--    neigh.add("veth0", "10.0.0.2", "02:00:00:00:00:02")   -- permanent
--    neigh.replace("veth0", "10.0.0.2", "02:00:00:00:00:03", { state = "reachable" })
--    for _, n in ipairs(neigh.list("veth0")) do print(n.dst, n.lladdr, n.state[1]) end
--    neigh.del("veth0", "10.0.0.2")
--
-- Options: state ("permanent", the default, "reachable", "stale", "noarp",
-- "delay", "probe", "failed", "incomplete"), router, proxy (booleans).
-- A neighbour table has family, dst, lladdr, dev (name), ifindex, state
-- (a list, as iproute2 shows it: {"PERMANENT"}), router, proxy.
local core = require "vnet.neigh.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local nl = require "vnet.nl.core"
local opts = require "vnet._opts"

local M = {}
local spec = { state = "string", router = "boolean", proxy = "boolean" }

local function link() return require "vnet.link" end

local function send(cmd, l, dst, lladdr, o)
  local op = "neigh." .. cmd
  o = opts.check(op, o, spec)
  local L = link()
  local function body()
    local idx, name, eno = L._resolve(op, l)
    if not idx then return nil, name, eno end
    if type(dst) ~= "string" or not nl.pton(dst) then
      raise(string.format("%s %s: '%s' is not an IPv4 or IPv6 address", op, name, tostring(dst)))
    end
    local s = { dst = dst }
    if lladdr ~= nil then
      s.lladdr = type(lladdr) == "string" and nl.mac(lladdr)
      if not s.lladdr then
        raise(string.format("%s %s: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", op, name,
          tostring(lladdr)))
      end
    elseif cmd ~= "del" and not (o.state == "noarp" or o.proxy) then
      raise(string.format("%s %s: a link-layer address is needed", op, name))
    end
    if o.state ~= nil then
      s.state = core.states[o.state:upper()]
      if not s.state then
        raise(string.format("%s %s: option 'state' must be one of delay, failed, incomplete, " ..
          "noarp, permanent, probe, reachable, stale (got '%s')", op, name, o.state))
      end
    end
    s.router, s.proxy = o.router, o.proxy
    local ok, err, eno = core.send(cmd, idx, s, op, name)
    if ok and cmd == "add" then require("vnet.session").own_neigh(dst, idx, name, o.proxy) end
    return ok, err, eno
  end
  if L.is(l) then return L._within(l, op, body) end
  return body()
end

--- neigh.add(link, address, lladdr [, options]) -> true | nil, msg, errno
function M.add(l, dst, ll, o) return send("add", l, dst, ll, o) end
--- neigh.replace(link, address, lladdr [, options]) -> true | nil, msg, errno
function M.replace(l, dst, ll, o) return send("replace", l, dst, ll, o) end
--- neigh.del(link, address) -> true | nil, msg, errno
function M.del(l, dst) return send("del", l, dst, nil, nil) end

--- neigh.list([link] [, {family = "inet"|"inet6", all = bool}])
-- -> { neighbour, ... } | nil, msg, errno. As `ip neigh`, entries in state
-- NOARP (multicast, loopback) are left out unless all = true.
function M.list(l, o)
  o = opts.check("neigh.list", o, { family = "string", all = "boolean" })
  local L = link()
  local function body()
    local idx, name, eno = 0, "", nil
    if l ~= nil then
      idx, name, eno = L._resolve("neigh.list", l)
      if not idx then return nil, name, eno end
    end
    local ns, err
    ns, err, eno = core.list(idx, o.family, "neigh.list", name)
    if not ns then return nil, err, eno end
    local lc = require "vnet.link.core"
    local out = {}
    for _, n in ipairs(ns) do
      n.ifindex = n.dev
      n.dev = lc.name(n.dev) or n.dev
      if o.all or n.state[1] ~= "NOARP" then out[#out + 1] = n end
    end
    return require("vnet.show").mark("vnet.neigh.list", out, "vnet.neigh") -- as `ip neigh`
  end
  if L.is(l) then return L._within(l, "neigh.list", body) end
  return body()
end

return M
