--- vnet.netkit: a pair of devices like veth, made for BPF programs that
-- decide each packet's fate on the device itself (Linux 6.7 and later).
-- Without a program, the policy says what happens: "forward" (the
-- default) or "blackhole".
--
--    local a, b = assert(vnet.netkit.create("nk0", "nk1", { peer_netns = ns,
--                                           mode = "l2", policy = "forward" }))
-- Options, besides link.create's and the peer options of vnet.veth (peer,
-- peer_netns, peer_address, peer_mtu, peer_up): mode ("l3", the default:
-- no Ethernet header, or "l2"), policy and peer_policy ("forward",
-- "blackhole"), scrub and peer_scrub ("default", "none"), headroom,
-- tailroom. Read back the same, and primary (true on the end that was
-- created, which holds the settings). create returns both ends.
--- netkit.create(name, peer [, options]) or netkit.create{name =, peer =, ...}
-- -> a, b | nil, msg, errno
local pair = require "vnet._pair"
local NETKIT_PEER_INFO = 1
local POLICY = { forward = 0, blackhole = 2 }
return require("vnet._kinds").define {
  kind = "netkit",
  options = pair.options {
    primary = { attr = 2, fmt = "bool", readonly = true },
    policy = { attr = 3, fmt = "u32", enum = POLICY, change = true },
    peer_policy = { attr = 4, fmt = "u32", enum = POLICY, change = true },
    mode = { attr = 5, fmt = "u32", enum = { l2 = 0, l3 = 1 } },
    scrub = { attr = 6, fmt = "u32", enum = { none = 0, default = 1 } },
    peer_scrub = { attr = 7, fmt = "u32", enum = { none = 0, default = 1 } },
    headroom = { attr = 8, fmt = "u16" },
    tailroom = { attr = 9, fmt = "u16" },
  },
  check = pair.check,
  finish = pair.finish(NETKIT_PEER_INFO),
  after = pair.after,
  create_with = pair.create,
  create_many_with = require("vnet._batch").pair_create_many,
  lane = { modules = {}, probe = "type netkit" },
}
