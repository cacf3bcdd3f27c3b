--- vnet: Lua-scriptable Linux virtual network devices.
-- require "vnet" loads every module; in the vnet host it is the global
-- `vnet`. Modules: vnet.tun, vnet.tap, vnet.loop, vnet.packet, vnet.link,
-- vnet.netns.
local vnet = { version = "0.1.0" }
for _, name in ipairs { "packet", "loop", "link", "netns", "tun", "tap" } do
  vnet[name] = require("vnet." .. name)
end
return vnet
