--- vnet.hsr: High-availability Seamless Redundancy (IEC 62439-3): one link
-- over two Ethernet links (slave1, slave2) that sends every frame both
-- ways round a ring and drops the duplicates; proto = "prp" makes a
-- Parallel Redundancy Protocol link over two separate networks instead.
--
--    local h = assert(vnet.hsr.create{ name = "hsr0", slave1 = "eth1", slave2 = "eth2",
--                                      version = 1, supervision = 45 })
-- Options, besides link.create's: slave1, slave2 (required: links, names
-- or ifindexes), supervision (the last byte of the supervision frames'
-- multicast address 01:15:4e:00:01:XX), version (0 or 1; HSR only),
-- proto ("hsr", the default, or "prp"). Read back the same (but version,
-- which the kernel does not report), and supervision_address and seq_nr.
--- hsr.create{name =, slave1 =, slave2 =, ...} -> link | nil, msg, errno
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
return require("vnet._kinds").define {
  kind = "hsr",
  options = {
    slave1 = { attr = 1, fmt = "link" },
    slave2 = { attr = 2, fmt = "link" },
    supervision = { attr = 3, fmt = "u8" },
    supervision_address = { attr = 4, fmt = "mac", readonly = true },
    seq_nr = { attr = 5, fmt = "u16", readonly = true },
    version = { attr = 6, fmt = "u8", max = 1 },
    proto = { attr = 7, fmt = "u8", enum = { hsr = 0, prp = 1 } },
  },
  check = function(op, name, o)
    for _, k in ipairs { "slave1", "slave2" } do
      if o[k] == nil then
        raise(string.format("%s %s: option '%s' is required (one of the two links it runs over)", op, name, k))
      end
    end
  end,
  lane = { modules = { "hsr" }, probe = "type hsr slave1 kp-parent2 slave2 kp-parent3" },
}
