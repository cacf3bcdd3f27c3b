-- The example rewriters of scripts/ (see rewriters_spec.lua): netem.lua
-- and tun-capture.lua, run as written against real traffic.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local netns = vnet.netns
local R = require "spec.support.rewriters"
R.finally = function(fn) return finally(fn) end -- busted's, looked up when a test calls it
local path_of, sleep, sh, on_exit, tmp, bg, script, listening, tcpdump, tshark, checksums_good, random_file, contents, two, CSUMS, has_ss =
  R.path_of, R.sleep, R.sh, R.on_exit, R.tmp, R.bg, R.script, R.listening, R.tcpdump, R.tshark, R.checksums_good, R.random_file, R.contents, R.two, R.CSUMS, R.has_ss

describe("scripts/ rewriters", function()
  H.keeps_host_state(setup, teardown)

  describe("netem.lua", function()
    local function start(A, B, opts)
      return script("netem.lua", path_of(A) .. " " .. path_of(B) .. " " .. opts, "netem ready")
    end

    local function rtts(out)
      local list = {}
      for t in out:gmatch("time=([%d.]+) ms") do list[#list + 1] = tonumber(t) end
      return list
    end

    it("delays by --delay ms, one way or both", sandboxed(function()
      local A <close>, B = two()
        local _ <close> = B
      local em = start(A, B, "--delay 100 --dir a2b")
      local ok, out = H.ping(A, "10.2.0.2", 4)
      assert.is_true(ok, out)
      for _, t in ipairs(rtts(out)) do assert.is_true(t >= 100 and t < 350, out) end
      assert.are.equal(0, select(2, em.stop()))
      em = start(A, B, "--delay 60")
      ok, out = H.ping(A, "10.2.0.2", 4)
      assert.is_true(ok, out)
      for _, t in ipairs(rtts(out)) do assert.is_true(t >= 120 and t < 370, out) end
      assert.are.equal(0, select(2, em.stop()))
    end))

    it("drops --loss percent, and ping counts exactly what it dropped", sandboxed(function()
      local A <close>, B = two()
        local _ <close> = B
      local em = start(A, B, "--loss 30 --dir a2b --seed 7 -v")
      local _, out = A:exec { "ping", "-c", "40", "-i", "0.02", "-W", "1", "10.2.0.2" }
      local got = tonumber(out:match("(%d+) received"))
      local text, code = em.stop()
      assert.are.equal(0, code, text)
      local dropped = select(2, text:gsub("a2b drop   IP 10%.1%.0%.2 > 10%.2%.0%.2: ICMP echo request", ""))
      assert.are.equal(40 - dropped, got, out .. text)
      assert.is_true(dropped >= 4 and dropped <= 20, "dropped " .. dropped .. " of 40 at 30%")
    end))

    it("duplicates --duplicate percent", sandboxed(function()
      local A <close>, B = two()
        local _ <close> = B
      local em = start(A, B, "--duplicate 100 --dir a2b")
      local cap = tcpdump(B, "eb", "icmp")
      local _, out = A:exec { "ping", "-c", "5", "-i", "0.1", "-W", "1", "10.2.0.2" }
      -- (ping may be gone before the last duplicate answer comes)
      local dups = tonumber(out:match("5 received, %+(%d) duplicates"))
      assert.is_true(dups == 4 or dups == 5, out)
      cap.stop()
      assert.are.equal(0, select(2, em.stop()))
      assert.are.equal(20, checksums_good(cap.path)) -- 10 requests in, 10 replies out
      os.remove(cap.path)
    end))

    it("reorders: --reorder percent overtake the delayed ones", sandboxed(function()
      local A <close>, B = two()
        local _ <close> = B
      local em = start(A, B, "--delay 150 --reorder 50 --dir a2b --seed 3")
      local cap = tcpdump(B, "eb", "icmp")
      local _, out = A:exec { "ping", "-c", "20", "-i", "0.01", "-W", "2", "10.2.0.2" }
      assert.matches("20 received", out)
      cap.stop()
      local text, code = em.stop()
      assert.are.equal(0, code, text)
      local at_once = tonumber(text:match("netem a2b: .- (%d+) sent at once"))
      assert.is_true(at_once >= 4 and at_once <= 16, text)
      assert.are.equal(40, checksums_good(cap.path))
      local seqs, sorted = {}, {}
      for _, r in ipairs(tshark(cap.path, { "icmp.seq" }, "icmp.type == 8")) do
        seqs[#seqs + 1] = tonumber(r["icmp.seq"])
      end
      for i, s in ipairs(seqs) do sorted[i] = s end
      table.sort(sorted)
      assert.are.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }, sorted)
      assert.are_not.same(sorted, seqs) -- B got them out of order
      os.remove(cap.path)
    end))

    it("spreads delays with --jitter", sandboxed(function()
      local A <close>, B = two()
        local _ <close> = B
      local em = start(A, B, "--delay 60 --jitter 50 --dir a2b --seed 5")
      local _, out = A:exec { "ping", "-c", "10", "-i", "0.05", "-W", "1", "10.2.0.2" }
      assert.are.equal(0, select(2, em.stop()))
      local t = rtts(out)
      table.sort(t)
      assert.is_true(#t >= 8, out)
      assert.is_true(t[1] >= 10 and t[#t] <= 360 and t[#t] - t[1] > 20, out)
    end))

    it("carries TCP intact through loss, duplicates, jitter and reordering", sandboxed(function()
      local A <close>, B = two()
        local _ <close> = B
      local em = start(A, B, "--loss 3 --duplicate 3 --delay 10 --jitter 5 --reorder 10 --seed 11")
      local file, sent = random_file(200000)
      local recv = tmp()
      local srv = bg(B, "nc -l 9000 > " .. recv)
      listening(B, "t", 9000)
      local status, got = sh(A, "nc -N -w10 10.2.0.2 9000 < " .. file, 30)
      assert.are.equal(0, status, got)
      srv.wait()
      local text, code = em.stop()
      assert.are.equal(0, code, text)
      assert.is_true(sent == contents(recv), "the bytes differ")
      local d = tonumber(text:match("netem a2b: %d+ in, %d+ out, (%d+) dropped"))
      assert.is_true(d > 0, text) -- it was lossy, and TCP made up for it
      os.remove(file); os.remove(recv)
    end))

    it("--demo runs by itself", sandboxed(function()
      local out, code = H.sh(H.vnet .. " scripts/netem.lua --demo --delay 20 --seed 1")
      assert.are.equal(0, code, out)
      assert.matches("A | 10 packets transmitted", out)
      assert.matches("netem a2b: %d+ in", out)
    end))
  end)

  describe("tun-capture.lua", function()
    it("records what the kernel sends into tun0 and the echo replies, into a file tcpdump " ..
      "and tshark read", sandboxed(function()
        local file = tmp()
        local cap = script("tun-capture.lua", "tun0 " .. file ..
          " --addr 10.9.2.1 --peer 10.9.2.2 --echo", "capturing tun0")
        local ok, out = H.ping(nil, "10.9.2.2", 3)
        assert.is_true(ok, out)
        H.sh("echo datagram | nc -u -w1 -p 4000 10.9.2.2 5000")
        local text, code = cap.stop()
        assert.are.equal(0, code, text)
        assert.matches("%d+ packets in .*; done: SIGTERM", text)
        assert.is_nil(H.iplink("tun0"))
        -- tcpdump reads it
        local td = H.sh("tcpdump -nn -t -r " .. file .. " ip 2>/dev/null")
        assert.are.equal(3, select(2, td:gsub("ICMP echo request", "")), td)
        assert.are.equal(3, select(2, td:gsub("ICMP echo reply", "")), td)
        assert.matches("IP 10%.9%.2%.1%.4000 > 10%.9%.2%.2%.5000: UDP, length 9", td)
        -- tshark finds every checksum good, the script's replies included
        local rows = tshark(file, { "ip.src", "icmp.type" }, "ip")
        assert.are.equal(7, #rows)
        checksums_good(file, 7)
        -- and vnet.pcap reads it back
        local r <close> = assert(vnet.pcap.open(file))
        assert.are.equal(101, r.linktype)
        local n = 0
        for p in r:packets() do
          n = n + 1
          assert.is_true(p:checksums_ok())
        end
        assert.is_true(n >= 7)
        os.remove(file)
      end))

    it("stops by itself after --count packets, records a TAP as Ethernet", sandboxed(function()
      -- no IPv6 here, so the first two frames are the kernel's ARP requests
      for _, c in ipairs { "all", "default" } do
        local f = assert(io.open("/proc/sys/net/ipv6/conf/" .. c .. "/disable_ipv6", "w"))
        f:write("1\n")
        f:close()
      end
      local file = tmp()
      local h = bg(nil, H.vnet .. " scripts/tun-capture.lua tap7 " .. file ..
        " --tap --addr 10.9.3.1/24 --count 2 -q")
      assert.matches("capturing tap7 %(tap%)", h.file:read("l"))
      -- nobody answers ARP: the kernel asks for each, that is recorded
      H.sh("ping -c1 -W1 10.9.3.2 & ping -c1 -W1 10.9.3.3; wait")
      local out, code = h.wait()
      assert.are.equal(0, code, out)
      assert.matches("2 packets in", out)
      local r <close> = assert(vnet.pcap.open(file))
      assert.are.equal(1, r.linktype)
      local rows = tshark(file, { "arp.opcode", "arp.dst.proto_ipv4" })
      assert.are.equal(2, #rows)
      local asked = {}
      for _, row in ipairs(rows) do
        assert.are.equal("1", row["arp.opcode"])
        asked[#asked + 1] = row["arp.dst.proto_ipv4"]
      end
      table.sort(asked)
      assert.are.same({ "10.9.3.2", "10.9.3.3" }, asked)
      os.remove(file)
    end))

    it("attaches to a persistent TUN nobody holds, and leaves it there", sandboxed(function()
      assert.are.equal(0, select(2, H.sh("ip tuntap add tunp0 mode tun")))
      local file = tmp()
      local cap = script("tun-capture.lua", "tunp0 " .. file .. " --addr 10.9.4.1 --peer 10.9.4.2",
        "capturing tunp0")
      H.ping(nil, "10.9.4.2", 2)
      local text, code = cap.stop("INT")
      assert.are.equal(0, code, text)
      assert.matches("done: SIGINT", text)
      assert.is_not_nil(H.iplink("tunp0"))
      assert.are.equal(2, #tshark(file, { "icmp.seq" }, "icmp"))
      assert.are.equal(0, select(2, H.sh("ip tuntap del tunp0 mode tun")))
      os.remove(file)
    end))
  end)
end)
