--- vnet.veth: virtual Ethernet pairs. What goes in one end comes out of
-- the other; put the ends in two namespaces to join them.
--
--    local a, b = assert(vnet.veth.create("vethA", "vethB"))
--    local a, b = assert(vnet.veth.create("v0", "v1", { peer_netns = ns }))
--    local a, b = assert(vnet.veth.create{ name = "v0", peer = "v1",
--                                          peer_address = "02:00:00:00:00:02" })
--    print(a:peer().name)          --> v1 (found from a's IFLA_LINK, in ns)
--
-- As the seed says, "a veth's peer can be found from its id": a.parent is
-- the peer's ifindex and a.netns_id the id of the peer's namespace when it
-- is elsewhere; `a:peer()` follows them. Deleting either end deletes both.
--
-- Options, besides link.create's (name, mtu, address, up, netns, ...):
--    peer          the other end's name (default: the kernel picks vethN)
--    peer_netns    create the other end straight in this namespace (ns
--                  object, name or pid)
--    peer_address, peer_mtu, peer_up   the other end's MAC, MTU, state
-- numtxqueues and numrxqueues apply to both ends and default to 1 (the
-- kernel's default is one per CPU with one in use; trimming the rest
-- costs an RCU grace period per end, a third of a create's time).
-- create returns both ends: a, b | nil, msg, errno.
local kinds = require "vnet._kinds"
local pair = require "vnet._pair"

local VETH_INFO_PEER = 1

--- veth.create(name, peer [, options]) or veth.create{name =, peer =, ...}
-- -> a, b (both ends as link objects) | nil, msg, errno
return kinds.define {
  kind = "veth",
  options = pair.options(),
  check = pair.check,
  finish = pair.finish(VETH_INFO_PEER, nil, true),
  after = pair.after,
  create_with = pair.create,
  create_many_with = require("vnet._batch").pair_create_many,
  lane = { modules = { "veth" }, probe = "type veth peer name kp-veth1" },
}
