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

return proto
