--- vnet.dev: what every packet device (TUN, TAP) can do beyond
-- read/write/fileno/close, which are in C.
--
--    dev:on_packet(fn)     fn(pkt, dev) for each packet read, from vnet.loop;
--                          returns the watcher (:stop() ends it). pkt is the
--                          device's one reused packet: pkt:copy() to keep it.
--    dev:up(), dev:down()  set the link up or down
--    dev:mtu([n])          the MTU, or set it
--    dev:addr_add(cidr [, {peer = addr}]), dev:addr_del(cidr), dev:addrs()
--    dev:link()            the device as a vnet.link object (kind, flags,
--                          stats, master, :set{netns=, master=, ...})
--
-- All of them return nil, msg, errno on failure, as vnet.link does.
local core = require "vnet.tun.core"
local loop = require "vnet.loop"
local link = require "vnet.link"

local methods = core.methods
local M = { methods = methods }

function methods.on_packet(dev, fn)
  return loop.on_packet(dev, fn)
end

function methods.up(dev)
  return link.set(dev, { up = true })
end

function methods.down(dev)
  return link.set(dev, { up = false })
end

function methods.mtu(dev, n)
  if n == nil then return link.mtu(dev) end
  return link.set(dev, { mtu = n })
end

function methods.addr_add(dev, cidr, o)
  return link.addr_add(dev, cidr, o)
end

function methods.addr_del(dev, cidr, o)
  return link.addr_del(dev, cidr, o)
end

function methods.addrs(dev)
  return link.addrs(dev)
end

--- dev:link() -> the device's vnet.link object | nil, msg, errno
function methods.link(dev)
  return link.get(dev.ifindex)
end

return M
