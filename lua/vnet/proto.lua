--- vnet.proto: header views on packets, checksums, reply helpers.
--
-- Loading it (vnet.packet does) adds these methods to every packet:
--
--    p:eth()  p:arp([l3off])  p:ipv4([l3off])  p:ipv6([l3off])  p:ip([l3off])
--    p:icmp([l3off])  p:icmp6([l3off])  p:udp([l3off])  p:tcp([l3off])
--        -> view | nil, reason
--    p:linktype() -> "eth" | "raw", guessed;  p:linktype("eth" | "raw" | "auto")
--    p:fix_checksums([l3off]) -> true | nil, reason
--    p:checksums_ok([l3off]) -> true | false, which | nil, reason
--    p:swap([l3off]) -> true | nil, reason        (addresses and ports)
--    p:echo_reply([l3off]) -> true | nil, reason  (ICMP/ICMPv6 echo)
--    p:arp_reply(mac [, l3off]) -> true | nil, reason
--    p:dump() -> a multi-line string with every field
--    tostring(p) -> "IP 10.0.0.1.5000 > 10.0.0.2.53: UDP, length 12"
--
-- A view is a window on the packet's bytes, not a copy: `ip.ttl = 1`
-- writes the packet and fixes the IPv4 header checksum; `ip.src = "..."`
-- also fixes the TCP/UDP (IPv4 and IPv6) or ICMPv6 checksum through the
-- pseudo-header. Each packet keeps one view per kind, so taking views and
-- reading fields allocates nothing in steady state. A view stays pointed
-- at the offsets found when it was taken: take it again after the packet
-- changed (a new packet arrived in the device's reused packet, or the
-- headers moved). Where the IP header is: see p:linktype and docs/packets.md.
--
--    local ip = assert(p:ip())
--    ip.ttl = ip.ttl - 1
--    local udp = p:udp()
--    if udp and udp.dport == 53 then udp.dport = 5353 end
local core = require "vnet.proto.core"
local packet = require "vnet.packet.core"

local methods = packet.methods
local M = {
  --- The field names of each kind of view, in header order:
  -- fields.ipv4 = { "version", "ihl", ... }.
  fields = core.fields,
  --- Where each field is: layout.ipv4.ttl = { off = 8, width = 1, ... }
  -- (core/packet/field.c's table, which the views, build and the fuzzer read).
  layout = core.layout,
  --- IPv6 extension headers: ip6ext[51] = { name = "ah", unit = 4, bias = 2 }.
  ip6ext = core.ip6ext,
  --- The VLAN tag types: { 0x8100, 0x88a8, 0x9100 }.
  vlan_tpids = core.vlan_tpids,
  --- nat(map) -> a one-to-one address map; nat:dst(p) rewrites a
  -- destination that is a key to its value, nat:src(p) a source that is a
  -- value back to its key, in one C call (core/packet/nat.c).
  nat = core.nat,
}

local hex = { -- fields shown in hex, and their digits
  ["eth.type"] = 4, ["arp.ptype"] = 4, ["ipv4.tos"] = 2, ["ipv6.tc"] = 2,
  ["ipv6.flow"] = 5, ["tcp.flags"] = 3, csum = 4,
}

local function show(kind, k, v)
  if k == "payload" then return #v > 0 and (#v .. " bytes") or nil end
  if k == "options" then
    if #v == 0 then return nil end
    return (v:gsub(".", function(c) return string.format("%02x", c:byte()) end))
  end
  local digits = hex[kind .. "." .. k] or hex[k]
  if digits then return string.format("0x%0" .. digits .. "x", v) end
  return tostring(v)
end

local function line(kind, view)
  local parts = {}
  for _, k in ipairs(core.fields[kind]) do
    local v = view[k]
    if v ~= nil then
      local s = show(kind, k, v)
      if s then parts[#parts + 1] = k .. "=" .. s end
    end
  end
  return string.format("%-6s %s", kind, table.concat(parts, " "))
end

--- p:dump() -> string: the one-line summary, then every field of every
-- header found, one header a line, then the checksum verdict.
function methods.dump(p)
  local out = { tostring(p) }
  local eth = p:eth()
  if eth then out[#out + 1] = line("eth", eth) end
  local arp = p:arp()
  if arp then out[#out + 1] = line("arp", arp) end
  local ip, why = p:ip()
  if ip then
    out[#out + 1] = line(ip.family == 4 and "ipv4" or "ipv6", ip)
    for _, kind in ipairs { "udp", "tcp", "icmp", "icmp6" } do
      local v = p[kind](p)
      if v then out[#out + 1] = line(kind, v) break end
    end
    local ok, bad = p:checksums_ok()
    out[#out + 1] = ok and "checksums ok" or ("checksums bad: " .. tostring(bad))
  elseif not arp and why then
    out[#out + 1] = "(" .. why .. ")"
  end
  return table.concat(out, "\n")
end

return M
