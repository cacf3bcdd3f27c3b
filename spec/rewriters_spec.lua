-- The example rewriters of scripts/ (issue 4, item 4), each run as written
-- (`vnet scripts/X.lua ...`, a process of its own) against real traffic in
-- namespaces the spec made. The scripts that sit between two namespaces
-- get them as /proc/<spec pid>/fd/<fd> paths, which vnet.netns.open takes
-- like an `ip netns` name. Witnesses: ping, nc, iperf3 (when there is one), the kernel (which
-- drops a TCP or UDP segment with a wrong checksum), tcpdump capturing on
-- the receiving side and tshark reading its file with IP, TCP and UDP
-- checksum validation on (ICMP and ICMPv6 are always validated), and
-- iproute2 for what is left behind.
-- Here: nat.lua and port-forward.lua; rewriters_tun_spec.lua and
-- rewriters_misc_spec.lua have the others; spec/support/rewriters.lua the
-- shared set-up.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local netns = vnet.netns
local R = require "spec.support.rewriters"
R.finally = function(fn) return finally(fn) end -- busted's, looked up when a test calls it
local path_of, sleep, sh, on_exit, tmp, bg, script, listening, tcpdump, tshark, checksums_good, random_file, contents, two, CSUMS, has_ss =
  R.path_of, R.sleep, R.sh, R.on_exit, R.tmp, R.bg, R.script, R.listening, R.tcpdump, R.tshark, R.checksums_good, R.random_file, R.contents, R.two, R.CSUMS, R.has_ss

describe("scripts/ rewriters", function()
  H.keeps_host_state(setup, teardown)

  describe("nat.lua", function()
    it("translates ping, UDP and TCP from inside so outside sees only 10.2.0.1; answers come back",
      sandboxed(function()
        local A <close>, B = two()
        local _ <close> = B
        local nat = script("nat.lua", path_of(A) .. " " .. path_of(B) .. " -v", "nat ready")
        -- the TUNs are where the script said
        assert.is_not_nil(H.iplink_in(A, "na"))
        assert.is_not_nil(H.iplink_in(B, "nb"))
        local capB = tcpdump(B, "nb")
        local capA = tcpdump(A, "na", "ip")

        -- ICMP echo: the id is the "port"
        local ok, out = H.ping(A, "10.2.0.2", 3)
        assert.is_true(ok, out)
        assert.matches("ttl=63", out) -- the NAT is a router: one hop

        -- UDP both ways: the answer must come from the port A asked
        local udp = bg(B, "echo pong | nc -vn -u -l 9001")
        listening(B, "u", 9001)
        local status, got = sh(A, "echo ping | nc -u -w1 10.2.0.2 9001")
        assert.are.equal(0, status, got)
        assert.are.equal("pong\n", got)
        local seen = udp.kill()
        assert.matches("Connection received on 10%.2%.0%.1 2%d%d%d%d", seen)
        assert.matches("ping", seen)

        -- TCP: 300 kB of random bytes, byte for byte
        local file, sent = random_file(300000)
        local recv = tmp()
        local tcp = bg(B, "nc -vn -l 9000 > " .. recv)
        listening(B, "t", 9000)
        status, got = sh(A, "nc -N -w5 10.2.0.2 9000 < " .. file)
        assert.are.equal(0, status, got)
        seen = tcp.wait()
        assert.matches("Connection received on 10%.2%.0%.1 2%d%d%d%d", seen)
        assert.is_true(sent == contents(recv), "the bytes differ")

        -- a closed TCP port: the RST comes back translated, at once
        status, got = sh(A, "nc -v -N -w3 10.2.0.2 9999 < /dev/null")
        assert.are_not.equal(0, status)
        assert.matches("Connection refused", got)

        -- a closed UDP port: OUTSIDE's port unreachable, about 10.2.0.1,
        -- reaches INSIDE about 10.1.0.2 and its own port
        sh(A, "echo x | nc -u -p 4711 -w1 10.2.0.2 9998")
        -- ... and about a datagram too long to be quoted whole
        sh(A, "head -c 1000 /dev/zero | nc -u -p 4712 -w1 10.2.0.2 9997")

        capA.stop()
        capB.stop()
        local text, code = nat.stop()
        assert.are.equal(0, code, text)
        assert.matches("nat: %d+ out, %d+ in, %d+ dropped, %d+ mappings made", text)
        assert.matches("new icmp 10%.1%.0%.2:%d+ > 10%.2%.0%.2:0 as 10%.2%.0%.1:2%d+", text)
        assert.matches("new udp 10%.1%.0%.2:%d+ > 10%.2%.0%.2:9001 as 10%.2%.0%.1:2%d+", text)
        assert.matches("new tcp 10%.1%.0%.2:%d+ > 10%.2%.0%.2:9000 as 10%.2%.0%.1:2%d+", text)
        assert.matches("done: SIGTERM", text)

        -- OUTSIDE never saw an inside address; everything it got is good
        -- (all but the error quoting the long datagram cut short, whose
        -- quoted UDP checksum nobody can verify: see below)
        local n = checksums_good(capB.path, 50, "not (icmp && udp.dstport == 9997)")
        local rows = tshark(capB.path, { "ip.src", "ip.dst" }, "ip")
        for _, r in ipairs(rows) do -- (ICMP errors: the outer header, then the quoted one)
          assert.is_nil(r["ip.src"]:find("10%.1%."), "OUTSIDE saw " .. r["ip.src"])
          assert.is_nil(r["ip.dst"]:find("10%.1%."), "OUTSIDE saw " .. r["ip.dst"])
          local src, dst = r["ip.src"]:match("^[^,]+"), r["ip.dst"]:match("^[^,]+")
          assert.is_true(src == "10.2.0.1" or dst == "10.2.0.1", src .. " > " .. dst)
        end
        assert.is_true(#rows >= 50 and n >= #rows - 1)
        -- INSIDE got good packets, among them the translated unreachable
        checksums_good(capA.path, 50, "not (icmp && udp.dstport == 9997)")
        local un = tshark(capA.path, { "ip.src", "ip.dst", "udp.srcport", "udp.dstport" },
          "icmp.type == 3 && icmp.code == 3 && udp.dstport == 9998")
        assert.are.equal(1, #un)
        assert.are.equal("10.2.0.2,10.1.0.2", un[1]["ip.src"]) -- outer, then quoted
        assert.are.equal("10.1.0.2,10.2.0.2", un[1]["ip.dst"])
        assert.are.same({ "4711", "9998" }, { un[1]["udp.srcport"], un[1]["udp.dstport"] })
        -- the long one was cut short in the quote: its IPv4 header and the
        -- ICMP checksum are right; its UDP checksum covers bytes that are
        -- not there, so tshark cannot verify it (status 2)
        un = tshark(capA.path, { "ip.src", "ip.checksum.status", "icmp.checksum.status",
          "udp.srcport", "udp.checksum.status" }, "icmp.type == 3 && udp.dstport == 9997")
        assert.are.equal(1, #un)
        assert.are.same({ "10.2.0.2,10.1.0.2", "1,1", "1", "4712", "2" }, { un[1]["ip.src"],
          un[1]["ip.checksum.status"], un[1]["icmp.checksum.status"], un[1]["udp.srcport"],
          un[1]["udp.checksum.status"] })
        os.remove(capA.path); os.remove(capB.path); os.remove(file); os.remove(recv)

        -- the TUNs went with the script
        assert.is_nil(H.iplink_in(A, "na"))
        assert.is_nil(H.iplink_in(B, "nb"))
      end))

    it("keeps up with iperf3 (a second of TCP at full speed)", sandboxed(function()
      if select(2, H.sh("command -v iperf3")) ~= 0 then return H.skip("no iperf3 here") end
      local A <close>, B = two()
      local _ <close> = B
      local nat = script("nat.lua", path_of(A) .. " " .. path_of(B), "nat ready")
      local srv = bg(B, "iperf3 -s -1")
      listening(B, "t", 5201)
      local status, got = sh(A, "iperf3 -c 10.2.0.2 -t 1 -J", 30)
      assert.are.equal(0, status, got)
      local res = require("dkjson").decode(got)
      local bytes = res["end"].sum_received.bytes
      assert.is_true(bytes > 100000, got)
      srv.wait()
      local text, code = nat.stop()
      assert.are.equal(0, code, text)
      assert.matches("nat: %d+ out, %d+ in, %d+ dropped, 2 mappings made", text) -- control, data
      assert.is_nil(text:find("no mapping"), text)
    end))

    it("drops what OUTSIDE sends without a mapping, and ends on Ctrl-C", sandboxed(function()
      local A <close>, B = two()
        local _ <close> = B
      local nat = script("nat.lua", path_of(A) .. " " .. path_of(B), "nat ready")
      local ok = H.ping(B, "10.2.0.1", 1)
      assert.is_false(ok)
      local status = sh(B, "nc -N -w1 10.2.0.1 20000 < /dev/null")
      assert.are_not.equal(0, status)
      local text, code = nat.stop("INT")
      assert.are.equal(0, code, text)
      assert.matches("nat: 0 out, 0 in, %d+ dropped, 0 mappings made", text)
      assert.matches("dropped %d+: ICMP type 8", text)
      assert.matches("dropped %d+: no mapping", text)
      assert.matches("done: SIGINT", text)
      assert.is_nil(H.iplink_in(A, "na"))
    end))

    it("--demo makes its own namespaces, shows the translation and leaves nothing",
      sandboxed(function()
        local out, code = H.sh(H.vnet .. " scripts/nat.lua --demo")
        assert.are.equal(0, code, out)
        assert.matches("3 packets transmitted, 3 received", out)
        assert.matches("outside| Connection received on 10%.2%.0%.1 %d+", out)
        assert.matches("outside| hello over UDP", out)
        assert.matches("outside| hello over TCP", out)
        assert.matches("done: stopped", out)
      end))

    it("says how to run it when the arguments are wrong", function()
      local out, code = H.sh(H.vnet .. " scripts/nat.lua")
      assert.are.equal(2, code)
      assert.matches("give two namespaces", out)
      assert.matches("vnet scripts/nat.lua %-%-demo", out)
      out, code = H.sh(H.vnet .. " scripts/nat.lua --ports 9-1 a b")
      assert.are.equal(2, code)
      assert.matches("%-%-ports wants LO%-HI", out)
      out, code = H.sh(H.vnet .. " scripts/nat.lua --nope")
      assert.are.equal(2, code)
      assert.matches("unknown option %-%-nope", out)
      out, code = H.sh(H.vnet .. " scripts/nat.lua no-such-ns-4 no-such-ns-5")
      assert.are.equal(1, code)
      assert.matches("namespace no%-such%-ns%-4: netns.open no%-such%-ns%-4: No such file", out)
    end)
  end)

  describe("port-forward.lua", function()
    it("sends A's connections to B's port 8080 to port 80, IPv4 and IPv6, TCP and UDP",
      sandboxed(function()
        local A <close>, B = two()
        local _ <close> = B
        local fw = script("port-forward.lua", path_of(A) .. " " .. path_of(B) ..
          " 8080=80 udp:5353=53 -v", "port%-forward ready")
        assert.matches("ready: tcp:8080=80 udp:5353=53 udp:8080=80", fw.head)
        local capB = tcpdump(B, "pb", "tcp or udp")
        local capA = tcpdump(A, "pa", "tcp or udp")

        for _, dst in ipairs { "10.2.0.2", "fd00:2::2" } do
          local srv = bg(B, "nc -vn " .. (dst:find(":") and "-6 " or "") .. "-l 80")
          listening(B, "t", 80)
          local status, got = sh(A, "echo hello " .. dst .. " | nc -N -w3 " .. dst .. " 8080")
          assert.are.equal(0, status, got)
          local seen = srv.wait()
          assert.matches("hello " .. dst:gsub("%p", "%%%0"), seen)
        end

        -- UDP: the answer has to come from 5353, or A's nc would not take it
        local srv = bg(B, "echo answer | nc -u -l 53")
        listening(B, "u", 53)
        local status, got = sh(A, "echo question | nc -u -w1 10.2.0.2 5353")
        assert.are.equal(0, status, got)
        assert.are.equal("answer\n", got)
        assert.matches("question", (srv.kill()))

        -- B's port 80 is still reachable directly, and answers as 80
        srv = bg(B, "nc -l 80")
        listening(B, "t", 80)
        status = sh(A, "echo direct | nc -N -w3 10.2.0.2 80")
        assert.are.equal(0, status)
        assert.matches("direct", (srv.wait()))
        -- and other ports pass untouched
        srv = bg(B, "nc -l 9999")
        listening(B, "t", 9999)
        assert.are.equal(0, (sh(A, "echo other | nc -N -w3 10.2.0.2 9999")))
        assert.matches("other", (srv.wait()))

        capA.stop()
        capB.stop()
        local text, code = fw.stop()
        assert.are.equal(0, code, text)
        assert.matches("tcp %[10%.1%.0%.2%]:%d+ > %[10%.2%.0%.2%]:8080 goes to port 80", text)
        assert.matches("tcp %[fd00:1::2%]:%d+ > %[fd00:2::2%]:8080 goes to port 80", text)
        assert.matches("udp %[10%.1%.0%.2%]:%d+ > %[10%.2%.0%.2%]:5353 goes to port 53", text)

        -- B saw ports 80, 53 and 9999 only; A saw 8080, 5353, 80 and 9999
        checksums_good(capB.path, 20)
        checksums_good(capA.path, 20)
        local function ports(path)
          local set = {}
          for _, r in ipairs(tshark(path, { "tcp.srcport", "tcp.dstport", "udp.srcport",
            "udp.dstport", "ip.src", "ipv6.src" })) do
            local server = (r["ip.src"] or r["ipv6.src"]):find("^10%.2%.0%.2$")
              or (r["ipv6.src"] or ""):find("^fd00:2::2$")
            local p = server and (r["tcp.srcport"] or r["udp.srcport"])
              or (r["tcp.dstport"] or r["udp.dstport"])
            set[tonumber(p)] = true
          end
          local list = {}
          for p in pairs(set) do list[#list + 1] = p end
          table.sort(list)
          return list
        end
        assert.are.same({ 53, 80, 9999 }, ports(capB.path))
        assert.are.same({ 80, 5353, 8080, 9999 }, ports(capA.path))
        os.remove(capA.path); os.remove(capB.path)
        assert.is_nil(H.iplink_in(A, "pa"))
        assert.is_nil(H.iplink_in(B, "pb"))
      end))

    it("--demo runs by itself", sandboxed(function()
      local out, code = H.sh(H.vnet .. " scripts/port-forward.lua --demo")
      assert.are.equal(0, code, out)
      assert.matches("B | hello to port 8080 over TCP\n", out)
      assert.matches("B | hello to port 8080 over TCP/IPv6", out)
      assert.matches("B | hello to port 8080 over UDP", out)
    end))

    it("rejects a bad rule", function()
      local out, code = H.sh(H.vnet .. " scripts/port-forward.lua a b 80=x")
      assert.are.equal(2, code)
      assert.matches("bad rule '80=x'", out)
    end)
  end)
end)
