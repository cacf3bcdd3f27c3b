--- vnet.tap: TAP devices (layer 2, Ethernet frames). The same API as
-- vnet.tun: open{...}, delete(name), features(); see vnet.tun.
return require("vnet.tun")._module("tap")
