--- vnet.rmnet: a Qualcomm RmNet mux channel (one data session of a cellular
-- modem) on the modem's raw-IP link. The parent must be such a link
-- (link_type rawip, from qmi_wwan or ipa); on a parent of any other type,
-- create says so (nil, "... needs a modem's raw-IP link ...", 19).
--
--    local r = assert(vnet.rmnet.create{ name = "rmnet0", link = "wwan0", mux_id = 1 })
-- Options, besides link.create's: mux_id (1 to 254).
--- rmnet.create{name =, link =, mux_id =} -> link | nil, msg, errno
return require("vnet._hardware").define { kind = "rmnet", needs = { "0x207", "rawip" },
  what = "a modem's raw-IP link (ARPHRD_RAWIP, from qmi_wwan or ipa)",
  options = { mux_id = { attr = 1, fmt = "u16", min = 1, max = 254 } } }
