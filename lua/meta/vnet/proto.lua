---@meta vnet.proto

---vnet.proto: header views on packets, checksums and reply helpers (the
---methods eth, ipv4, ..., fix_checksums, swap, echo_reply, arp_reply, dump
---of vnet.Packet), and the one description of every header field, which
---the views, packet.build and the fuzzer all read.
---
---Example:
---```lua
---local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = { dport = 53 } }
---local udp = p:udp(); if udp.dport == 53 then udp.dport = 5353 end
---```
---@class vnet.proto
local proto = {}

---The field names of each kind of view, in header order:
---`fields.ipv4 = { "version", "ihl", ... }`.
---@type table<string, string[]>
proto.fields = nil

---Where each field is: `layout.ipv4.ttl = { off = 8, width = 1, ... }`.
---@type table<string, table<string, table>>
proto.layout = nil

---IPv6 extension headers: `ip6ext[51] = { name = "ah", unit = 4, bias = 2 }`.
---@type table<integer, table>
proto.ip6ext = nil

---The VLAN tag types: `{ 0x8100, 0x88a8, 0x9100 }`.
---@type integer[]
proto.vlan_tpids = nil

---A one-to-one address map applied to a packet in one C call, for a NAT
---that runs per packet: `nat:dst(p)` rewrites a destination that is a key
---to its value, `nat:src(p)` a source that is a value back to its key (the
---replies). Checksums stay right as with the views' setters (`ip.dst =
---...`): the IPv4 header, the TCP/UDP/ICMPv6 pseudo-header, an offload
---packet's partial checksum. Keys and values are IPv4 or IPv6 text, one
---family per pair, no value twice (a reply could not be mapped back), at
---most 65536 pairs; misuse raises. Only the outer IP header changes, not
---the headers an ICMP error quotes.
---
---Example:
---```lua
---local nat = vnet.proto.nat { ["10.200.0.99"] = "10.200.0.2" }
---local p = vnet.packet.build { ipv4 = { src = "10.200.0.1", dst = "10.200.0.99" },
---                              udp = { sport = 5000, dport = 53 } }
---print(nat:dst(p), p)   --> true  IP 10.200.0.1.5000 > 10.200.0.2.53: UDP, length 0
---print(p:checksums_ok(), nat:dst(p), #nat)   --> true  false  1
---```
---@param map table<string, string> virtual address -> real address
---@return vnet.Nat
function proto.nat(map) end

---A map made by vnet.proto.nat. `#nat` is its number of pairs.
---@class vnet.Nat
local Nat = {}

---Rewrite p's IP destination if it is a key of the map, to its value.
---
---Example:
---```lua
---local nat = vnet.proto.nat { ["10.200.0.99"] = "10.200.0.2" }
---local p = vnet.packet.build { ipv4 = { src = "10.200.0.1", dst = "10.200.0.99" }, icmp = { type = 8 } }
---print(nat:dst(p), p:ipv4().dst, nat:dst(p))   --> true  10.200.0.2  false
---```
---@param p vnet.Packet
---@param l3off? integer where the IP header is (default: found)
---@return boolean|nil rewritten true, or false when not in the map; nil when p is not IP
---@return string? why
function Nat:dst(p, l3off) end

---Rewrite p's IP source if it is a value of the map, to its key: the
---reply of what nat:dst sent on.
---
---Example:
---```lua
---local nat = vnet.proto.nat { ["10.200.0.99"] = "10.200.0.2" }
---local reply = vnet.packet.build { ipv4 = { src = "10.200.0.2", dst = "10.200.0.1" }, udp = { sport = 53, dport = 5000 } }
---print(nat:src(reply), reply)   --> true  IP 10.200.0.99.53 > 10.200.0.1.5000: UDP, length 0
---```
---@param p vnet.Packet
---@param l3off? integer where the IP header is (default: found)
---@return boolean|nil rewritten true, or false when not in the map; nil when p is not IP
---@return string? why
function Nat:src(p, l3off) end

---The map as text again.
---
---Example:
---```lua
---local nat = vnet.proto.nat { ["10.200.0.99"] = "10.200.0.2", ["fd00::99"] = "fd00::2" }
---print(nat:pairs()["fd00::99"], #nat)   --> fd00::2  2
---```
---@return table<string, string>
function Nat:pairs() end

return proto
