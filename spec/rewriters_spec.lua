-- The example rewriters of scripts/ (issue 4, item 4), each run as written
-- (`vnet scripts/X.lua ...`, a process of its own) against real traffic in
-- namespaces the spec made. The scripts that sit between two namespaces
-- get them as /proc/<spec pid>/fd/<fd> paths, which vnet.netns.open takes
-- like an `ip netns` name. Witnesses: ping, nc, iperf3 (when there is one), the kernel (which
-- drops a TCP or UDP segment with a wrong checksum), tcpdump capturing on
-- the receiving side and tshark reading its file with IP, TCP and UDP
-- checksum validation on (ICMP and ICMPv6 are always validated), and
-- iproute2 for what is left behind.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local netns = vnet.netns

local CSUMS = { "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
  "icmp.checksum.status", "icmpv6.checksum.status" }

--- How a script in another process names namespace ns.
local function path_of(ns)
  return "/proc/" .. H.mypid() .. "/fd/" .. ns:fileno()
end

local function sleep(s) os.execute("sleep " .. s) end

--- A shell command in ns, waited for: status, output.
local function sh(ns, cmd, timeout)
  return ns:exec { "sh", "-c", cmd, timeout = timeout or 20 }
end

--- Run fn when the current test ends, pass or fail (busted's finally
-- holds one function: this keeps a list).
local cleanups = {}
local function on_exit(fn)
  cleanups[#cleanups + 1] = fn
  finally(function()
    local list = cleanups
    cleanups = {}
    for i = #list, 1, -1 do pcall(list[i]) end
  end)
end

--- A temporary file name, removed when the test ends.
local function tmp()
  local path = os.tmpname()
  on_exit(function() os.remove(path) end)
  return path
end

--- A shell command in ns (or here), in the background, stdin from
-- /dev/null, in a process group of its own (setsid): a handle with pid
-- (also the group's id), file, wait() -> output, status, and kill([sig])
-- -> output, status, which signals (SIGINT unless told) the whole group
-- (a pipeline too).
-- Whatever still runs when the test ends is killed.
local function bg(ns, cmd)
  local full = "setsid sh -c 'echo $$; exec " .. cmd:gsub("'", "'\\''") .. "' < /dev/null"
  local h = ns and ns:run(H.spawn, full) or H.spawn(full)
  h.pid = tonumber(h.file:read("l"))
  assert(h.pid, "could not start: " .. cmd)
  local wait = h.wait
  function h.wait()
    h.done = true
    return wait()
  end
  function h.kill(sig)
    -- INT by default: the shell io.popen started says nothing when its
    -- child dies of SIGINT (of SIGTERM it prints "Terminated" amid the
    -- test output)
    os.execute("kill -" .. (sig or "INT") .. " -" .. h.pid .. " 2>/dev/null")
    return h.wait()
  end
  on_exit(function() if not h.done then h.kill("KILL") end end)
  return h
end

--- Start `vnet scripts/<script> <args>` here; returns its handle once it
-- printed a line matching `ready` (and the lines before, in h.head).
local function script(name, args, ready)
  local h = bg(nil, H.vnet .. " scripts/" .. name .. " " .. args)
  local head = {}
  while true do
    local l = h.file:read("l")
    if l == nil then
      local out, code = h.wait()
      error(string.format("scripts/%s did not start (exit %s):\n%s%s", name, tostring(code),
        table.concat(head, "\n"), out))
    end
    head[#head + 1] = l
    if l:find(ready) then break end
  end
  h.head = table.concat(head, "\n") .. "\n"
  --- stop(sig) -> everything it printed, exit status
  function h.stop(sig)
    local out, code = h.kill(sig or "TERM")
    return h.head .. out, code
  end
  return h
end

local has_ss = select(2, H.sh("command -v ss")) == 0

--- Wait until something in ns listens on port (proto "t" or "u").
local function listening(ns, proto, port)
  if not has_ss then return sleep(0.5) end -- (a machine without ss)
  for _ = 1, 100 do
    local _, out = ns:exec { "ss", "-Hln" .. proto, "sport = :" .. port }
    if out and out:find("%S") then return true end
    sleep(0.05)
  end
  error("nothing listens on " .. proto .. " port " .. port)
end

--- tcpdump -w on dev in ns, until :stop() (which returns its output).
local function tcpdump(ns, dev, filter)
  local path = tmp()
  -- --immediate-mode: no packet waits in the kernel's ring for a block to
  -- fill, so none is lost when tcpdump is stopped
  local h = bg(ns, "tcpdump --immediate-mode -B 16384 -U -n -i " .. dev .. " -w " .. path .. " " ..
    (filter or ""))
  local l = h.file:read("l")
  assert(l and l:find("listening on"), "tcpdump did not start: " .. tostring(l))
  h.path = path
  function h.stop()
    sleep(0.2) -- what is on its way
    return h.kill("INT")
  end
  return h
end

--- tshark's fields for each packet of a capture file (a display filter
-- may choose them): a list of rows, field -> value (all occurrences,
-- comma-separated).
local function tshark(path, fields, filter)
  return H.tshark(path, fields, { occurrence = "a", filter = filter })
end

--- Every checksum tshark checks in the file (or in the packets a display
-- filter picks) is good (status 1), and there were at least `min` packets.
-- Returns the number of packets.
local function checksums_good(path, min, filter)
  local rows = tshark(path, CSUMS, filter)
  assert.is_true(#rows >= (min or 1), "only " .. #rows .. " packets captured in " .. path)
  for i, row in ipairs(rows) do
    for _, f in ipairs(CSUMS) do
      for v in (row[f] or ""):gmatch("[^,]+") do
        assert.are.equal("1", v, string.format("packet %d of %s: %s is %s (0 bad, 2 unverified)",
          i, path, f, v))
      end
    end
  end
  return #rows
end

--- A file of n random bytes; returns its path and its bytes.
local function random_file(n)
  local path = tmp()
  local t = {}
  for i = 1, n // 8 do t[i] = string.pack("<i8", math.random(math.mininteger, math.maxinteger)) end
  local bytes = table.concat(t)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path, bytes
end

local function contents(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- Two fresh namespaces (lo up); the caller closes them (<close>).
local function two()
  local a = assert(netns.create())
  local b = assert(netns.create())
  for _, ns in ipairs { a, b } do
    ns:run(function() assert(vnet.link.set("lo", { up = true })) end)
  end
  return a, b
end

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
end)
