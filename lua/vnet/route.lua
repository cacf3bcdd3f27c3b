--- vnet.route: the routing table.
--
--    route.add{ dst = "10.1.0.0/16", via = "10.0.0.254" }
--    route.add{ dst = "default", via = "10.0.0.1", dev = "veth0", metric = 100 }
--    route.add{ dst = "192.0.2.0/24", type = "blackhole" }
--    route.replace{ dst = "10.1.0.0/16", dev = "tun0", src = "10.9.0.1" }
--    for _, r in ipairs(route.list()) do print(r.dst, r.via, r.dev) end
--    print(route.get("10.1.2.3").dev)      -- the route the kernel would use
--    route.del{ dst = "10.1.0.0/16" }
--
-- Options of add, del and replace:
--    dst       "a.b.c.d/len", "v6/len", an address (a host route) or
--              "default" (required)
--    via       the gateway; dev  the link (name, ifindex or object)
--    src       the preferred source address
--    table     "main" (the default), "local", "default" or a number
--    metric    the route's priority; lower wins
--    scope     "global", "link", "host", "site", "nowhere" or a number
--              (default as iproute2: link without a gateway, else global)
--    protocol  "boot" (the default), "static", "kernel", ... or a number
--    type      "unicast" (the default), "local", "blackhole",
--              "unreachable", "prohibit", ...
--    family    "inet" or "inet6", when dst is "default" and there is no via
-- A route table has family, dst, via, src, dev (name), ifindex, table,
-- metric, scope, protocol, type. System failures return nil, "route.add
-- 10.1.0.0/16: Network is unreachable (Nexthop has invalid gateway)", 101.
local core = require "vnet.route.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local E = require("vnet.nl.core").errno
local nl = require "vnet.nl.core"
local opts = require "vnet._opts"

local M = {}

local spec = {
  dst = "string", via = "string", dev = { "string", "integer", "table", "userdata" },
  src = "string", table = { "string", "integer" }, metric = "integer",
  scope = { "string", "integer" }, protocol = { "string", "integer" },
  type = { "string", "integer" }, family = "string",
}

local function link() return require "vnet.link" end

local function family_of(op, name, key, text)
  local fam, _, plen = nl.cidr(text) -- the one address syntax (core/netlink/inaddr.c)
  if plen and key ~= "dst" then fam = nil end
  if not fam then
    raise(string.format("%s %s: option '%s' '%s' is not an IPv4 or IPv6 address%s", op, name,
      key, text, key == "dst" and " (or \"default\")" or ""))
  end
  return fam
end

local function send(cmd, o)
  local op = "route." .. cmd
  o = opts.check(op, o, spec)
  if o.dst == nil then raise(op .. ": option 'dst' is required (a prefix, an address or \"default\")") end
  local name = o.dst
  local fam = o.family
  if fam ~= nil and fam ~= "inet" and fam ~= "inet6" then
    raise(string.format("%s %s: option 'family' must be inet or inet6 (got '%s')", op, name, fam))
  end
  if o.dst ~= "default" then
    local f = family_of(op, name, "dst", o.dst)
    if fam and f ~= fam then
      raise(string.format("%s %s: option 'family' is %s but dst is %s", op, name, fam, f))
    end
    fam = f
  end
  if o.via ~= nil then
    local f = family_of(op, name, "via", o.via)
    if fam and f ~= fam then
      raise(string.format("%s %s: option 'via' '%s' is not an address of the same family", op, name, o.via))
    end
    fam = f
  end
  if o.src ~= nil and family_of(op, name, "src", o.src) ~= (fam or "inet") then
    raise(string.format("%s %s: option 'src' '%s' is not an address of the same family", op, name, o.src))
  end
  local s = { family = fam or "inet", dst = o.dst, via = o.via, src = o.src, metric = o.metric }
  for _, k in ipairs { "table", "scope", "protocol", "type" } do
    if o[k] ~= nil then
      s[k] = core.number(k, o[k])
      if not s[k] then
        raise(string.format("%s %s: option '%s': unknown %s '%s'", op, name, k, k, tostring(o[k])))
      end
    end
  end
  if o.dev ~= nil then
    local L = link()
    local idx, err, eno = L._resolve(op, o.dev)
    if not idx then
      return nil, string.format("%s %s: %s (dev '%s')", op, name, err:match(": (.*)$"),
        tostring(type(o.dev) == "table" and o.dev.name or o.dev)), eno
    end
    s.dev = idx
  end
  local ok, err, eno = core.send(cmd, s, op, name)
  if ok and cmd == "add" then require("vnet.session").own_route(s, name) end
  if not ok and eno == E.ESRCH and not err:find("%)$") then
    err = err .. " (no route matches)" -- ESRCH, the kernel's word for it
  end
  return ok, err, eno
end

--- route.add{dst =, via =, dev =, ...} -> true | nil, msg, errno
function M.add(o) return send("add", o) end
--- route.del{dst =, ...} -> true | nil, msg, errno (the first route that matches)
function M.del(o) return send("del", o) end
--- route.replace{dst =, ...} -> true | nil, msg, errno (add, or replace the one there)
function M.replace(o) return send("replace", o) end

local function named(rs)
  local L = require "vnet.link.core"
  for _, r in ipairs(rs) do
    if r.dev then r.ifindex = r.dev; r.dev = L.name(r.dev) or r.dev end
  end
  return rs
end

--- route.list([{family = "inet"|"inet6", table = "main"|"all"|name|number}])
-- -> { route, ... } | nil, msg, errno (the main table unless asked)
function M.list(o)
  o = opts.check("route.list", o, { family = "string", table = { "string", "integer" } })
  if o.family and o.family ~= "inet" and o.family ~= "inet6" then
    raise("route.list: option 'family' must be inet or inet6 (got '" .. o.family .. "')")
  end
  local t = 254
  if o.table == "all" then t = 0
  elseif o.table ~= nil then
    t = core.number("table", o.table)
    if not t then raise("route.list: option 'table': unknown table '" .. tostring(o.table) .. "'") end
  end
  local rs, err, eno = core.list(o.family, t, "route.list")
  if not rs then return nil, err, eno end
  return require("vnet.show").mark("vnet.route.list", named(rs), "vnet.route") -- as `ip route`
end

--- route.get(address [, {src =, dev =}]) -> the route the kernel would use
-- for address | nil, msg, errno
function M.get(dst, o)
  if type(dst) ~= "string" then raise("route.get: expected an address (got " .. type(dst) .. ")") end
  o = opts.check("route.get", o, { src = "string", dev = { "string", "integer", "table", "userdata" } })
  local oif
  if o.dev ~= nil then
    local err, eno
    oif, err, eno = link()._resolve("route.get", o.dev)
    if not oif then return nil, err, eno end
  end
  local r, err, eno = core.get(dst, o.src, oif, "route.get")
  if not r then return nil, err, eno end
  return require("vnet.show").mark("vnet.route", named({ r })[1])
end

return M
