--- vnet.netdevsim: simulated network hardware (the kernel's netdevsim
-- driver, made for testing what tools do with real NICs: ethtool
-- settings, offloads, devlink). A netdevsim device is made on its sysfs
-- bus, not over rtnetlink; its ports appear as Ethernet links in the
-- namespace that made it.
--
--    local d = assert(vnet.netdevsim.create{ ports = 2, names = { "sim0", "sim1" } })
--    print(d.id, d.links[1].name, d.links[2].name)   --> 1  sim0  sim1
--    d:delete()                                      -- the device and its ports
--
-- Options: id (1 to 65535; default the lowest free one), ports (1 to 64,
-- default 1), queues (1 to 256, default 1), names (new names for the
-- ports, in order). The kernel needs the netdevsim module loaded
-- (`modprobe netdevsim`); without it: nil, "netdevsim.create: this kernel
-- has no 'netdevsim' support (...)", 95.
local opts = require "vnet._opts"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
-- (Debian's kernels do not build the module; the full-kernel lane builds
-- it from Debian's linux-source against the kernel's headers: lane.build.)
local M = {}
local BUS = "/sys/bus/netdevsim"
M._bus = BUS -- (specs point it elsewhere to test the failure paths)

local Dev = { __name = "vnet.netdevsim" }
Dev.__index = Dev

-- (a directory opens for reading too; new_device, write-only, does not:
-- so the bus is looked for by its devices/ directory)
local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() return true end
  return false
end

local function write(path, text)
  local f, err, eno = io.open(path, "w")
  if not f then return nil, err, eno end
  local ok, werr, weno = f:write(text)
  if ok then ok, werr, weno = f:close() else f:close() end
  if not ok then return nil, werr, weno end
  return true
end

-- The ports' links: those whose parent device on the bus is this one
-- (IFLA_PARENT_DEV_NAME "netdevsimID"), in port order.
local function ports(id)
  local link = require "vnet.link"
  local all, err, eno = link.list()
  if not all then return nil, err, eno end
  local t = {}
  for _, l in ipairs(all) do
    if l.parent_dev == "netdevsim" .. id then t[#t + 1] = l end
  end
  local function port(l) return tonumber((l.port_name or ""):match("^p(%d+)$")) or l.ifindex end
  table.sort(t, function(a, b) return port(a) < port(b) end)
  return t
end

--- netdevsim.create{id =, ports =, queues =, names = {...}} -> device | nil, msg, errno
local function create(o)
  local op = "netdevsim.create"
  o = opts.check(op, o or {}, { id = "integer", ports = "integer", queues = "integer",
    names = "table" })
  local function range(key, lo, hi)
    local v = o[key]
    if v ~= nil and (v < lo or v > hi) then
      raise(string.format("%s: option '%s' must be %d to %d (got %d)", op, key, lo, hi, v))
    end
  end
  range("id", 1, 65535); range("ports", 1, 64); range("queues", 1, 256)
  local nports = o.ports or 1
  for i, n in ipairs(o.names or {}) do
    if type(n) ~= "string" then
      raise(string.format("%s: option 'names'[%d] must be a string (got %s)", op, i, type(n)))
    end
    opts.ifname(op, n)
  end
  if #(o.names or {}) > nports then
    raise(string.format("%s: option 'names' has %d names for %d port(s)", op, #o.names, nports))
  end
  if not exists(M._bus .. "/devices") then
    return nil, op .. ": this kernel has no 'netdevsim' support (no " .. M._bus ..
      ": modprobe netdevsim)", 95
  end
  local id = o.id
  if not id then
    id = 1
    while exists(M._bus .. "/devices/netdevsim" .. id) do id = id + 1 end
  end
  local ok, err, eno = write(M._bus .. "/new_device",
    string.format("%d %d %d", id, nports, o.queues or 1))
  if not ok then
    return nil, string.format("%s netdevsim%d: %s", op, id, (err:gsub("^[^:]*: ", ""))), eno
  end
  local d = setmetatable({ id = id }, Dev)
  local links
  links, err, eno = ports(id)
  if links and #links ~= nports then
    links, err, eno = nil, string.format("%s netdevsim%d: %d of %d ports appeared in this namespace",
      op, id, #links, nports), 5
  end
  for i, n in ipairs(o.names or {}) do
    if not links then break end
    local r, rerr, reno = links[i]:set { name = n }
    if not r then links, err, eno = nil, rerr, reno end
  end
  if not links then
    d:delete()
    return nil, err, eno
  end
  d.links = ports(id) or links
  return d
end

--- dev:delete() -> true | nil, msg, errno: the device and its ports go
function Dev:delete()
  if self.deleted then return true end
  local ok, err, eno = write(M._bus .. "/del_device", tostring(self.id))
  if not ok then
    return nil, string.format("netdevsim.delete netdevsim%d: %s", self.id, (err:gsub("^[^:]*: ", ""))), eno
  end
  self.deleted = true
  return true
end
Dev.close = Dev.delete
Dev.__close = function(d) d:delete() end
Dev.__tostring = function(d)
  return string.format("vnet.netdevsim: netdevsim%d (%d port%s)%s", d.id, #(d.links or {}),
    #(d.links or {}) == 1 and "" or "s", d.deleted and " (deleted)" or "")
end

-- not rtnetlink: sysfs makes it (create_with), the kind's table says
-- what the full-kernel lane needs
return require("vnet._kinds").define { kind = "netdevsim", module = M,
  create_with = function() return create end,
  lane = { modules = { "netdevsim" }, build = { dir = "drivers/net/netdevsim", config = "CONFIG_NETDEVSIM" } } }
