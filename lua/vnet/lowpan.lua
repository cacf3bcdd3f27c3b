--- vnet.lowpan: 6LoWPAN (IPv6 over IEEE 802.15.4 low-power radios) on a
-- wpan parent. A wpan link comes from a radio driver (or the kernel's
-- mac802154_hwsim), never from vnet: on a parent of any other type,
-- create says so (nil, "... needs an IEEE 802.15.4 (wpan) link ...", 19).
--
--    local l = assert(vnet.lowpan.create{ name = "lowpan0", link = "wpan0" })
--- lowpan.create{name =, link =} -> link | nil, msg, errno
return require("vnet._hardware").define { kind = "lowpan", needs = { "ieee802.15.4" },
  what = "an IEEE 802.15.4 (wpan) link, from a radio driver or mac802154_hwsim" }
