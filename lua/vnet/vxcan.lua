--- vnet.vxcan: a virtual CAN tunnel: a pair of CAN interfaces, like a veth
-- pair for CAN frames; put the ends in two namespaces to join them.
--
--    local a, b = assert(vnet.vxcan.create("vxcan0", "vxcan1", { peer_netns = ns }))
-- Options, besides link.create's: peer, peer_netns, peer_address,
-- peer_mtu, peer_up, as vnet.veth. create returns both ends.
--- vxcan.create(name, peer [, options]) or vxcan.create{name =, peer =, ...}
-- -> a, b | nil, msg, errno
local pair = require "vnet._pair"
local VXCAN_INFO_PEER = 1
return require("vnet._kinds").define {
  kind = "vxcan",
  options = pair.options(),
  check = pair.check,
  finish = pair.finish(VXCAN_INFO_PEER),
  after = pair.after,
  create_with = pair.create,
  create_many_with = require("vnet._batch").pair_create_many,
  lane = { modules = { "vxcan" }, probe = "type vxcan peer name kp-vxcan1" },
}
