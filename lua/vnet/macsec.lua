--- vnet.macsec: IEEE 802.1AE MACsec on a parent Ethernet link: frames are
-- authenticated (and with encrypt = true, encrypted) between stations
-- that share keys. This module makes the link and sets its options; the
-- secure channels and their keys (ip macsec add ... sa ...) are not made
-- here yet.
--
--    local m = assert(vnet.macsec.create{ name = "macsec0", link = "eth0",
--                                         port = 11, encrypt = true })
-- Options, besides link.create's: link (required: the parent), sci (the
-- 64-bit secure channel id) or port (1 to 65535: with the parent's MAC it
-- makes the sci), cipher ("gcm-aes-128", the default, "gcm-aes-256",
-- "gcm-aes-xpn-128", "gcm-aes-xpn-256"), icvlen (8 to 16), encrypt,
-- protect, send_sci, end_station, scb, replay, window (with replay),
-- validate ("disabled", "check", "strict"), encodingsa (0 to 3), offload
-- ("off", "phy", "mac"). Read back the same.
--- macsec.create{name =, link =, ...} -> link | nil, msg, errno
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local CIPHERS = {
  ["gcm-aes-128"] = 0x0080C20001000001, ["gcm-aes-256"] = 0x0080C20001000002,
  ["gcm-aes-xpn-128"] = 0x0080C20001000003, ["gcm-aes-xpn-256"] = 0x0080C20001000004,
}
return require("vnet._kinds").define {
  kind = "macsec",
  parent = "required",
  options = {
    sci = { attr = 1, fmt = "u64" },
    port = { attr = 2, fmt = "be16", min = 1 },
    icvlen = { attr = 3, fmt = "u8", min = 8, max = 16 },
    cipher = { attr = 4, fmt = "u64", enum = CIPHERS, change = true },
    window = { attr = 5, fmt = "u32", change = true },
    encodingsa = { attr = 6, fmt = "u8", max = 3, change = true },
    encrypt = { attr = 7, fmt = "bool", change = true },
    protect = { attr = 8, fmt = "bool", change = true },
    send_sci = { attr = 9, fmt = "bool", change = true },
    end_station = { attr = 10, fmt = "bool", change = true },
    scb = { attr = 11, fmt = "bool", change = true },
    replay = { attr = 12, fmt = "bool", change = true },
    validate = { attr = 13, fmt = "u8", enum = { disabled = 0, check = 1, strict = 2 }, change = true },
    offload = { attr = 15, fmt = "u8", enum = { off = 0, phy = 1, mac = 2 }, change = true },
  },
  check = function(op, name, o)
    if o.sci ~= nil and o.port ~= nil then
      raise(string.format("%s %s: options 'sci' and 'port' exclude each other (the sci holds the port)",
        op, name))
    end
  end,
  lane = { modules = { "macsec" }, probe = "link kp-parent4 type macsec port 11 encrypt on" },
}
