-- pcapfile_spec.lua: capture files through libpcap (pcapng, filters) and
-- vnet's pcapng writer (issue 13), with tshark as the witness.
local H = require "spec.helper"
local pcap, packet = vnet.pcap, vnet.packet

local function tmp(ext)
  local p = os.tmpname()
  os.remove(p)
  return p .. ext
end

-- n packets: Ethernet UDP and ICMP in turn, each with its own time stamp
local function packets(n)
  local out = {}
  for i = 1, n do
    local l4 = i % 2 == 1 and { udp = { sport = 1000 + i, dport = 53 } }
      or { icmp = { id = 7, seq = i } }
    local spec = { eth = { src = "02:00:00:00:00:01", dst = "02:00:00:00:00:02" },
      ipv4 = { src = "10.0.0.1", dst = "10.0.0." .. (i + 1) }, payload = ("x"):rep(i) }
    for k, v in pairs(l4) do spec[k] = v end
    out[i] = { bytes = packet.build(spec):sub(), sec = 1700000000 + i, nsec = i * 111111 }
  end
  return out
end

local function write_classic(path, list, nano)
  local w <close> = assert(pcap.open(path, "w", { linktype = "ethernet", nanosecond = nano }))
  for _, p in ipairs(list) do assert(w:write(p.bytes, p.sec, p.nsec)) end
end

local function read_all(r)
  local got = {}
  for p, _, sec, nsec, orig in r:packets() do
    got[#got + 1] = { bytes = p:sub(), sec = sec, nsec = nsec, orig = orig, link = (p:linktype()) }
  end
  return got
end

describe("pcap files: pcapng, filters (libpcap)", function()
  it("reads a pcapng that tshark wrote, packet for packet, time stamps to the nanosecond", function()
    local list = packets(6)
    local classic, ng = tmp(".pcap"), tmp(".pcapng")
    write_classic(classic, list, true)
    local _, code = H.sh("tshark -r " .. classic .. " -F pcapng -w " .. ng)
    assert.are.equal(0, code)
    local r <close> = assert(pcap.open(ng))
    assert.are.same({ "pcapng", 1 }, { r.format, r.linktype })
    assert.is_nil(r.nanosecond)
    local got = read_all(r)
    assert.are.equal(#list, #got)
    for i, p in ipairs(list) do
      assert.are.same({ p.bytes, p.sec, p.nsec, #p.bytes, "eth" },
        { got[i].bytes, got[i].sec, got[i].nsec, got[i].orig, got[i].link }, "packet " .. i)
    end
    os.remove(classic); os.remove(ng)
  end)

  it("filters what it reads, in pcapng and in microsecond pcap files", function()
    local list = packets(6)
    local classic, ng = tmp(".pcap"), tmp(".pcapng")
    write_classic(classic, list, false)
    assert.are.equal(0, select(2, H.sh("tshark -r " .. classic .. " -F pcapng -w " .. ng)))
    for _, path in ipairs { classic, ng } do
      local r <close> = assert(pcap.open(path, "r", { filter = "icmp" }))
      assert.are.equal("icmp", r.filter)
      local got = read_all(r)
      assert.are.equal(3, #got, path)
      for j, p in ipairs(got) do
        assert.are.equal(list[2 * j].bytes, p.bytes)
        assert.are.equal(list[2 * j].nsec // 1000 * 1000, p.nsec) -- microseconds in the file
      end
    end
    local r <close> = assert(pcap.open(ng, "r", { filter = "udp dst port 53 and ip dst 10.0.0.4" }))
    assert.are.equal(1, #read_all(r))
    os.remove(classic); os.remove(ng)
  end)

  it("writes pcapng: one interface per link type, read by tshark", function()
    local path = tmp(".pcapng")
    local eth = packet.build { eth = { src = "02:00:00:00:00:01" },
      ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = { sport = 1, dport = 2 }, payload = "hello" }
    local raw = packet.build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, icmp = { id = 1, seq = 2 } }
    local w = assert(pcap.open(path, "w"))
    assert.are.same({ "pcapng", true }, { w.format, w.nanosecond })
    assert(w:write(eth, 1700000000, 123456789))
    assert(w:write(raw, 1700000001, 5))
    assert(w:write(eth, 1700000002.5))
    assert.are.same({ 3, { 1, 101 } }, { w.count, w.linktypes })
    assert(w:close())
    local rows = H.tshark(path, { "frame.time_epoch", "frame.interface_id", "frame.protocols", "frame.len" })
    assert.are.same({
      { ["frame.time_epoch"] = "1700000000.123456789", ["frame.interface_id"] = "0",
        ["frame.protocols"] = "eth:ethertype:ip:udp:data", ["frame.len"] = "47" },
      { ["frame.time_epoch"] = "1700000001.000000005", ["frame.interface_id"] = "1",
        ["frame.protocols"] = "raw:ip:icmp", ["frame.len"] = "28" },
      { ["frame.time_epoch"] = "1700000002.500000000", ["frame.interface_id"] = "0",
        ["frame.protocols"] = "eth:ethertype:ip:udp:data", ["frame.len"] = "47" },
    }, rows)
    -- libpcap 1.10 refuses mixed link types: vnet reads such a file itself,
    -- each packet with its own interface's link type
    local r <close> = assert(pcap.open(path))
    assert.are.same({ "pcapng", { 1 }, 1 }, { r.format, r.linktypes, r.linktype })
    local got = read_all(r)
    -- the writer describes an interface when its first packet comes
    assert.are.same({ { 1, 101 } }, { r.linktypes, r.linktype })
    assert.are.same({
      { bytes = eth:sub(), sec = 1700000000, nsec = 123456789, orig = #eth, link = "eth" },
      { bytes = raw:sub(), sec = 1700000001, nsec = 5, orig = #raw, link = "raw" },
      { bytes = eth:sub(), sec = 1700000002, nsec = 500000000, orig = #eth, link = "eth" },
    }, got)
    -- filters compiled by libpcap for each interface's link type
    for expr, want in pairs { icmp = { raw:sub() }, udp = { eth:sub(), eth:sub() },
        ["ip dst 10.0.0.2"] = { eth:sub(), raw:sub(), eth:sub() } } do
      local f <close> = assert(pcap.open(path, "r", { filter = expr }))
      local bytes = {}
      for _, p in ipairs(read_all(f)) do bytes[#bytes + 1] = p.bytes end
      assert.are.same(want, bytes, expr)
    end
    -- tshark's copy (its own section and interface blocks, with options) reads the same
    local copy = tmp(".pcapng")
    assert.are.equal(0, select(2, H.sh("tshark -r " .. path .. " -F pcapng -w " .. copy)))
    local c <close> = assert(pcap.open(copy))
    assert.are.same(got, read_all(c))
    assert.are.same({ 1, 101 }, c.linktypes)
    os.remove(copy)
    local f <close> = assert(pcap.open(path, "r", { filter = "ether src 02:00:00:00:00:01" }))
    assert.truthy(f:read())
    local ok, err = f:read()
    assert.is_nil(ok)
    assert.matches("^pcap%.read " .. path:gsub("%p", "%%%0") .. ": filter 'ether src " ..
      "02:00:00:00:00:01' on link type 101: ", err)
    os.remove(path)
  end)

  describe("bad input", function()
    it("survives every truncation and random damage of a pcapng file", function()
      local path, cut = tmp(".pcapng"), tmp(".pcapng")
      local w = assert(pcap.open(path, "w"))
      for _, p in ipairs(packets(4)) do assert(w:write(p.bytes, p.sec, p.nsec)) end
      assert(w:write(packet.build { ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, icmp = {} }))
      w:close()
      local f = assert(io.open(path, "rb"))
      local whole = f:read("a")
      f:close()
      local function try(bytes, expr)
        local o = assert(io.open(cut, "wb"))
        o:write(bytes)
        o:close()
        local r = pcap.open(cut, "r", expr and { filter = expr } or nil)
        if not r then return -1 end
        local n = 0
        while true do
          local p, err = r:read()
          if not p then assert(err == nil or type(err) == "string"); break end
          n = n + 1
        end
        r:close()
        return n
      end
      assert.are.equal(5, try(whole))
      for len = 0, #whole - 1 do
        assert.is_true(try(whole:sub(1, len)) < 5, "cut at " .. len)
      end
      math.randomseed(13)
      for _ = 1, 300 do
        local b = { whole:byte(1, -1) }
        for _ = 1, math.random(1, 4) do b[math.random(#b)] = math.random(0, 255) end
        try(string.char(table.unpack(b)), math.random() < 0.3 and "udp" or nil)
      end
      os.remove(path); os.remove(cut)
    end)

    it("a missing file, an unknown format, a bad filter, a closed reader", function()
      assert.are.same({ nil, "pcap.open /nonexistent/x.pcap: No such file or directory", 2 },
        { pcap.open("/nonexistent/x.pcap", "r", { filter = "udp" }) })
      local path = tmp(".pcapng")
      local f = assert(io.open(path, "wb"))
      f:write("\x0a\x0d\x0d\x0a" .. ("z"):rep(40))
      f:close()
      assert.are.same({ nil, "pcap.open " .. path .. ": not a pcapng file (bad section header)", 22 },
        { pcap.open(path) })
      f = assert(io.open(path, "wb"))
      f:write(("z"):rep(40))
      f:close()
      assert.are.same({ nil, "pcap.open " .. path .. ": unknown file format", 22 },
        { pcap.open(path, "r", { filter = "udp" }) })
      write_classic(path, packets(1), false)
      assert.are.same({ nil, "pcap.open " .. path .. ": bad filter 'udp port': can't parse filter " ..
        "expression: syntax error", 22 }, { pcap.open(path, "r", { filter = "udp port" }) })
      local r = assert(pcap.open(path, "r", { filter = "udp" }))
      r:close()
      r:close()
      assert.has_error(function() r:read() end, "attempt to use a closed pcap reader")
      assert.has_error(function() pcap.open(path, "r", { filtre = "udp" }) end,
        "pcap.open: unknown option 'filtre' (known: filter)")
      local w = assert(pcap.open(tmp(".pcapng"), "w"))
      w:close()
      assert.has_error(function() w:write("x") end, "attempt to use a closed pcapng writer")
      os.remove(path)
    end)
  end)
end)
