---@meta vnet.packet

---vnet.packet: a byte buffer holding one packet. Accessor offsets are
---0-based, as in protocol diagrams (`p:u8(9)` is the IPv4 protocol byte);
---values are in network byte order. The packet a device hands to
---on_packet (and returns from :read()) is one reused object per device,
---valid until the next packet arrives: `p:copy()` keeps it. Header views,
---checksums and reply helpers come from vnet.proto (docs/packets.md).
---
---Example:
---```lua
---local p = vnet.packet.new("\x45\x00\x00\x14")
---print(#p, p:u8(0), p:u16(2))     --> 4  69  20
---```
---@class vnet.packet
local packet = {}

---A packet holding the bytes of a string, or n zero bytes.
---
---Example:
---```lua
---local p = vnet.packet.new(64)
---local q = vnet.packet.new("\x45\x00")
---```
---@param s string|integer the bytes, or a length
---@return vnet.Packet p
function packet.new(s) end

---True when v is a packet.
---
---Example:
---```lua
---print(vnet.packet.is(vnet.packet.new(1)), vnet.packet.is("x"))   --> true  false
---```
---@param v any
---@return boolean
function packet.is(v) end

---Build a packet from a description: one key per layer (eth; arp, ipv4 or
---ipv6; udp, tcp, icmp or icmp6; payload). Lengths, protocol numbers, the
---ethertype and every checksum are filled in; without eth it is raw IP (as
---a TUN carries it). With p, build into p instead of a new packet. Misuse
---(unknown layer or field, bad value) raises. The fields are listed in
---lua/vnet/build.lua and docs/packets.md.
---
---Example:
---```lua
---local p = vnet.packet.build {
---  ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", ttl = 64 },
---  udp = { sport = 5000, dport = 53 },
---  payload = "hello",
---}
---print(p)   --> IP 10.0.0.1.5000 > 10.0.0.2.53: UDP, length 5
---```
---@param spec table the layers
---@param p? vnet.Packet build into this packet
---@return vnet.Packet p
function packet.build(spec, p) end

---The method table of every packet: add a function here to extend all
---packets.
---@type table<string, function>
packet.methods = nil

---One packet's bytes (vnet.packet): `#p` is its length, `p1 == p2`
---compares bytes, `tostring(p)` is a tcpdump-like summary. Fields pi_flags,
---pi_proto (a TUN/TAP opened with pi = true), capacity.
---@class vnet.Packet
---@field capacity integer bytes the buffer holds without growing
---@field pi_flags? integer packet-information flags (pi = true)
---@field pi_proto? integer packet-information protocol (pi = true)
local Packet = {}

---The byte at off (0-based).
---
---Example:
---```lua
---print(vnet.packet.new("\x45"):u8(0))   --> 69
---```
---@param off integer
---@return integer
function Packet:u8(off) end

---The 16-bit big-endian value at off.
---
---Example:
---```lua
---print(vnet.packet.new("\x00\x14"):u16(0))   --> 20
---```
---@param off integer
---@return integer
function Packet:u16(off) end

---The 32-bit big-endian value at off.
---
---Example:
---```lua
---print(vnet.packet.new("\0\0\1\0"):u32(0))   --> 256
---```
---@param off integer
---@return integer
function Packet:u32(off) end

---Set the byte at off.
---
---Example:
---```lua
---local p = vnet.packet.new(4); p:set_u8(0, 0x45)
---```
---@param off integer
---@param v integer 0..255
function Packet:set_u8(off, v) end

---Set the 16-bit big-endian value at off.
---
---Example:
---```lua
---local p = vnet.packet.new(4); p:set_u16(2, 40)
---```
---@param off integer
---@param v integer 0..65535
function Packet:set_u16(off, v) end

---Set the 32-bit big-endian value at off.
---
---Example:
---```lua
---local p = vnet.packet.new(4); p:set_u32(0, 0x45000014)
---```
---@param off integer
---@param v integer
function Packet:set_u32(off, v) end

---Copy bytes (a string or packet) in at off, growing the packet as needed.
---
---Example:
---```lua
---local p = vnet.packet.new(2); p:put(2, "abc")   -- #p == 5
---```
---@param off integer
---@param bytes string|vnet.Packet
function Packet:put(off, bytes) end

---Set the length to n; new bytes are zero.
---
---Example:
---```lua
---local p = vnet.packet.new("abc"); p:resize(1)
---```
---@param n integer
function Packet:resize(n) end

---Bytes i to j as a string, as string.sub (1-based, inclusive);
---`p:sub()` is the whole packet.
---
---Example:
---```lua
---print(vnet.packet.new("hello"):sub(2, 3))   --> el
---```
---@param i? integer
---@param j? integer
---@return string
function Packet:sub(i, j) end

---A hex dump: the offset, 16 bytes in hex, then the printable characters,
---a line per 16 bytes.
---
---Example:
---```lua
---print(vnet.packet.new("\1\2"):hex())   --> 0000  01 02 ...
---```
---@return string
function Packet:hex() end

---A new packet with the same bytes (and link type): keeps a reused packet.
---
---Example:
---```lua
---local keep = vnet.packet.new("x"):copy()
---```
---@return vnet.Packet
function Packet:copy() end

---The Internet checksum (RFC 1071) of len bytes from off, ready to store:
---a range holding its own correct checksum gives 0.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" } }
---print(p:csum(0, 20))   --> 0
---```
---@param off integer
---@param len integer
---@return integer
function Packet:csum(off, len) end

---The Ethernet view, or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ eth = { src = "02:00:00:00:00:01" }, arp = { spa = "10.0.0.1", tpa = "10.0.0.2" } }
---print(p:eth().src)   --> 02:00:00:00:00:01
---```
---@return vnet.View? eth
---@return string? why
function Packet:eth() end

---The ARP view (l3off: where the ARP header starts), or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ arp = { spa = "10.0.0.1", tpa = "10.0.0.2" } }
---print(p:arp().tpa)   --> 10.0.0.2
---```
---@param l3off? integer
---@return vnet.View? arp
---@return string? why
function Packet:arp(l3off) end

---The IPv4 view, or nil, why. Setting a field writes the packet and fixes
---the checksums it covers.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" } }
---local ip = p:ipv4(); ip.ttl = ip.ttl - 1
---```
---@param l3off? integer
---@return vnet.View? ipv4
---@return string? why
function Packet:ipv4(l3off) end

---The IPv6 view, or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv6 = { src = "fd00::1", dst = "fd00::2" } }
---print(p:ipv6().hlim)   --> 64
---```
---@param l3off? integer
---@return vnet.View? ipv6
---@return string? why
function Packet:ipv6(l3off) end

---The IPv4 or IPv6 view, whichever the packet holds, or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv6 = { src = "fd00::1", dst = "fd00::2" } }
---print(p:ip().dst)   --> fd00::2
---```
---@param l3off? integer
---@return vnet.View? ip
---@return string? why
function Packet:ip(l3off) end

---The ICMP view, or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, icmp = { id = 7 } }
---print(p:icmp().id)   --> 7
---```
---@param l3off? integer
---@return vnet.View? icmp
---@return string? why
function Packet:icmp(l3off) end

---The ICMPv6 view, or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv6 = { src = "fd00::1", dst = "fd00::2" }, icmp6 = { seq = 3 } }
---print(p:icmp6().seq)   --> 3
---```
---@param l3off? integer
---@return vnet.View? icmp6
---@return string? why
function Packet:icmp6(l3off) end

---The UDP view, or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = { dport = 53 } }
---print(p:udp().dport)   --> 53
---```
---@param l3off? integer
---@return vnet.View? udp
---@return string? why
function Packet:udp(l3off) end

---The TCP view, or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, tcp = { dport = 80, flags = "S" } }
---print(p:tcp().dport)   --> 80
---```
---@param l3off? integer
---@return vnet.View? tcp
---@return string? why
function Packet:tcp(l3off) end

---Where the IP header is: "eth" (an Ethernet frame) or "raw" (IP first),
---and whether that was guessed from the bytes (no type set). With an
---argument, set it ("auto": guess again) and return p.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" } }
---print(p:linktype())   --> raw  false
---```
---@param set? "eth"|"raw"|"ethernet"|"auto"
---@return string|vnet.Packet linktype
---@return boolean? guessed
function Packet:linktype(set) end

---Recompute the IPv4 header checksum and the TCP/UDP/ICMP ones.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} }
---p:set_u8(8, 1); assert(p:fix_checksums())
---```
---@param l3off? integer
---@return true? ok
---@return string? why
function Packet:fix_checksums(l3off) end

---Check every checksum: true, or false and which one is wrong, or nil, why.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} }
---print(p:checksums_ok())   --> true
---```
---@param l3off? integer
---@return boolean? ok
---@return string? which
function Packet:checksums_ok(l3off) end

---Swap source and destination (MAC, IP addresses and ports), in place.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = { sport = 1, dport = 2 } }
---assert(p:swap()); print(p:ipv4().src)   --> 10.0.0.2
---```
---@param l3off? integer
---@return true? ok
---@return string? why
function Packet:swap(l3off) end

---Turn an ICMP or ICMPv6 echo request into its reply, in place.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, icmp = {} }
---assert(p:echo_reply()); print(p:icmp().type)   --> 0
---```
---@param l3off? integer
---@return true? ok
---@return string? why
function Packet:echo_reply(l3off) end

---Turn an ARP request into the reply that mac has the asked address.
---
---Example:
---```lua
---local p = vnet.packet.build{ arp = { spa = "10.0.0.1", tpa = "10.0.0.2" } }
---assert(p:arp_reply("02:00:00:00:00:02"))
---```
---@param mac string the answering MAC address
---@param l3off? integer
---@return true? ok
---@return string? why
function Packet:arp_reply(mac, l3off) end

---A multi-line text: the summary, then every field of every header found,
---then the checksum verdict.
---
---Example:
---```lua
---print(vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} }:dump())
---```
---@return string
function Packet:dump() end

---A header view (`p:ipv4()`, `p:udp()`, ...): a window on the packet's
---bytes, not a copy. Its fields are those of vnet.proto.fields[kind];
---setting one writes the packet and fixes the checksums it covers. Take it
---again after the packet changed.
---@class vnet.View
local View = {}

return packet
