--- vnet.build: make packets from a description; `vnet.packet.build`.
--
--    local p = packet.build {
--      eth  = { src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02" }, -- optional
--      ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", ttl = 64 },
--      udp  = { sport = 5000, dport = 53 },
--      payload = "hello",
--    }
--
-- One key per layer, at most one of each group, stacked in this order:
-- eth; then arp, ipv4 or ipv6; then udp, tcp, icmp or icmp6; then payload
-- (a string or packet). Lengths, protocol numbers, the ethertype and every
-- checksum are filled in. The list form of the issue works too:
-- `build{ {eth = {...}}, {ipv4 = {...}}, {udp = {...}}, payload = "..." }`.
-- Without eth the packet is raw IP (as a TUN carries it); `arp` without
-- eth gets one: broadcast for a request, to `tha` for a reply (so a reply
-- without eth needs tha). build(spec, p) builds into the packet p instead
-- of a new one.
--
-- Where each field goes (offset, width, bits) and its range come from the
-- views' own description, proto.core.layout, and the IPv6 extension
-- header lengths from proto.core.ip6ext: the builder writes what the
-- parser reads.
--
-- Layer fields (defaults in brackets):
--   eth:   dst [ff:ff:ff:ff:ff:ff], src [00:00:00:00:00:00], type [auto],
--          vlan (a VID, or a list of them, outermost first), pcp [0]
--   arp:   op ("request" | "reply" | n) [request], sha [eth.src], spa,
--          tha [00:00:00:00:00:00], tpa
--   ipv4:  src, dst, ttl [64], tos [0], id [0], df [false], mf [false],
--          frag [0], proto [auto], options (bytes, padded to 4) [""]
--   ipv6:  src, dst, hlim or ttl [64], tc [0], flow [0], nh [auto],
--          ext (list of {type = n, data = bytes}; fragment: type 44 and
--          data of 6 bytes; AH, type 51, counts its length in 4-byte
--          units) [none]
--   udp:   sport [0], dport [0]
--   tcp:   sport [0], dport [0], seq [0], ack [0], flags ("SA", "PA", ...
--          letters F S R P A U E C, or a number) [""], win [65535], urp
--          [0], options (bytes) or mss, wscale, sack_ok, ts = {val, ecr}
--   icmp:  type ("echo-request" | "echo-reply" | n) [echo-request],
--          code [0], id [0], seq [0] (or rest, the 32 bits after the csum)
--   icmp6: type ("echo-request" | "echo-reply" | "neighbor-solicitation"
--          | "neighbor-advertisement" | "router-solicitation" | n)
--          [echo-request], code [0], id, seq (or rest), target (NS/NA)
--
-- Misuse raises (unknown keys, bad addresses, values out of range).
local core = require "vnet.packet.core"
local proto = require "vnet.proto.core"
require "vnet.proto"

local spack = string.pack
local LAYOUT, IP6EXT, TPIDS, pton = proto.layout, proto.ip6ext, proto.vlan_tpids, proto.pton

local KNOWN = {
  eth = { "dst", "src", "type", "vlan", "pcp" },
  arp = { "op", "sha", "spa", "tha", "tpa" },
  ipv4 = { "src", "dst", "ttl", "tos", "id", "df", "mf", "frag", "proto", "options" },
  ipv6 = { "src", "dst", "hlim", "ttl", "tc", "flow", "nh", "ext" },
  udp = { "sport", "dport" },
  tcp = { "sport", "dport", "seq", "ack", "flags", "win", "urp", "options", "mss",
          "wscale", "sack_ok", "ts" },
  icmp = { "type", "code", "id", "seq", "rest" },
  icmp6 = { "type", "code", "id", "seq", "rest", "target" },
}
local ORDER = { "eth", "arp", "ipv4", "ipv6", "udp", "tcp", "icmp", "icmp6", "payload" }

local HERE = debug.getinfo(1, "S").source

-- Raise at the level of the caller of build (the first frame elsewhere).
local function fail(fmt, ...)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if not info or (info.source ~= HERE and info.what ~= "C") then break end
    level = level + 1
  end
  error("packet.build: " .. string.format(fmt, ...), level)
end

local function checkkeys(layer, t)
  if type(t) ~= "table" then fail("%s must be a table (got %s)", layer, type(t)) end
  local known = {}
  for _, k in ipairs(KNOWN[layer]) do known[k] = true end
  for k in pairs(t) do
    if not known[k] then
      fail("unknown %s field '%s' (known: %s)", layer, tostring(k),
        table.concat(KNOWN[layer], ", "))
    end
  end
end

-- t[k] (or default) as an integer in 0..max; max defaults to the range of
-- the layout's field `k` of `layer`.
local function int(layer, t, k, default, max)
  local v = t[k]
  if v == nil then v = default end
  if math.type(v) ~= "integer" then
    fail("%s.%s must be an integer (got %s)", layer, k, v == nil and "nil" or math.type(v) or type(v))
  end
  max = max or LAYOUT[layer].fields[k].max
  if v < 0 or v > max then fail("%s.%s: %d out of range 0..%d", layer, k, v, max) end
  return v
end

local function bool(layer, t, k)
  local v = t[k]
  if v ~= nil and type(v) ~= "boolean" then
    fail("%s.%s must be a boolean (got %s)", layer, k, type(v))
  end
  return v and 1 or 0
end

local function named(layer, t, k, names, default, max)
  local v = t[k]
  if type(v) == "string" then
    if names[v] == nil then fail("%s.%s: unknown name '%s'", layer, k, v) end
    return names[v]
  end
  return int(layer, t, k, default, max)
end

local function required(layer, t, k)
  if t[k] == nil then fail("%s.%s is required", layer, k) end
end

local WHAT = { ip4 = "an IPv4 address", ip6 = "an IPv6 address", mac = "a MAC address" }

-- t[k] (or default), an address for field k of `layer`, as its bytes.
local function address(layer, t, k, default)
  local v, ty = t[k], LAYOUT[layer].fields[k].type
  if v == nil then v = default end
  local b = type(v) == "string" and pton(ty, v)
  if ty == "ip4" and math.type(v) == "integer" and v >= 0 and v <= 0xffffffff then
    b = spack(">I4", v)
  end
  if not b then
    fail("%s.%s: %s is not %s", layer, k, type(v) == "string" and "'" .. v .. "'"
      or math.type(v) == "integer" and tostring(v) or type(v), WHAT[ty])
  end
  return b
end

-- The fixed header of `kind` (layout size, or n bytes), with the fields in
-- vals (name -> integer, boolean, or address bytes) written where the
-- layout says.
local function header(kind, vals, n)
  local lay, b = LAYOUT[kind], {}
  for i = 1, n or lay.size do b[i] = 0 end
  for name, v in pairs(vals) do
    local f = lay.fields[name]
    if type(v) == "string" then
      for i = 1, #v do b[f.off + i] = v:byte(i) end
    else
      local x = ((v == true and 1 or v == false and 0 or v) << f.shift) & f.mask
      for i = f.off + f.width, f.off + 1, -1 do
        b[i] = b[i] | (x & 0xff)
        x = x >> 8
      end
    end
  end
  return string.char(table.unpack(b))
end

local ICMP_TYPES = { ["echo-request"] = 8, ["echo-reply"] = 0 }
local ICMP6_TYPES = {
  ["echo-request"] = 128, ["echo-reply"] = 129, ["router-solicitation"] = 133,
  ["router-advertisement"] = 134, ["neighbor-solicitation"] = 135,
  ["neighbor-advertisement"] = 136,
}
local TCP_FLAGS = { F = 0x01, S = 0x02, R = 0x04, P = 0x08, A = 0x10, U = 0x20,
  E = 0x40, C = 0x80 }

local function tcp_flags(t)
  local f = t.flags
  if type(f) ~= "string" then return int("tcp", t, "flags", 0) end
  local n = 0
  for c in f:gmatch(".") do
    local bit = TCP_FLAGS[c:upper()]
    if not bit then fail("tcp.flags: unknown flag '%s' (use F S R P A U E C)", c) end
    n = n | bit
  end
  return n
end

local function tcp_options(t)
  if t.options ~= nil then
    if type(t.options) ~= "string" then fail("tcp.options must be a string") end
    return t.options
  end
  local o, K = {}, LAYOUT.tcp.options -- kinds and lengths, as the views read them
  local function opt(name, fmt, ...) o[#o + 1] = spack(">BB" .. fmt, K[name].kind, K[name].len, ...) end
  if t.mss ~= nil then opt("mss", "I2", int("tcp", t, "mss", 0, 0xffff)) end
  if t.sack_ok then opt("sack_ok", "") end
  if t.ts ~= nil then
    if type(t.ts) ~= "table" then fail("tcp.ts must be {val, ecr}") end
    local ts = { val = t.ts[1] or 0, ecr = t.ts[2] or 0 }
    opt("ts", "I4I4", int("tcp", ts, "val", 0, 0xffffffff), int("tcp", ts, "ecr", 0, 0xffffffff))
  end
  if t.wscale ~= nil then o[#o + 1] = "\1"; opt("wscale", "B", int("tcp", t, "wscale", 0, 14)) end
  return table.concat(o)
end

local function pad(s, n, byte)
  local r = #s % n
  return r == 0 and s or s .. (byte or "\0"):rep(n - r)
end

-- The default length rule: RFC 8200's 8-byte units, not counting the first.
local GENERIC = { unit = 8, bias = 1, fixed = 0 }

local function ipv6_ext(ext, nh)
  if ext == nil then return "", nil end
  if type(ext) ~= "table" then fail("ipv6.ext must be a list") end
  local parts, first = {}, nil
  for i, e in ipairs(ext) do
    local et = int("ipv6.ext[" .. i .. "]", e, "type", nil, 255)
    local data = e.data or ""
    if type(data) ~= "string" then fail("ipv6.ext[%d].data must be a string", i) end
    local nxt = ext[i + 1] and ext[i + 1].type or nh
    local row = IP6EXT[et] or GENERIC
    if row.fixed > 0 then
      if #data ~= row.fixed - 2 then
        fail("ipv6.ext[%d]: a %s header has %d bytes of data", i, row.name, row.fixed - 2)
      end
      parts[i] = spack(">BB", nxt, 0) .. data
    else
      data = data .. ("\0"):rep((6 - #data) % 8) -- Pad1 options to 8n bytes
      local len = (#data + 2) // row.unit - row.bias
      if len > 255 then fail("ipv6.ext[%d]: %d bytes of data (too long)", i, #data) end
      parts[i] = spack(">BB", nxt, len) .. data
    end
    first = first or et
  end
  return table.concat(parts), first
end

--- packet.build(spec [, p]) -> packet (see above).
local function build(spec, into)
  if type(spec) ~= "table" then fail("spec must be a table (got %s)", type(spec)) end
  local s = {}
  for k, v in pairs(spec) do
    if math.type(k) == "integer" then
      if type(v) ~= "table" then fail("layer %d must be a table", k) end
      for lk, lv in pairs(v) do s[lk] = lv end
    else
      s[k] = v
    end
  end
  for k in pairs(s) do
    if not KNOWN[k] and k ~= "payload" then
      fail("unknown layer '%s' (known: %s)", tostring(k), table.concat(ORDER, ", "))
    end
  end
  for layer in pairs(KNOWN) do if s[layer] ~= nil then checkkeys(layer, s[layer]) end end
  local function one(group)
    local found
    for _, k in ipairs(group) do
      if s[k] ~= nil then
        if found then fail("both %s and %s given; a packet has one", found, k) end
        found = k
      end
    end
    return found
  end
  local l3 = one { "arp", "ipv4", "ipv6" }
  local l4 = one { "udp", "tcp", "icmp", "icmp6" }
  if l4 and not (l3 == "ipv4" or l3 == "ipv6") then fail("%s needs ipv4 or ipv6", l4) end
  if l4 == "icmp" and l3 ~= "ipv4" then fail("icmp needs ipv4 (use icmp6 with ipv6)") end
  if l4 == "icmp6" and l3 ~= "ipv6" then fail("icmp6 needs ipv6 (use icmp with ipv4)") end
  local payload = s.payload or ""
  if core.is(payload) then payload = payload:sub() end
  if type(payload) ~= "string" then fail("payload must be a string or packet") end
  local eth = s.eth
  if l3 == "arp" and eth == nil then
    local a = s.arp
    local reply = named("arp", a, "op", { request = 1, reply = 2 }, 1) == 2
    if reply and a.tha == nil then
      fail("arp.tha is required for a reply without eth (the frame goes to tha)")
    end
    eth = { src = a.sha, dst = reply and a.tha or nil }
  end
  if eth == nil and l3 == nil then fail("nothing to build: give eth, arp, ipv4 or ipv6") end

  -- the transport, then the network header around it
  local t4, proto = "", nil
  if l4 == "udp" then
    local t = s.udp
    t4 = header("udp", { sport = int("udp", t, "sport", 0), dport = int("udp", t, "dport", 0),
      len = 8 + #payload })
    proto = 17
  elseif l4 == "tcp" then
    local t = s.tcp
    local opts = pad(tcp_options(t), 4)
    if #opts > 40 then fail("tcp options of %d bytes (at most 40)", #opts) end
    t4 = header("tcp", { sport = int("tcp", t, "sport", 0), dport = int("tcp", t, "dport", 0),
      seq = int("tcp", t, "seq", 0), ack = int("tcp", t, "ack", 0), doff = (20 + #opts) // 4,
      flags = tcp_flags(t), win = int("tcp", t, "win", 65535), urp = int("tcp", t, "urp", 0) })
      .. opts
    proto = 6
  elseif l4 == "icmp" or l4 == "icmp6" then
    local t = s[l4]
    local v = { type = named(l4, t, "type", l4 == "icmp" and ICMP_TYPES or ICMP6_TYPES,
      l4 == "icmp" and 8 or 128), code = int(l4, t, "code", 0) }
    if t.rest ~= nil then v.rest = int(l4, t, "rest", 0)
    else v.id, v.seq = int(l4, t, "id", 0), int(l4, t, "seq", 0) end
    -- the target is written here, not through a view: a view needs the
    -- first fragment, and this may be built as a later one
    if t.target ~= nil then v.target = address(l4, t, "target") end
    t4 = header(l4, v, t.target ~= nil and LAYOUT[l4].fields.target.off + 16 or nil)
    proto = l4 == "icmp" and 1 or 58
  end
  local body = t4 .. payload
  local l3b, etype = "", nil
  if l3 == "ipv4" then
    local t = s.ipv4
    required("ipv4", t, "src"); required("ipv4", t, "dst")
    local opts = t.options or ""
    if type(opts) ~= "string" then fail("ipv4.options must be a string") end
    opts = pad(opts, 4)
    if #opts > 40 then fail("ipv4 options of %d bytes (at most 40)", #opts) end
    local total = 20 + #opts + #body
    if total > 0xffff then fail("ipv4 packet of %d bytes (at most 65535)", total) end
    l3b = header("ipv4", { version = 4, ihl = (20 + #opts) // 4, tos = int("ipv4", t, "tos", 0),
      len = total, id = int("ipv4", t, "id", 0), df = bool("ipv4", t, "df"),
      mf = bool("ipv4", t, "mf"), frag = int("ipv4", t, "frag", 0),
      ttl = int("ipv4", t, "ttl", 64), proto = int("ipv4", t, "proto", proto or 0),
      src = address("ipv4", t, "src"), dst = address("ipv4", t, "dst") }) .. opts
    etype = 0x0800
  elseif l3 == "ipv6" then
    local t = s.ipv6
    required("ipv6", t, "src"); required("ipv6", t, "dst")
    local nh = int("ipv6", t, "nh", proto or 59)
    local ext, first = ipv6_ext(t.ext, nh)
    if #ext + #body > 0xffff then fail("ipv6 payload of %d bytes (at most 65535)", #ext + #body) end
    l3b = header("ipv6", { version = 6, tc = int("ipv6", t, "tc", 0),
      flow = int("ipv6", t, "flow", 0), plen = #ext + #body, nh = first or nh,
      hlim = t.hlim ~= nil and int("ipv6", t, "hlim", 64) or int("ipv6", t, "ttl", 64),
      src = address("ipv6", t, "src"), dst = address("ipv6", t, "dst") }) .. ext
    etype = 0x86dd
  elseif l3 == "arp" then
    local t = s.arp
    required("arp", t, "spa"); required("arp", t, "tpa")
    l3b = header("arp", { htype = 1, ptype = 0x0800, hsize = 6, psize = 4,
      op = named("arp", t, "op", { request = 1, reply = 2 }, 1),
      sha = address("arp", t, "sha", eth and eth.src or "00:00:00:00:00:00"),
      spa = address("arp", t, "spa"), tha = address("arp", t, "tha", "00:00:00:00:00:00"),
      tpa = address("arp", t, "tpa") })
    etype = 0x0806
  end
  local l2b = ""
  if eth then
    local vl = eth.vlan
    if type(vl) ~= "table" then vl = { vl } end
    local tags = {}
    for i, vid in ipairs(vl) do -- outer tags 802.1ad, the inner one 802.1Q
      local tag = { vid = vid, pcp = i == 1 and eth.pcp or 0 }
      tags[i] = spack(">I2I2", (#vl > 1 and i < #vl) and TPIDS[2] or TPIDS[1],
        int("eth", tag, "pcp", 0, 7) << 13 | int("eth.vlan", tag, "vid", nil, 0xfff))
    end
    if etype == nil and eth.type == nil then
      fail("eth.type is needed when no arp, ipv4 or ipv6 layer follows")
    end
    local mac = header("eth", { dst = address("eth", eth, "dst", "ff:ff:ff:ff:ff:ff"),
      src = address("eth", eth, "src", "00:00:00:00:00:00") }, 12)
    l2b = mac .. table.concat(tags) .. spack(">I2", int("eth", eth, "type", etype, 0xffff))
  end
  local bytes = l2b .. l3b .. body
  local p = into
  if p then
    p:resize(0)
    p:put(0, bytes)
  else
    p = core.new(bytes)
  end
  p:linktype(eth and "eth" or "raw")
  assert(p:fix_checksums())
  return p
end

return { build = build }
