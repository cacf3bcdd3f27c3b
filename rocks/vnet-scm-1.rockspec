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
      sources = {
        "core/util.c", "core/packet.c", "core/dev.c", "core/tun.c",
        "core/loop.c", "core/nl.c", "core/link.c", "core/brvlan.c", "core/netns.c",
        "core/nla.c", "core/addr.c", "core/route.c", "core/neigh.c",
        "core/watch.c", "core/macvtap.c", "core/exec.c",
        "core/parse.c", "core/csum.c", "core/proto.c", "core/field.c",
        "core/describe.c", "core/pcap.c", "core/gso.c", "core/task.c",
        "core/watcher.c", "core/tc.c", "core/ping.c", "core/inaddr.c",
        "core/session.c", "core/psock.c", "core/bpf.c", "core/pcapfile.c",
        "core/pcapng.c",
      },
      incdirs = { "core", "$(LIBNL_INCDIR)/libnl3" },
      libdirs = { "$(LIBNL_LIBDIR)" },
      libraries = { "nl-route-3", "nl-3", "pcap", "m" },
      defines = { "_GNU_SOURCE" },
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
