--- vnet.dev: what every packet device (TUN, TAP) can do beyond
-- read/write/fileno/close and cqueues' pollfd/events/timeout, which are in
-- C (docs/event-loops.md: devices in luv and cqueues).
--
--    dev:on_packet(fn [, {to = dev2}])  fn(pkt, dev) for each packet read,
--                          from vnet.loop; returns the watcher (:stop() ends
--                          it). pkt is the device's one reused packet:
--                          pkt:copy() to keep it. With `to`, fn's result is a
--                          verdict and the loop writes pkt: nil or true to
--                          dev2, false nowhere, a device to that one
--                          (docs/packets.md: forwarding).
--    dev:up(), dev:down()  set the link up or down
--    dev:mtu([n])          the MTU, or set it
--    dev:addr_add(cidr [, {peer = addr}]), dev:addr_del(cidr), dev:addrs()
--    dev:link()            the device as a vnet.link object (kind, flags,
--                          stats, master, :set{netns=, master=, ...})
--
--    dev:wait_packet([timeout]) in a task: the next packet, or nil, why
--                          (see vnet.loop)
--    dev:counters()        { rx_packets, rx_bytes, tx_packets, tx_bytes,
--                          tx_dropped, handler_calls, handler_errors,
--                          handler_drops (verdict false), handler_time (s in
--                          on_packet dispatch), kept }
--    dev:keep(n [, snaplen]) keep copies of the last n packets read (off
--                          by default; 0 turns it off), each cut at
--                          snaplen bytes (2048)
--    dev:recent()          { {packet = copy, time = t, len = n}, ... }
--                          oldest first
--
-- All of them return nil, msg, errno on failure, as vnet.link does.
local core = require "vnet.tun.core"
local loop = require "vnet.loop"
local lcore = require "vnet.loop.core"
local link = require "vnet.link"

local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local opts_check = require("vnet._opts").check

local methods = core.methods
local M = { methods = methods }

-- Every method refuses what is not a device (dev.up(x) for dev:up()) and a
-- closed device, as the C ones do.
local function live(dev)
  local mt = getmetatable(dev)
  if type(mt) ~= "table" or rawget(mt, "methods") ~= methods then
    raise(string.format("expected a packet device (call its methods with ':'; got %s)", type(dev)))
  end
  if dev.closed then raise("attempt to use a closed " .. dev.kind) end
  return dev
end


local function is_dev(x)
  return rawget(getmetatable(x) or {}, "methods") == methods
end

-- dev:on_packet and loop.on_packet, op naming the one called
function M.on_packet(op, dev, fn, opts)
  if not is_dev(dev) then raise(string.format("%s: expected a packet device (got %s)", op, type(dev))) end
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    raise(string.format("%s: expected a function (got %s)", op, type(fn)))
  end
  local to = type(opts) == "table" and opts.to
  if to == true or (to and not is_dev(to)) then
    local what = type(to) == "userdata" and rawget(getmetatable(to) or {}, "__name") or tostring(to)
    raise(string.format("%s: option 'to' must be a packet device or false (got %s)", op,
      type(to) == "string" and "'" .. to .. "'" or what))
  end
  to = opts_check(op, opts, { to = { "userdata", "boolean" } }).to
  if to and to.closed then raise(string.format("%s: option 'to' is a closed %s", op, to.kind)) end
  live(dev)
  return lcore.on_packet(dev, fn, to)
end

--- dev:on_packet(fn [, {to = dev2 | false}]) -> watcher; on a device with
-- a handler: swaps it (and `to`, when opts name it; else `to` stays)
function methods.on_packet(dev, fn, opts)
  return M.on_packet((is_dev(dev) and dev.kind or "dev") .. ":on_packet", dev, fn, opts)
end

function methods.wait_packet(dev, timeout)
  return loop.wait_packet(dev, timeout)
end

methods.counters, methods.keep, methods.recent = lcore.counters, lcore.keep, lcore.recent

function methods.up(dev)
  return link.set(live(dev), { up = true })
end

function methods.down(dev)
  return link.set(live(dev), { up = false })
end

function methods.mtu(dev, n)
  if n == nil then return link.mtu(live(dev)) end
  return link.set(live(dev), { mtu = n })
end

-- errors name the method as the user called it: "tap:addr_add tap0: ..."
function methods.addr_add(dev, cidr, o)
  return require("vnet.addr")._send(live(dev).kind .. ":addr_add", "add", dev, cidr, o)
end

function methods.addr_del(dev, cidr, o)
  return require("vnet.addr")._send(live(dev).kind .. ":addr_del", "del", dev, cidr, o)
end

function methods.addrs(dev)
  return require("vnet.addr")._list(live(dev).kind .. ":addrs", dev)
end

--- dev:link() -> the device's vnet.link object | nil, msg, errno
function methods.link(dev)
  return link.get(live(dev).ifindex)
end

return M
