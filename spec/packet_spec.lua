-- vnet.packet: the byte buffer, its accessors and their bounds.
local packet = vnet.packet

describe("vnet.packet", function()
  it("builds from a string or a size", function()
    local p = packet.new("\x45\x00\x00\x54")
    assert.are.equal(4, #p)
    assert.are.equal("\x45\x00\x00\x54", p:sub())
    local z = packet.new(10)
    assert.are.equal(("\0"):rep(10), z:sub())
    assert.is_true(packet.is(p))
    assert.is_false(packet.is("x"))
    assert.are.equal("vnet.packet: 4 bytes", tostring(p))
  end)

  it("reads and writes u8/u16/u32 in network byte order at 0-based offsets", function()
    local p = packet.new(8)
    p:set_u8(0, 0x45)
    p:set_u16(2, 0x1234)
    p:set_u32(4, 0xdeadbeef)
    assert.are.equal("\x45\x00\x12\x34\xde\xad\xbe\xef", p:sub())
    assert.are.same({ 0x45, 0x1234, 0xdeadbeef }, { p:u8(0), p:u16(2), p:u32(4) })
    assert.are.equal(0xadbe, p:u16(5))
  end)

  it("raises on offsets and values out of range, naming the method, at the caller's line (issue 9)", function()
    local p = packet.new(4)
    local here = "spec/packet_spec.lua:"
    local function raises(msg, fn)
      local ok, err = pcall(fn)
      assert.is_false(ok)
      assert.are.equal(here .. debug.getinfo(2, "l").currentline .. ": " .. msg, err)
    end
    raises("packet:u8: offset 4 out of range (1-byte access, packet length 4)", function() return p:u8(4) end)
    raises("packet:u32: offset 1 out of range (4-byte access, packet length 4)", function() return p:u32(1) end)
    raises("packet:u16: offset -1 out of range (2-byte access, packet length 4)", function() return p:u16(-1) end)
    raises("packet:set_u8: value 256 out of range 0..255", function() p:set_u8(0, 256) end)
    raises("packet:set_u16: value -1 out of range 0..65535", function() p:set_u16(0, -1) end)
    raises("packet:u8: offset must be an integer (got string)", function() return p:u8("x") end)
    raises("packet:u8: offset must be an integer (got 1.5)", function() return p:u8(1.5) end)
    raises("packet:set_u32: value must be an integer (got 2.5)", function() p:set_u32(0, 2.5) end)
    raises("packet:resize: length must be an integer (got 1.5)", function() p:resize(1.5) end)
    raises("packet:sub: start must be an integer (got 1.5)", function() return p:sub(1.5) end)
    raises("packet.new: size must be an integer from 0 to 16 MiB (got 1.5)", function() return packet.new(1.5) end)
    raises("packet: no settable field 'nosuch'", function() p.nosuch = 1 end)
  end)

  it("follows string.sub for sub(i, j)", function()
    local s = "abcdefgh"
    local p = packet.new(s)
    for _, ij in ipairs { { 1, 3 }, { -3, -1 }, { 0, 2 }, { 5, 100 }, { 4, 2 }, { -100, 2 }, { 3 } } do
      assert.are.equal(s:sub(ij[1], ij[2]), p:sub(ij[1], ij[2]))
    end
  end)

  it("hexdumps with offsets and printable characters", function()
    local p = packet.new("ABCDEFGHIJKLMNOPQ\0")
    assert.are.equal(
      "0000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP\n" ..
      "0010  51 00                                             Q.", p:hex())
    assert.are.equal("", packet.new(0):hex())
  end)

  it("copies into an independent packet, and compares by bytes", function()
    local p = packet.new("hello")
    local q = p:copy()
    assert.are.equal(p, q)
    assert.is_false(rawequal(p, q))
    q:set_u8(0, 0x48)
    assert.are.equal("hello", p:sub())
    assert.are.equal("Hello", q:sub())
    assert.are_not.equal(p, q)
  end)

  it("puts bytes in, growing the packet, and resizes", function()
    local p = packet.new("abc")
    p:put(1, "XY")
    assert.are.equal("aXY", p:sub())
    p:put(5, packet.new("zz"))
    assert.are.equal("aXY\0\0zz", p:sub())
    p:resize(2)
    assert.are.equal("aX", p:sub())
    p:resize(4)
    assert.are.equal("aX\0\0", p:sub())
    assert.has_error(function() p:resize(p.capacity + 1) end)
  end)

  it("computes the Internet checksum of a range", function()
    -- the IPv4 header example of RFC 1071 / Wikipedia: checksum 0xb861
    local h = packet.new("\x45\x00\x00\x73\x00\x00\x40\x00\x40\x11\x00\x00\xc0\xa8\x00\x01\xc0\xa8\x00\xc7")
    assert.are.equal(0xb861, h:csum(0, 20))
    h:set_u16(10, 0xb861)
    assert.are.equal(0, h:csum(0, 20))
    assert.are.equal(packet.new("\x01"):csum(0), 0xfeff) -- odd length pads with zero
    assert.has_error(function() h:csum(10, 20) end)
  end)

  it("extends every packet through the method table", function()
    packet.methods.first = function(p) return p:u8(0) end
    assert.are.equal(0x61, packet.new("a"):first())
    packet.methods.first = nil
  end)
end)
