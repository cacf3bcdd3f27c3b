-- The example rewriters of scripts/ (see rewriters_spec.lua):
-- arp-responder.lua, udp-echo.lua, the --demo of each, and what every
-- script does (usage, errors, leaving nothing behind).
local H = require "spec.helper"
local sandboxed = H.sandboxed
local netns = vnet.netns
local R = require "spec.support.rewriters"
R.finally = function(fn) return finally(fn) end -- busted's, looked up when a test calls it
local path_of, sleep, sh, on_exit, tmp, bg, script, listening, tcpdump, tshark, checksums_good, random_file, contents, two, CSUMS, has_ss =
  R.path_of, R.sleep, R.sh, R.on_exit, R.tmp, R.bg, R.script, R.listening, R.tcpdump, R.tshark, R.checksums_good, R.random_file, R.contents, R.two, R.CSUMS, R.has_ss

describe("scripts/ rewriters", function()
  H.keeps_host_state(setup, teardown)

  describe("arp-responder.lua", function()
    it("answers ARP for its addresses with its MAC, and nothing else", sandboxed(function()
      local arp = script("arp-responder.lua", "--ping 10.3.0.2 10.3.0.8/29", "vnet%-arp up")
      local cap = tcpdump(nil, "vnet-arp", "arp or icmp")
      local ok, out = H.ping(nil, "10.3.0.2", 2)
      assert.is_true(ok, out)
      ok, out = H.ping(nil, "10.3.0.13", 1)
      assert.is_true(ok, out)
      ok = H.ping(nil, "10.3.0.3", 1)
      assert.is_false(ok)
      local neigh = H.sh("ip neigh show dev vnet-arp")
      assert.matches("10%.3%.0%.2 lladdr 02:00:00:00:03:02", neigh)
      assert.matches("10%.3%.0%.13 lladdr 02:00:00:00:03:02", neigh)
      assert.is_nil(neigh:match("10%.3%.0%.3 lladdr"))
      cap.stop()
      local text, code = arp.stop()
      assert.are.equal(0, code, text)
      assert.matches("10%.3%.0%.2 is%-at 02:00:00:00:03:02 %(told 10%.3%.0%.1%)", text)
      -- tshark: well-formed replies, from the right MAC, to the asker
      local rows = tshark(cap.path, { "arp.src.hw_mac", "arp.src.proto_ipv4",
        "arp.dst.proto_ipv4", "eth.src", "eth.dst" }, "arp.opcode == 2")
      assert.are.equal(2, #rows)
      for _, r in ipairs(rows) do
        assert.are.equal("02:00:00:00:03:02", r["arp.src.hw_mac"])
        assert.are.equal("02:00:00:00:03:02", r["eth.src"])
        assert.are.equal("10.3.0.1", r["arp.dst.proto_ipv4"])
      end
      local asked = tshark(cap.path, { "arp.dst.proto_ipv4" }, "arp.opcode == 1")
      assert.is_true(#asked >= 3) -- .2, .13 and (unanswered) .3
      checksums_good(cap.path, 5)
      os.remove(cap.path)
      assert.is_nil(H.iplink("vnet-arp"))
    end))
  end)

  describe("udp-echo.lua", function()
    it("echoes UDP over IPv4 and IPv6 with good checksums", sandboxed(function()
      local echo = script("udp-echo.lua", "--port 7", "vnet%-echo up")
      local cap = tcpdump(nil, "vnet-echo", "udp")
      local out, code = H.sh("echo hello | nc -u -w1 10.9.1.2 7")
      assert.are.equal(0, code, out)
      assert.are.equal("hello\n", out)
      out = H.sh("echo hello6 | nc -u -w1 fd00:9:1::2 7")
      assert.are.equal("hello6\n", out)
      out = H.sh("echo nobody | nc -u -w1 10.9.1.2 8")
      assert.are.equal("", out) -- --port 7: not echoed
      cap.stop()
      local text, rc = echo.stop()
      assert.are.equal(0, rc, text)
      assert.matches("2 datagrams echoed", text)
      assert.are.equal(5, checksums_good(cap.path, 5))
      local rows = tshark(cap.path, { "ip.src", "ipv6.src", "udp.srcport" },
        "udp.srcport == 7")
      assert.are.equal(2, #rows)
      os.remove(cap.path)
      assert.is_nil(H.iplink("vnet-echo"))
    end))
  end)

  describe("--demo of capture, arp-responder and udp-echo (issue 9, item 6)", function()
    -- each makes a scratch namespace of its own: nothing appears here
    local function runs(cmd)
      local before = H.sh("ip -o link show; ip netns list")
      local out, code = H.sh(H.vnet .. " scripts/" .. cmd)
      assert.are.equal(0, code, out)
      assert.matches("done: stopped", out)
      assert.are.equal(before, H.sh("ip -o link show; ip netns list"))
      return out
    end

    it("tun-capture.lua --demo records pings and their answers, in a file tshark reads",
      sandboxed(function()
        local file = tmp()
        local out = runs("tun-capture.lua --demo " .. file)
        assert.matches("ping | 3 packets transmitted, 3 received", out, nil, true)
        assert.are.equal(3, select(2, out:gsub("file | [%d.]+ IP 10%.9%.2%.2 > 10%.9%.2%.1: ICMP echo reply", "")))
        local rows = tshark(file, { "icmp.type" }, "icmp")
        assert.are.equal(6, #rows)
        checksums_good(file, 6)
        os.remove(file)
        -- without FILE the file is a scratch one, removed
        out = runs("tun-capture.lua --demo -q")
        local path = out:match("packets in (%S+);")
        assert.is_nil(io.open(path))
        out = H.sh(H.vnet .. " scripts/tun-capture.lua --demo --tap")
        assert.matches("--demo makes a TUN; --tap is not for it", out, nil, true)
      end))

    it("arp-responder.lua --demo answers the kernel's ARP and the pings after it", sandboxed(function()
      local out = runs("arp-responder.lua --demo")
      assert.matches("10.3.0.2 is-at 02:00:00:00:03:02 (told 10.3.0.1)", out, nil, true)
      assert.matches("ping | 2 packets transmitted, 2 received", out, nil, true)
      assert.matches("ping | 10.3.0.2 lladdr 02:00:00:00:03:02", out, nil, true)
      assert.matches("1 ARP answers", out, nil, true)
    end))

    it("udp-echo.lua --demo echoes a datagram over IPv4 and one over IPv6", sandboxed(function()
      local out = runs("udp-echo.lua --demo")
      assert.matches("nc | hello over IPv4\n", out, nil, true)
      assert.matches("nc | hello over IPv6\n", out, nil, true)
      assert.matches("2 datagrams echoed", out, nil, true)
    end))
  end)

  describe("every script", function()
    local names = { "nat.lua", "port-forward.lua", "netem.lua", "capture.lua", "tun-capture.lua",
      "arp-responder.lua", "udp-echo.lua" }
    it("says in its header how to run it, and prints that for --help", function()
      for _, name in ipairs(names) do
        local out, code = H.sh(H.vnet .. " scripts/" .. name .. " --help")
        assert.are.equal(0, code, name)
        assert.matches("Run as root", out, nil, true)
        assert.matches("vnet scripts/" .. name:gsub("%-", "%%-"), out)
        assert.matches("Ctrl%-C", out)
      end
    end)

    it("ends by itself after --seconds, status 0, its device gone", sandboxed(function()
      for _, run in ipairs {
        { "udp-echo.lua", "vnet-echo" }, { "arp-responder.lua", "vnet-arp" },
        { "tun-capture.lua --seconds 0.5 tun0 " .. tmp(), "tun0" },
      } do
        local cmd = H.vnet .. " scripts/" .. run[1] .. (run[1]:find("seconds") and "" or " --seconds 0.5")
        local out, code = H.sh(cmd)
        assert.are.equal(0, code, out)
        assert.matches("done: timeout", out)
        assert.is_nil(H.iplink(run[2]))
      end
      local A <close>, B = two()
      local _ <close> = B
      for _, name in ipairs { "nat.lua", "port-forward.lua", "netem.lua" } do
        local out, code = H.sh(H.vnet .. " scripts/" .. name .. " --seconds 0.3 " .. path_of(A) ..
          " " .. path_of(B))
        assert.are.equal(0, code, out)
        assert.matches("done: timeout", out)
        local left = {}
        for _, ns in ipairs { A, B } do
          for _, l in ipairs(ns:run(vnet.link.list)) do
            if l.name ~= "lo" then left[#left + 1] = l.name end
          end
        end
        assert.are.same({}, left, name .. " left links behind")
      end
    end))

    it("refuses an unknown option with status 2", function()
      for _, name in ipairs(names) do
        local out, code = H.sh(H.vnet .. " scripts/" .. name .. " --bogus")
        assert.are.equal(2, code, name)
        assert.matches("unknown option %-%-bogus", out)
      end
    end)
  end)

  describe("the checksum witness", function()
    -- A capture file (raw IPv4 link type) of TCP segments from 10.2.0.2:9000
    -- to 10.2.0.1:20000 whose checksum computes to zero, the field set to
    -- each of sums in turn.
    local function capture(sums)
      local function csum(b)
        if #b % 2 == 1 then b = b .. "\0" end
        local s = 0
        for i = 1, #b, 2 do s = s + string.unpack(">I2", b, i) end
        while s > 0xffff do s = (s & 0xffff) + (s >> 16) end
        return ~s & 0xffff
      end
      local src, dst = "\10\2\0\2", "\10\2\0\1"
      local tcp = string.pack(">I2I2I4I4BBI2I2I2", 9000, 20000, 1, 0, 0x50, 0x10, 325, 0, 0)
      -- the urgent pointer takes what makes the sum zero with the field at 0
      tcp = tcp:sub(1, 18) .. string.pack(">I2", csum(src .. dst .. string.pack(">BBI2", 0, 6, #tcp) .. tcp))
      local out = { string.pack("<I4I2I2i4I4I4I4", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101) }
      for _, sum in ipairs(sums) do
        local seg = tcp:sub(1, 16) .. string.pack(">I2", sum) .. tcp:sub(19)
        local ip = string.pack(">BBI2I2I2BBI2", 0x45, 0, 20 + #seg, 1, 0x4000, 64, 6, 0) .. src .. dst
        ip = ip:sub(1, 10) .. string.pack(">I2", csum(ip)) .. ip:sub(13)
        out[#out + 1] = string.pack("<I4I4I4I4", 0, 0, #ip + #seg, #ip + #seg) .. ip .. seg
      end
      local path = tmp()
      local f = assert(io.open(path, "wb"))
      f:write(table.concat(out))
      f:close()
      return path
    end

    it("takes a TCP checksum of 0xffff where the sum is zero, as the kernel writes it", function()
      -- (skb_checksum_help stores csum_fold(csum) ?: CSUM_MANGLED_0 for TCP
      -- too; tshark calls that bad, after RFC 1624)
      local path = capture({ 0x0000, 0xffff })
      local rows = tshark(path, { "tcp.checksum", "tcp.checksum.status" })
      assert.are.same({ "0xffff", "0" }, { rows[2]["tcp.checksum"], rows[2]["tcp.checksum.status"] })
      assert.are.equal(2, checksums_good(path, 2))
    end)

    it("refuses any other wrong TCP checksum", function()
      local path = capture({ 0x0000, 0x1234 })
      local ok, err = pcall(checksums_good, path, 2)
      assert.is_false(ok)
      assert.matches("tcp%.checksum%.status is 0", tostring(err))
    end)
  end)
end)
