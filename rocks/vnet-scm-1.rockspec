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
}
build = {
  type = "builtin",
  modules = {
    -- one library; its luaopen_vnet_<module>_core openers are found by
    -- Lua's all-in-one loader for require "vnet.tun.core" and the others
    vnet = {
      sources = {
        "core/util.c", "core/packet.c", "core/dev.c", "core/tun.c",
        "core/loop.c", "core/nl.c", "core/link.c", "core/netns.c", "core/gso.c",
      },
      incdirs = { "core", "$(LIBNL_INCDIR)/libnl3" },
      libdirs = { "$(LIBNL_LIBDIR)" },
      libraries = { "nl-route-3", "nl-3", "m" },
      defines = { "_GNU_SOURCE" },
    },
    ["vnet.init"] = "lua/vnet/init.lua",
    ["vnet._opts"] = "lua/vnet/_opts.lua",
    ["vnet.dev"] = "lua/vnet/dev.lua",
    ["vnet.link"] = "lua/vnet/link.lua",
    ["vnet.loop"] = "lua/vnet/loop.lua",
    ["vnet.netns"] = "lua/vnet/netns.lua",
    ["vnet.packet"] = "lua/vnet/packet.lua",
    ["vnet.tap"] = "lua/vnet/tap.lua",
    ["vnet.tun"] = "lua/vnet/tun.lua",
  },
}
