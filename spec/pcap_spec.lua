-- vnet.pcap: files written here open in tcpdump and tshark (checksum
-- validation on); files written by tcpdump and tshark, and captured live by
-- tcpdump, read back here; dev:capture records a device's traffic.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local packet, pcap, loop = vnet.packet, vnet.pcap, vnet.loop
local build = packet.build

local function tmp() return os.tmpname() end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

local UDP = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = { sport = 5000, dport = 9999 },
  payload = "hello world!" }
local ICMP6 = build { ipv6 = { src = "fd00::1", dst = "fd00::2" }, icmp6 = { id = 1, seq = 2 },
  payload = "ping" }
local ARP = build { arp = { sha = "02:00:00:00:00:01", spa = "10.0.0.1", tpa = "10.0.0.2" } }

describe("vnet.pcap", function()
  it("adds no globals", function() H.adds_no_globals("vnet.pcap") end)

  it("writes microsecond raw-IP files that tcpdump reads, time stamps included", function()
    local path = tmp()
    local w <close> = assert(pcap.open(path, "w", { linktype = "raw" }))
    assert.is_true(w:write(UDP, 1700000000.25))
    assert.is_true(w:write(ICMP6, 1700000001, 999999999)) -- microseconds: .999999
    assert.are.same({ 2, 101, false }, { w.count, w.linktype, w.nanosecond })
    assert.matches("^vnet%.pcap%.writer: .* %(2 packets%)$", tostring(w))
    assert.is_true(w:close())
    local out, code = H.sh("tcpdump -tt -nn -r " .. path)
    os.remove(path)
    assert.are.equal(0, code, out)
    assert.matches("link%-type RAW %(Raw IP%), snapshot length 262144", out)
    assert.matches("\n1700000000%.250000 IP 10%.0%.0%.1%.5000 > 10%.0%.0%.2%.9999: UDP, length 12\n", out)
    assert.matches("\n1700000001%.999999 IP6 fd00::1 > fd00::2: ICMP6, echo request, id 1, seq 2, length 12",
      out)
  end)

  it("writes nanosecond Ethernet files that tcpdump and tshark read", function()
    local path = tmp()
    do
      local w <close> = assert(pcap.open(path, "w", { linktype = "ethernet", nanosecond = true }))
      assert(w:write(ARP, 1700000000, 123456789))
      assert(w:write(build { eth = { src = "02:00:00:00:00:01" }, ipv4 = { src = "10.0.0.1",
        dst = "10.0.0.2" }, udp = { sport = 1, dport = 2 } }, 1700000000, 5))
    end -- <close> closed it
    local magic = string.unpack("<I4", slurp(path))
    assert.are.equal(0xa1b23c4d, magic)
    local out = H.sh("tcpdump --time-stamp-precision=nano -tt -nn -r " .. path)
    assert.matches("link%-type EN10MB %(Ethernet%)", out)
    assert.matches("\n1700000000%.123456789 ARP, Request who%-has 10%.0%.0%.2 tell 10%.0%.0%.1, length 28\n",
      out)
    assert.matches("\n1700000000%.000000005 IP 10%.0%.0%.1%.1 > 10%.0%.0%.2%.2: UDP, length 0", out)
    local ts = H.sh("tshark -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE -r " .. path ..
      " -T fields -e frame.time_epoch -e arp.opcode -e udp.checksum.status 2>/dev/null")
    os.remove(path)
    assert.are.equal("1700000000.123456789\t1\t\n1700000000.000000005\t\t1\n", ts)
  end)

  it("reads back what it wrote: bytes, link type and exact time stamps", function()
    for _, nano in ipairs { false, true } do
      local path = tmp()
      local w = assert(pcap.open(path, "w", { nanosecond = nano }))
      assert(w:write(ARP, 1700000000, 123456789))
      assert(w:write(ARP:sub(), 1700000002.5)) -- a string will do
      assert.are.equal(1, w.linktype) -- from the first packet: Ethernet
      w:close()
      local r <close> = assert(pcap.open(path))
      assert.are.same({ 1, nano, false }, { r.linktype, r.nanosecond, r.swapped })
      local got = {}
      for p, t, sec, nsec, orig in r:packets() do
        got[#got + 1] = { p:sub(), sec, nsec, orig, (p:linktype()) }
        assert.is_number(t)
      end
      os.remove(path)
      assert.are.same({
        { ARP:sub(), 1700000000, nano and 123456789 or 123456000, #ARP, "eth" },
        { ARP:sub(), 1700000002, 500000000, #ARP, "eth" },
      }, got)
    end
  end)

  it("gives the reader's packets views that find the headers by the file's link type", function()
    local path = tmp()
    local w = assert(pcap.open(path, "w", { linktype = "raw" }))
    assert(w:write(UDP))
    w:close()
    local r <close> = assert(pcap.open(path, "r"))
    local p = assert(r:read())
    os.remove(path)
    assert.are.same({ "raw", false }, { p:linktype() })
    assert.are.equal(9999, p:udp().dport)
    assert.is_nil(r:read()) -- the end
    assert.are.equal(p, UDP)
  end)

  it("reads files written by tcpdump and tshark, either precision", function()
    local ours = tmp()
    local w = assert(pcap.open(ours, "w", { linktype = "raw" }))
    assert(w:write(UDP, 1700000000, 1000))
    assert(w:write(ICMP6, 1700000000, 2000))
    w:close()
    local cases = {
      { "tcpdump -r %s -w %s", false },
      { "tcpdump --time-stamp-precision=nano -r %s -w %s", true },
      { "tshark -r %s -F pcap -w %s", false },
      { "tshark -r %s -F nsecpcap -w %s", true },
    }
    for _, c in ipairs(cases) do
      local theirs = tmp()
      local out, code = H.sh(string.format(c[1], ours, theirs))
      assert.are.equal(0, code, out)
      local r <close> = assert(pcap.open(theirs))
      assert.are.equal(c[2], r.nanosecond, c[1])
      local got = {}
      for p, _, sec, nsec in r:packets() do got[#got + 1] = { tostring(p), sec, nsec } end
      os.remove(theirs)
      assert.are.same({ { tostring(UDP), 1700000000, 1000 }, { tostring(ICMP6), 1700000000, 2000 } },
        got, c[1])
    end
    os.remove(ours)
  end)

  it("reads a big-endian file (swapped byte order)", function()
    local path = tmp()
    spit(path, string.pack(">I4I2I2i4I4I4I4", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101) ..
      string.pack(">I4I4I4I4", 1700000000, 42, #UDP, #UDP) .. UDP:sub())
    local r <close> = assert(pcap.open(path))
    assert.are.same({ true, false, 101, 65535 }, { r.swapped, r.nanosecond, r.linktype, r.snaplen })
    local p, t, sec, nsec = r:read()
    os.remove(path)
    assert.are.same({ UDP:sub(), 1700000000, 42000 }, { p:sub(), sec, nsec })
    assert.is_true(math.abs(t - 1700000000.000042) < 1e-6)
  end)

  it("reads what tcpdump captured live from a TUN", sandboxed(function()
    local dev <close> = assert(vnet.tun.open { name = "tpc0" })
    assert(dev:addr_add("10.9.4.1", { peer = "10.9.4.2" }))
    assert(dev:up())
    local path = tmp()
    local td = H.spawn("tcpdump -U -n -i tpc0 -c 2 -w " .. path .. " icmp")
    assert.matches("listening on tpc0", td.file:read("l"))
    os.execute("ping -c 2 -i 0.2 -W 1 10.9.4.2 >/dev/null 2>&1")
    local out, code = td.wait()
    assert.are.equal(0, code, out)
    local r <close> = assert(pcap.open(path))
    assert.are.equal(101, r.linktype) -- DLT_RAW for a TUN
    local n = 0
    for p in r:packets() do
      n = n + 1
      assert.are.same({ "10.9.4.1", "10.9.4.2", 8 }, { p:ip().src, p:ip().dst, p:icmp().type })
      assert.is_true(p:checksums_ok())
    end
    os.remove(path)
    assert.are.equal(2, n)
  end))

  it("keeps snaplen bytes and the original length", function()
    local path = tmp()
    local w = assert(pcap.open(path, "w", { linktype = "raw", snaplen = 20 }))
    assert(w:write(UDP))
    w:close()
    local r <close> = assert(pcap.open(path))
    local p, _, _, _, orig = r:read()
    os.remove(path)
    assert.are.same({ 20, #UDP, UDP:sub(1, 20) }, { #p, orig, p:sub() })
  end)

  describe("bad input", function()
    it("says why a file cannot be opened", function()
      local ok, err, eno = pcap.open("/nonexistent/x.pcap")
      assert.are.same({ nil, "pcap.open /nonexistent/x.pcap: No such file or directory", 2 }, { ok, err, eno })
      ok, err, eno = pcap.open("/nonexistent/x.pcap", "w")
      assert.are.same({ nil, "pcap.open /nonexistent/x.pcap: No such file or directory", 2 }, { ok, err, eno })
      local path = tmp()
      spit(path, "short")
      assert.are.same({ nil, "pcap.open " .. path .. ": Invalid argument (not a pcap file: shorter " ..
        "than its header)", 22 }, { pcap.open(path) })
      spit(path, ("\0"):rep(24))
      assert.are.same({ nil, "pcap.open " .. path .. ": Invalid argument (not a pcap file: magic " ..
        "0x00000000)", 22 }, { pcap.open(path) })
      local w = assert(pcap.open(path, "w", { linktype = "raw" }))
      assert(w:write(UDP))
      w:close()
      local ng = tmp()
      assert.are.equal(0, select(2, H.sh("tshark -r " .. path .. " -F pcapng -w " .. ng)))
      -- pcapng is read now, through libpcap (issue 13; spec/pcapfile_spec.lua)
      local r <close> = assert(pcap.open(ng))
      assert.are.same({ "pcapng", 101 }, { r.format, r.linktype })
      os.remove(ng)
      os.remove(path)
    end)

    it("reports truncated records: nil, msg from read, an error from the iterator", function()
      local path = tmp()
      local w = assert(pcap.open(path, "w", { linktype = "raw" }))
      assert(w:write(UDP)); assert(w:write(UDP))
      w:close()
      local s = slurp(path)
      spit(path, s:sub(1, -5))
      local r = assert(pcap.open(path))
      assert.truthy(r:read())
      assert.are.same({ nil, "pcap.read " .. path .. ": truncated record (40 bytes expected)" }, { r:read() })
      r:close()
      spit(path, s:sub(1, 24 + 16 + 40 + 7))
      r = assert(pcap.open(path))
      assert.has_error(function() for _ in r:packets() do end end,
        "pcap.read " .. path .. ": truncated record header")
      r:close()
      spit(path, s:sub(1, 24) .. string.pack("<I4I4I4I4", 0, 0, 0x7fffffff, 0x7fffffff))
      r = assert(pcap.open(path))
      assert.are.same({ nil, "pcap.read " .. path .. ": record of 2147483647 bytes is larger than " ..
        "the snaplen (262144)" }, { r:read() })
      r:close()
      assert.has_error(function() r:read() end, "attempt to use a closed pcap reader")
      os.remove(path)
    end)

    it("rejects bad options and misuse", function()
      assert.has_error(function() pcap.open("/tmp/x", "w", { linktyp = "raw" }) end,
        "pcap.open: unknown option 'linktyp' (known: linktype, nanosecond, snaplen)")
      assert.has_error(function() pcap.open("/tmp/x", "w", { linktype = "token-ring" }) end,
        "pcap.open: linktype 'token-ring' (known: raw, ethernet, or a number)")
      assert.has_error(function() pcap.open("/tmp/x", "w", { nanosecond = 1 }) end,
        "pcap.open: option 'nanosecond' must be boolean (got integer)")
      assert.has_error(function() pcap.open("/tmp/x", "a") end,
        "pcap.open: mode must be 'r' or 'w' (got a)")
      assert.has_error(function() pcap.open(42) end, "pcap.open: path must be a string (got number)")
      local path = tmp()
      local w = assert(pcap.open(path, "w"))
      assert.has_error(function() w:write(42) end)
      assert.has_error(function() w:write(UDP, -1) end)
      assert.has_error(function() w:write(UDP, 1, 1000000000) end)
      assert.is_true(w:close())
      assert.is_true(w:close()) -- twice is fine
      assert.has_error(function() w:write(UDP) end, "attempt to use a closed pcap writer")
      assert.are.equal(24, #slurp(path)) -- nothing written: an empty Ethernet file
      os.remove(path)
    end)
  end)

  describe("dev:capture", function()
    it("records every packet a TUN reads and writes, in a file tcpdump and tshark read",
      sandboxed(function()
        local dev <close> = assert(vnet.tun.open { name = "tcap0" })
        assert(dev:addr_add("10.9.5.1", { peer = "10.9.5.2" }))
        assert(dev:up())
        local path = tmp()
        local cap <close> = assert(dev:capture(path))
        assert.are.equal(101, cap.linktype)
        dev:on_packet(function(p, d)
          if p:echo_reply() then assert(d:write(p)) end
        end)
        local ping = H.spawn("ping -c 3 -i 0.2 -W 2 10.9.5.2")
        local lines = {}
        local done = loop.on_readable(ping.file, function(w)
          local line = ping.file:read("L")
          if line then lines[#lines + 1] = line else w:stop(); loop.stop() end
        end)
        loop.run { timeout = 10 }
        done:stop()
        ping.wait()
        local out = table.concat(lines)
        assert.matches("3 received", out)
        assert.is_true(dev:capture(false))
        assert.is_true(cap.closed) -- capture opened it, so stopping closed it
        local lines = H.sh("tcpdump -nn -t -r " .. path .. " icmp 2>/dev/null")
        local req = select(2, lines:gsub("ICMP echo request", ""))
        local rep = select(2, lines:gsub("ICMP echo reply", ""))
        assert.are.same({ 3, 3 }, { req, rep }, lines)
        local ts = H.sh("tshark -r " .. path .. " -Y icmp -T fields -e icmp.checksum.status " ..
          "-e ip.checksum.status -o ip.check_checksum:TRUE 2>/dev/null")
        assert.are.equal(("1\t1\n"):rep(6), ts)
        os.remove(path)
      end))

    it("shares one writer between devices, and records a TAP as Ethernet", sandboxed(function()
      local a <close> = assert(vnet.tap.open { name = "tcap1" })
      local b <close> = assert(vnet.tun.open { name = "tcap2" })
      assert(a:up())
      local path = tmp()
      local w <close> = assert(pcap.open(path, "w", { linktype = "ethernet" }))
      assert.are.equal(w, a:capture(w))
      assert(a:write(ARP))
      assert(a:capture(false))
      assert.is_false(w.closed) -- not ours to close
      assert(a:write(ARP)) -- not recorded
      assert.are.equal(1, w.count)
      local tapfile = tmp()
      local tw = assert(a:capture(tapfile))
      assert.are.equal(1, tw.linktype)
      assert(a:write(ARP))
      a:capture(false)
      assert.are.equal(1, tw.count)
      assert.has_error(function() b:capture(42) end,
        "dev:capture: path, pcap writer or false expected (got number)")
      os.remove(tapfile)
      os.remove(path)
    end))
  end)

  describe("issue 9", function()
    it("rejects a microsecond field >= 10^6 and a nanosecond one >= 10^9", function()
      local path = tmp()
      local w = assert(pcap.open(path, "w", { linktype = "raw" }))
      assert(w:write(UDP, 1, 999999000)); assert(w:write(UDP))
      w:close()
      local s = slurp(path)
      local bad = s:sub(1, 24 + 40 + 16) .. string.pack("<I4I4", 2, 1000000) .. s:sub(24 + 40 + 16 + 9)
      spit(path, bad)
      local r = assert(pcap.open(path))
      local _, _, sec, nsec = r:read()
      assert.are.same({ 1, 999999000 }, { sec, nsec })
      assert.are.same({ nil, "pcap.read " .. path .. ": record 2: microseconds 1000000 out of " ..
        "range (0..999999)" }, { r:read() })
      r:close()
      w = assert(pcap.open(path, "w", { linktype = "raw", nanosecond = true }))
      assert(w:write(UDP))
      w:close()
      s = slurp(path)
      spit(path, s:sub(1, 28) .. string.pack("<I4", 1000000000) .. s:sub(33))
      r = assert(pcap.open(path))
      assert.are.same({ nil, "pcap.read " .. path .. ": record 1: nanoseconds 1000000000 out " ..
        "of range (0..999999999)" }, { r:read() })
      r:close()
      os.remove(path)
    end)

    it("allocates by the records' sizes, not by the snaplen the file claims", function()
      local path = tmp()
      local big = build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {},
        payload = ("b"):rep(60000) }
      local w = assert(pcap.open(path, "w", { linktype = "raw" }))
      assert(w:write(UDP)); assert(w:write(big)); assert(w:write(UDP))
      w:close()
      local s = slurp(path)
      spit(path, s:sub(1, 16) .. string.pack("<I4", 0x7fffffff) .. s:sub(21)) -- snaplen 2 GiB
      collectgarbage(); collectgarbage()
      local before = collectgarbage("count")
      local r = assert(pcap.open(path))
      local grown = collectgarbage("count") - before
      assert.is_true(grown < 64, string.format("opening took %.0f KiB", grown))
      assert.are.equal(0x7fffffff, r.snaplen)
      assert.are.equal(UDP, (r:read()))
      assert.are.equal(big, (r:read()))
      local p = r:read()
      assert.are.equal(UDP, p)
      assert.are.same({ "raw", false }, { p:linktype() })
      r:close()
      -- a record header claiming more than the file holds allocates nothing
      spit(path, s:sub(1, 16) .. string.pack("<I4", 0x7fffffff) .. s:sub(21, 24) ..
        string.pack("<I4I4I4I4", 0, 0, 16 << 20, 16 << 20) .. "x")
      r = assert(pcap.open(path))
      collectgarbage(); collectgarbage()
      before = collectgarbage("count")
      assert.are.same({ nil, "pcap.read " .. path .. ": truncated record (16777216 bytes expected)" },
        { r:read() })
      assert.is_true(collectgarbage("count") - before < 1024)
      r:close()
      os.remove(path)
    end)
  end)
end)

describe("vnet.pcap paths (issue 9)", function()
  it("refuses a path with a NUL byte instead of cutting it", function()
    local base = os.tmpname()
    os.remove(base)
    assert.has_error(function() pcap.open(base .. "\0x", "w") end,
      "pcap.open: path '" .. base .. "\\0x' contains a NUL byte")
    assert.has_error(function() pcap.open(base .. "\0x") end,
      "pcap.open: path '" .. base .. "\\0x' contains a NUL byte")
    assert.is_nil(io.open(base)) -- nothing made under the cut name
  end)
end)
