rockspec_format = "3.0"
package = "vnet"
version = "scm-1"
source = {
  url = "git+file:///dev/null", -- built from a checkout: luarocks make rocks/vnet-scm-1.rockspec
}
description = {
  summary = "Lua-scriptable Linux virtual network devices: TUN/TAP, links, packets, an event loop",
  detailed = [[
vnet wraps TUN/TAP, rtnetlink (libnl-route) and an epoll event loop so Lua
scripts can build virtual network devices and process their packets.]],
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
external_dependencies = {
  LIBNL = { header = "libnl3/netlink/netlink.h", library = "nl-3" },
  LIBNL_ROUTE = { library = "nl-route-3" },
  LIBPCAP = { header = "pcap/pcap.h", library = "pcap" },
}
build = {
  type = "builtin",
  modules = {
    -- one library; its luaopen_vnet_<module>_core openers are found by
    -- Lua's all-in-one loader for require "vnet.tun.core" and the others
    vnet = {
      -- every .c of the library layers (core/util, packet, io, netlink;
      -- spec/layers_spec.lua checks the list against the folders)
      sources = {
        "core/util/addrtext.c", "core/util/signame.c", "core/util/util.c",
        "core/packet/cache.c", "core/packet/csum.c", "core/packet/describe.c",
        "core/packet/field.c", "core/packet/gso.c", "core/packet/packet.c",
        "core/packet/parse.c", "core/packet/proto.c", "core/packet/rewrite.c",
        "core/io/bpf.c", "core/io/dev.c", "core/io/devwrite.c",
        "core/io/loop.c", "core/io/loopmod.c", "core/io/macvtap.c",
        "core/io/pcap.c", "core/io/pcapfile.c", "core/io/pcapng.c",
        "core/io/ping.c", "core/io/psock.c", "core/io/ring.c",
        "core/io/task.c", "core/io/tun.c", "core/io/watcher.c",
        "core/netlink/addr.c", "core/netlink/exec.c", "core/netlink/inaddr.c",
        "core/netlink/link.c", "core/netlink/neigh.c", "core/netlink/netns.c",
        "core/netlink/nl.c", "core/netlink/nla.c", "core/netlink/nsid.c",
        "core/netlink/route.c", "core/netlink/session.c", "core/netlink/tc.c",
        "core/netlink/watch.c",
      },
      incdirs = { "$(LIBNL_INCDIR)/libnl3", "core" },
      libdirs = { "$(LIBNL_LIBDIR)" },
      libraries = { "nl-route-3", "nl-3", "pcap", "m" },
    },
    ["vnet.init"] = "lua/vnet/init.lua",
    ["vnet._opts"] = "lua/vnet/_opts.lua",
    ["vnet.dev"] = "lua/vnet/dev.lua",
    ["vnet.link"] = "lua/vnet/link.lua",
    ["vnet.loop"] = "lua/vnet/loop.lua",
    ["vnet.netns"] = "lua/vnet/netns.lua",
    ["vnet.packet"] = "lua/vnet/packet.lua",
    ["vnet.proto"] = "lua/vnet/proto.lua",
    ["vnet.build"] = "lua/vnet/build.lua",
    ["vnet.pcap"] = "lua/vnet/pcap.lua",
    ["vnet.psock"] = "lua/vnet/psock.lua",
    ["vnet.tap"] = "lua/vnet/tap.lua",
    ["vnet.tun"] = "lua/vnet/tun.lua",
    ["vnet.session"] = "lua/vnet/session.lua",
    ["vnet.show"] = "lua/vnet/show.lua",
    ["vnet._json"] = "lua/vnet/_json.lua",
    ["vnet._journal"] = "lua/vnet/_journal.lua",
    -- links, addresses, routes, neighbours, events and the link kinds
    ["vnet._kinds"] = "lua/vnet/_kinds.lua",
    ["vnet._linkspec"] = "lua/vnet/_linkspec.lua",
    ["vnet.addr"] = "lua/vnet/addr.lua",
    ["vnet.route"] = "lua/vnet/route.lua",
    ["vnet.neigh"] = "lua/vnet/neigh.lua",
    ["vnet.watch"] = "lua/vnet/watch.lua",
    ["vnet.tc"] = "lua/vnet/tc.lua",
    ["vnet._tcunits"] = "lua/vnet/_tcunits.lua",
    ["vnet._caller"] = "lua/vnet/_caller.lua",
    ["vnet.topo"] = "lua/vnet/topo.lua",
    ["vnet._topocheck"] = "lua/vnet/_topocheck.lua",
    ["vnet._topolive"] = "lua/vnet/_topolive.lua",
    ["vnet._toposhow"] = "lua/vnet/_toposhow.lua",
    ["vnet._topoping"] = "lua/vnet/_topoping.lua",
    ["vnet._topoexec"] = "lua/vnet/_topoexec.lua",
    ["vnet.veth"] = "lua/vnet/veth.lua",
    ["vnet.macvlan"] = "lua/vnet/macvlan.lua",
    ["vnet.macvtap"] = "lua/vnet/macvtap.lua",
    ["vnet.ipvlan"] = "lua/vnet/ipvlan.lua",
    ["vnet.ipvtap"] = "lua/vnet/ipvtap.lua",
    ["vnet.bridge"] = "lua/vnet/bridge.lua",
    ["vnet.vlan"] = "lua/vnet/vlan.lua",
    ["vnet.vxlan"] = "lua/vnet/vxlan.lua",
    ["vnet.dummy"] = "lua/vnet/dummy.lua",
    ["vnet.ifb"] = "lua/vnet/ifb.lua",
    ["vnet.bond"] = "lua/vnet/bond.lua",
    ["vnet.gre"] = "lua/vnet/gre.lua",
    ["vnet.gretap"] = "lua/vnet/gretap.lua",
    ["vnet.ipip"] = "lua/vnet/ipip.lua",
    ["vnet.sit"] = "lua/vnet/sit.lua",
    ["vnet.ip6tnl"] = "lua/vnet/ip6tnl.lua",
    ["vnet.vti"] = "lua/vnet/vti.lua",
    ["vnet.geneve"] = "lua/vnet/geneve.lua",
    ["vnet.vrf"] = "lua/vnet/vrf.lua",
    ["vnet._pair"] = "lua/vnet/_pair.lua",
    ["vnet._hardware"] = "lua/vnet/_hardware.lua",
    ["vnet.ip6gre"] = "lua/vnet/ip6gre.lua",
    ["vnet.ip6gretap"] = "lua/vnet/ip6gretap.lua",
    ["vnet.erspan"] = "lua/vnet/erspan.lua",
    ["vnet.ip6erspan"] = "lua/vnet/ip6erspan.lua",
    ["vnet.hsr"] = "lua/vnet/hsr.lua",
    ["vnet.vcan"] = "lua/vnet/vcan.lua",
    ["vnet.vxcan"] = "lua/vnet/vxcan.lua",
    ["vnet.nlmon"] = "lua/vnet/nlmon.lua",
    ["vnet.macsec"] = "lua/vnet/macsec.lua",
    ["vnet.netkit"] = "lua/vnet/netkit.lua",
    ["vnet.netdevsim"] = "lua/vnet/netdevsim.lua",
    ["vnet.lowpan"] = "lua/vnet/lowpan.lua",
    ["vnet.ipoib"] = "lua/vnet/ipoib.lua",
    ["vnet.rmnet"] = "lua/vnet/rmnet.lua",
  },
}
