--- fuzz/make-corpus.lua: write the seed corpus of fuzz/fuzz_proto.c.
--
--   build/vnet fuzz/make-corpus.lua fuzz/corpus     (or: make fuzz-corpus)
--
-- Each seed is the driver's header (fuzz/driver.lua: flags, l3off,
-- operations) followed by a packet: valid Ethernet, ARP, IPv4 (with
-- options, fragments), IPv6 (with extension headers), UDP, TCP (with
-- options), ICMP and ICMPv6; an ICMP error quoting a datagram (for an
-- explicit offset); and truncated and malformed ones.
local build = vnet.packet.build
local fields = vnet.proto.fields
local dir = arg[1] or "fuzz/corpus"
os.execute("mkdir -p " .. dir)

local KINDS = { eth = 0, arp = 1, ipv4 = 2, ipv6 = 3, ip = 4, icmp = 5, icmp6 = 6, udp = 7, tcp = 8 }
local LINK = { guess = 0, raw = 1, eth = 2 }

local function index(kind, name)
  for i, f in ipairs(fields[kind]) do if f == name then return i - 1 end end
  error("no field " .. kind .. "." .. name)
end

-- Operations, by name: {"view", kind [, at_l3off]}, {"set", kind, field, b, d},
-- {"read"}, {"fix"}, {"ok"}, {"swap"}, {"echo"}, {"arp"}, {"str"},
-- {"resize", n}, {"put", off}, {"link"}
local function op(o)
  local k = o[1]
  if k == "view" then return { 0, KINDS[o[2]] | (o[3] and 0x80 or 0), 0, 0 } end
  if k == "set" then return { 1, o[4] or 0, index(o[2], o[3]), o[5] or 7 } end
  local codes = { read = 2, fix = 3, ok = 4, swap = 5, echo = 6, arp = 7, str = 8, resize = 9,
    put = 10, link = 11 }
  local n = o[2] or 0
  return { codes[k], n >> 8, n & 0xff, 0 }
end

local function seed(name, p, link, ops, l3off)
  ops = ops or {}
  local flags = LINK[link or "guess"] | (l3off and 4 or 0) | (#ops << 3)
  local bytes = { string.char(flags, l3off or 0) }
  for _, o in ipairs(ops) do bytes[#bytes + 1] = string.char(table.unpack(op(o))) end
  bytes[#bytes + 1] = type(p) == "string" and p or p:sub()
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(table.concat(bytes))
  f:close()
end

local E = { src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02" }
local A4 = { src = "10.0.0.1", dst = "10.0.0.2", id = 4660, df = true }
local A6 = { src = "fe80::1", dst = "2001:db8::2" }

local udp4 = build { ipv4 = A4, udp = { sport = 5000, dport = 53 }, payload = "hello" }
local tcp4 = build { ipv4 = A4, tcp = { sport = 4000, dport = 80, seq = 1000, ack = 2000,
  flags = "SA", mss = 1460, sack_ok = true, ts = { 1, 2 }, wscale = 7 }, payload = "data" }
local icmp4 = build { ipv4 = A4, icmp = { id = 7, seq = 1 }, payload = ("x"):rep(56) }
local udp6 = build { ipv6 = A6, udp = { sport = 5000, dport = 53 }, payload = "hello6" }
local tcp6 = build { ipv6 = A6, tcp = { sport = 4000, dport = 80, flags = "PA" }, payload = "abc" }
local echo6 = build { ipv6 = A6, icmp6 = { id = 1, seq = 2 }, payload = "ping" }
local ns6 = build { ipv6 = { src = "fe80::1", dst = "ff02::1:ff00:2", hlim = 255 },
  icmp6 = { type = "neighbor-solicitation", target = "fe80::2" } }
local ext6 = build { ipv6 = { src = "fe80::1", dst = "fe80::2", ext = {
  { type = 0, data = "\1\4\0\0\0\0" }, { type = 60, data = "" }, { type = 43, data = "\0\0\0\0\0\0" },
  { type = 44, data = "\0\0\0\0\0\1" } } }, udp = { sport = 1, dport = 2 }, payload = "ext" }
local arpreq = build { arp = { sha = E.src, spa = "10.0.0.1", tpa = "10.0.0.2" } }
local arprep = build { arp = { op = "reply", sha = E.src, spa = "10.0.0.1", tha = E.dst, tpa = "10.0.0.2" } }
local vlan = build { eth = { src = E.src, dst = E.dst, vlan = { 100, 5 }, pcp = 3 }, ipv4 = A4,
  udp = { sport = 1, dport = 2 }, payload = "q" }
local opts4 = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", options = "\7\7\4\0\0\0\0" },
  tcp = { sport = 1, dport = 2, flags = "S" } }
local frag1 = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", mf = true },
  udp = { sport = 1, dport = 2 }, payload = ("f"):rep(16) }
local frag2 = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2", frag = 3, proto = 17 },
  payload = ("g"):rep(16) }
-- an ICMP port unreachable quoting udp4 (the quoted IPv4 header at 28)
local unreach = build { ipv4 = { src = "10.0.0.2", dst = "10.0.0.1" },
  icmp = { type = 3, code = 3, rest = 0 }, payload = udp4 }

seed("ipv4-udp", udp4, "raw", { { "view", "udp" }, { "set", "udp", "dport", 0, 99 },
  { "view", "ipv4" }, { "set", "ipv4", "src", 0, 1 }, { "fix" }, { "ok" } })
seed("ipv4-udp-guess", udp4)
seed("ipv4-tcp-options", tcp4, "raw", { { "view", "tcp" }, { "set", "tcp", "mss", 5, 40 },
  { "set", "tcp", "sport", 1, 2 }, { "read" }, { "str" } })
seed("ipv4-icmp-echo", icmp4, "raw", { { "echo" }, { "ok" }, { "swap" } })
seed("ipv6-udp", udp6, "raw", { { "view", "ipv6" }, { "set", "ipv6", "dst", 0, 2 }, { "ok" } })
seed("ipv6-tcp", tcp6, "raw", { { "view", "ip" }, { "set", "ipv6", "hlim", 0, 1 } })
seed("ipv6-icmp6-echo", echo6, "raw", { { "echo" }, { "view", "icmp6" }, { "read" } })
seed("ipv6-ns", ns6, "raw", { { "view", "icmp6" }, { "set", "icmp6", "target", 0, 3 } })
seed("ipv6-ext-headers", ext6, "raw", { { "view", "udp" }, { "set", "udp", "sport", 0, 5 } })
seed("eth-ipv4-udp", build { eth = E, ipv4 = A4, udp = { sport = 1, dport = 2 } }, "eth")
seed("arp-request", arpreq, "eth", { { "arp" }, { "view", "arp" }, { "read" } })
seed("arp-reply", arprep, "eth", { { "view", "arp" }, { "set", "arp", "spa", 0, 1 } })
seed("eth-vlan-udp", vlan, "eth", { { "view", "eth" }, { "set", "eth", "pcp", 0, 5 },
  { "view", "udp" }, { "swap" }, { "str" } })
seed("ipv4-options-tcp", opts4, "raw", { { "view", "ipv4" }, { "read" }, { "resize", 30 }, { "read" } })
seed("ipv4-first-fragment", frag1, "raw", { { "fix" }, { "ok" } })
seed("ipv4-later-fragment", frag2, "raw", { { "str" } })
seed("icmp-unreach-quoting-udp", unreach, "raw", { { "view", "ipv4", true }, { "set", "ipv4", "src", 0, 3 },
  { "view", "udp", true }, { "set", "udp", "sport", 0, 9 }, { "fix" } }, 28)

-- truncated and malformed
local s = udp4:sub()
seed("trunc-ipv4-3", s:sub(1, 3), "raw")
seed("trunc-ipv4-udp-24", s:sub(1, 24), "raw")
seed("trunc-tcp-30", tcp4:sub():sub(1, 30), "raw")
seed("trunc-ipv6-ext", ext6:sub():sub(1, 50), "raw")
seed("trunc-eth-10", vlan:sub():sub(1, 10), "eth")
seed("trunc-vlan-16", vlan:sub():sub(1, 16), "eth")
seed("bad-ihl", "\x44" .. s:sub(2), "raw")
seed("len-past-end", s:sub(1, 2) .. "\0\255" .. s:sub(5), "raw")
seed("udp-len-past-end", s:sub(1, 24) .. "\0\255" .. s:sub(27), "raw")
seed("tcp-bad-doff", tcp4:sub():sub(1, 32) .. "\64" .. tcp4:sub():sub(34), "raw")
local loop6 = ext6:sub()
seed("ipv6-ext-loop", loop6:sub(1, 40) .. "\0" .. loop6:sub(42), "raw")
seed("empty", "", "raw")

-- corners: nine VLAN tags (one too many), every IPv6 extension header
-- kind, a view read after its frame was cut
local tags = ("\x81\x00\x00\x05"):rep(9)
seed("eth-9-vlan-tags", ("\2"):rep(12) .. tags .. "\x08\x00" .. udp4:sub(), "eth")
local all = {}
for _, t in ipairs { 0, 60, 43, 44, 51, 135, 139, 140, 253, 254, 60 } do
  all[#all + 1] = { type = t, data = t == 44 and "\0\0\0\0\0\0" or ("\0"):rep(6) }
end
seed("ipv6-every-ext-header", build { ipv6 = { src = "fe80::1", dst = "fe80::2", ext = all },
  udp = { sport = 1, dport = 2 } }, "raw", { { "view", "udp" }, { "str" } })
seed("eth-view-after-cut", vlan, "eth", { { "view", "eth" }, { "resize", 14 }, { "read" } })

-- UDP whose right checksum is 0 (sent as 0xffff): found by trying the
-- two payload bytes. Then: as it is, with a wrong checksum, and a setter
-- whose incremental result is 0.
local z = build { ipv4 = A4, udp = { sport = 7, dport = 9 }, payload = "\0\0" }
for v = 0, 0xffff do
  z:set_u16(28, v)
  z:fix_checksums()
  if z:udp().csum == 0xffff then break end
end
seed("udp-zero-checksum", z, "raw", { { "ok" }, { "fix" } })
local wrong = z:copy()
wrong:udp().csum = 0x1234
seed("udp-zero-checksum-wrong", wrong, "raw", { { "ok" } })
local before = z:copy()
before:udp().dport = 10 -- setting dport back to 9 gives 0 again
seed("udp-set-to-zero-checksum", before, "raw", { { "view", "udp" }, { "set", "udp", "dport", 0, 9 } })

-- issue 9: a routing header with segments left (the pseudo-header's
-- destination is the final one), an AH longer than 8 bytes (4-byte
-- units), an ARP frame of another hardware type, and a zero partial
-- checksum (needs_csum, toggled by the "link" operation with 3 << 8)
local FINAL = "\xfd" .. ("\0"):rep(14) .. "\x99"
local srh = build { ipv6 = { src = "fd00::1", dst = "fd00::2", ext = { { type = 43,
  data = "\4\1\1\0\0\0" .. FINAL .. ("\0"):rep(15) .. "\2" } } },
  udp = { sport = 1, dport = 2 }, payload = "srh" }
seed("ipv6-srh-segments-left", srh, "raw", { { "view", "ipv6" }, { "set", "ipv6", "dst", 0, 3 },
  { "ok" }, { "swap" }, { "view", "ipv6" }, { "set", "ipv6", "src", 0, 1 }, { "echo" } })
seed("ipv6-ah-24", build { ipv6 = { src = "fd00::1", dst = "fd00::2", ext = { { type = 51,
  data = ("\0"):rep(18) } } }, tcp = { sport = 1, dport = 2, flags = "S" } }, "raw",
  { { "view", "tcp" }, { "set", "tcp", "dport", 0, 4 } })
local arp37 = arpreq:copy()
arp37:set_u16(14, 37); arp37:set_u16(16, 0)
seed("arp-htype-37", arp37, "eth", { { "view", "arp" }, { "arp" } })
local partial = build { ipv4 = A4, udp = { sport = 5000, dport = 53 }, payload = "hello" }
partial:set_u16(26, 0)
seed("udp-partial-zero", partial, "raw", { { "link", 3 << 8 }, { "ok" }, { "view", "ipv4" },
  { "set", "ipv4", "src", 0, 1 }, { "fix" }, { "ok" } })
print("seeds written to " .. dir)
