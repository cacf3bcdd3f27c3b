--- vnet.packet: a byte buffer holding one packet.
--
-- Offsets of the accessors are 0-based, as in protocol diagrams:
-- `p:u8(9)` is the IPv4 protocol byte, `p:u16(2)` the IPv4 total length.
-- Values are in network byte order. `p:sub(i, j)` follows `string.sub`
-- (1-based, inclusive), so `p:sub()` is the whole packet as a string.
--
-- The packet a device hands to `on_packet` (and returns from `:read()`) is
-- one reused object per device, valid until the next packet arrives: call
-- `p:copy()` to keep it. This is what keeps the hot path free of
-- allocation.
--
--    local p = vnet.packet.new("\x45\x00\x00\x14")
--    print(#p, p:u8(0), p:u16(2))     --> 4  69  20
--    p:set_u16(2, 40)
--    print(p:hex())
--
-- Methods: u8, u16, u32 (off) and set_u8, set_u16, set_u32 (off, v);
-- put(off, bytes) copies a string or packet in (growing the packet);
-- resize(n); sub(i, j); hex(); copy(). Fields: pi_flags, pi_proto (TUN/TAP
-- opened with pi = true), capacity. `p1 == p2` compares bytes.
--
-- Header views (p:ipv4(), p:udp(), ...), checksums, reply helpers and the
-- tostring summary come from vnet.proto; packet.build from vnet.build (see
-- docs/packets.md).
local core = require "vnet.packet.core"
require "vnet.proto"

local M = {
  --- packet.new(string) -> packet holding those bytes;
  -- packet.new(n) -> packet of n zero bytes.
  new = core.new,
  --- packet.is(v) -> true when v is a packet.
  is = core.is,
  --- The method table: add methods here to extend every packet.
  methods = core.methods,
  --- packet.build(spec [, p]) -> packet: see vnet.build.
  build = require("vnet.build").build,
}

return M
