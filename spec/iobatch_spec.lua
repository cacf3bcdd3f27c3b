-- Batched packet I/O (core/iobatch.c, issue 15): the loop's drain reads
-- many packets of a device in one io_uring call and the writes of a
-- dispatch round leave together. The same traffic must pass, counted the
-- same, with batching on and with the read/write fallback. Witnesses:
-- ping's own count of its replies (a flood with many requests in flight,
-- so that drains find several packets waiting), and a TCP transfer of
-- random bytes compared by sha256.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local loop = vnet.loop

-- A (10.200.0.1, dev fa) <-> Lua forwarder <-> B (10.200.0.2, dev fb);
-- form "to": the loop writes (on_packet's `to`: from the read slots, in
-- place, where it can), else the handlers do
local function topology(opts, form)
  local A, B, fa, fb = require "spec.support.tunpair"(opts)
  if form == "to" then
    fa:on_packet(function() end, { to = fb })
    fb:on_packet(function() end, { to = fa })
  else
    fa:on_packet(function(p) fb:write(p) end)
    fb:on_packet(function(p) fa:write(p) end)
  end
  return A, B, fa, fb
end

-- Run cmd in namespace ns while the loop forwards; its output.
local function run_while_forwarding(ns, cmd)
  local job = ns:run(function() return H.spawn(cmd) end)
  local out = {}
  loop.on_readable(job.file, function(w)
    local line = job.file:read("L")
    if line then out[#out + 1] = line else w:stop(); loop.stop() end
  end)
  local ok, why = loop.run { timeout = 120 }
  job.wait()
  assert(ok, why)
  return table.concat(out)
end

local N = 2000

-- ping -f -l 32: 32 echo requests in flight at any time, N in all
local function flood(A)
  local out = run_while_forwarding(A, "ping -q -f -l 32 -c " .. N .. " -W 2 10.200.0.2")
  return tonumber(out:match("(%d+) received")), out
end

-- Under emulation (the kernel lane runs in qemu without KVM) the data path
-- is some fifty times slower: send less, still many batches' worth.
local SCALE = os.getenv("VNET_LANE") == "kernel" and 8 or 1

local function transfer(A, B, bytes)
  bytes = bytes // SCALE
  local src, dst = os.tmpname(), os.tmpname()
  assert(os.execute("head -c " .. bytes .. " /dev/urandom > " .. src))
  local srv = B:run(function() return H.spawn("timeout 60 nc -l 10.200.0.2 5001 > " .. dst) end)
  run_while_forwarding(A, "for i in $(seq 100); do timeout 60 nc -N 10.200.0.2 5001 < " ..
    src .. " 2>/dev/null && exit 0; sleep 0.1; done; exit 1")
  srv.wait()
  local same = H.sh("sha256sum < " .. src) == H.sh("sha256sum < " .. dst)
  os.remove(src)
  os.remove(dst)
  return same
end

describe("batched packet I/O (issue 15)", function()
  local initial
  setup(function() initial = vnet.tun.io_batching() end)
  teardown(function() vnet.tun.io_batching(initial == "io_uring") end)
  after_each(function()
    assert.are.equal(0, loop.active(), "a spec left a watcher running")
  end)

  it("says which it uses, and turns off and on again", sandboxed(function()
    local mode, why = vnet.tun.io_batching()
    assert.is_true(mode == "io_uring" or mode == "read/write")
    if os.getenv("VNET_NO_URING") then return H.skip("VNET_NO_URING is set: io_uring stays off") end
    if mode ~= "io_uring" then return H.skip("this kernel refuses io_uring: " .. tostring(why)) end
    assert.are.equal("read/write", (vnet.tun.io_batching(false)))
    assert.are.equal("io_uring", (vnet.tun.io_batching(true)))
    assert.are.equal("io_uring", vnet.tap.io_batching())
  end))

  it("stays off in a process started with VNET_NO_URING=1", function()
    local out = H.sh("VNET_NO_URING=1 " .. H.vnet ..
      " -e 'local m, why, calls = require(\"vnet\").tun.io_batching(true); print(m, why, calls)'")
    assert.are.equal("read/write\tnil\t0\n", out)
  end)

  it("refuses a mode that is not a boolean, at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 2
    local ok, err = pcall(function()
      vnet.tun.io_batching("off")
    end)
    assert.is_false(ok)
    assert.are.equal("spec/iobatch_spec.lua:" .. line ..
      ": tun.io_batching: expected a boolean (got string)", err)
  end)

  for _, mode in ipairs { "io_uring", "read/write" } do
    describe("with " .. mode, function()
      -- inside a sandboxed test: batching as this block wants it, or pending
      local function choose()
        if mode == "read/write" then vnet.tun.io_batching(false); return end
        local got, why = vnet.tun.io_batching(true)
        if got ~= "io_uring" then H.skip("io_uring is not available here: " .. tostring(why)) end
      end

      for _, form in ipairs { "write", "to" } do
      it("carries a ping flood with 32 in flight, every request answered and counted (" .. form .. ")",
        sandboxed(function()
          choose()
          local A, B, fa, fb = topology(nil, form)
          assert.are.equal(mode, fa.io)
          local _, _, calls0, ops0 = vnet.tun.io_batching()
          local got, out = flood(A)
          assert.are.equal(N, got, out)
          local _, _, calls1, ops1 = vnet.tun.io_batching()
          if mode == "io_uring" then
            -- 4 N reads and writes at least (2 N packets each way), in
            -- calls that carry several each: batching, not one at a time
            local calls, ops = calls1 - calls0, ops1 - ops0
            assert.is_true(ops >= 4 * N and ops >= 3 * calls,
              string.format("%d operations in %d io_uring calls", ops, calls))
          else
            assert.are.equal(calls0, calls1) -- no io_uring call at all
          end
          -- every request went A -> B and every reply B -> A through us
          assert.is_true(fa.rx_packets >= N and fb.tx_packets >= N,
            string.format("fa rx %d, fb tx %d", fa.rx_packets, fb.tx_packets))
          assert.is_true(fb.rx_packets >= N and fa.tx_packets >= N,
            string.format("fb rx %d, fa tx %d", fb.rx_packets, fa.tx_packets))
          assert.are.equal(0, fa.tx_dropped + fb.tx_dropped)
          fa:close(); fb:close(); A:close(); B:close()
        end))
      end

      it("keeps the reason of a write the kernel refuses in a handler (dev:last_error)",
        sandboxed(function()
          choose()
          local A = assert(vnet.netns.create())
          local fa = A:run(function()
            local d = assert(vnet.tun.open { name = "fa" })
            assert(d:addr_add("10.200.0.1", { peer = "10.200.0.2" }))
            assert(d:up())
            return d
          end)
          assert.are.equal(mode, fa.io)
          local bad = string.rep("\0", 28) -- IP version 0: the tun driver refuses it
          local results = {}
          fa:on_packet(function(_, dev) results[#results + 1] = table.pack(dev:write(bad)) end)
          local function dropped() -- the kernel's own count, for the witness
            return A:run(function() return H.ip("-s link show dev fa")[1].stats64.rx.dropped end)
          end
          local before = dropped()
          run_while_forwarding(A, "ping -c 3 -i 0.2 -W 1 10.200.0.2 >/dev/null 2>&1; echo done")
          assert.is_true(#results >= 3, #results .. " packets seen")
          if mode == "io_uring" then
            -- queued: the write said its bytes, the refusal came at the round's end
            for _, r in ipairs(results) do assert.are.same({ 28, n = 1 }, r) end
            assert.are.equal(#results, fa.tx_dropped)
          else
            for _, r in ipairs(results) do
              assert.are.same({ nil, "write fa: Invalid argument", 22, n = 3 }, r)
            end
            assert.are.equal(0, fa.tx_dropped)
          end
          assert.are.equal(#results, dropped() - before)
          local msg, errno = fa:last_error()
          assert.are.equal("write fa: Invalid argument", msg)
          assert.are.equal(22, errno)
          assert.is_nil(fa:last_error()) -- read once: cleared
          fa:close(); A:close()
          assert.is_nil(fa:last_error()) -- and readable on a closed device
        end))

      it("registers its devices' fds and read buffers with the ring while they are open",
        sandboxed(function()
          choose()
          local registering = mode == "io_uring" and os.getenv("VNET_URING_FIXED") ~= "0"
          -- sparse file and buffer tables (IORING_RSRC_REGISTER_SPARSE) came in 5.19
          local major, minor = H.sh("uname -r"):match("^(%d+)%.(%d+)")
          if registering and tonumber(major) * 100 + tonumber(minor) < 519 then
            return H.skip("kernel " .. major .. "." .. minor .. " has no sparse io_uring tables: reads are not registered")
          end
          local _, _, _, _, before = vnet.tun.io_batching()
          -- plain TUNs, with the packet-information header, and offload ones:
          -- the headers land in front of the data
          for _, opts in ipairs { {}, { pi = true }, { offload = true }, { offload = true, segments = false },
                                  { pi = true, offload = true } } do
            local A, B, fa, fb = topology(opts)
            local got, out = flood(A)
            assert.are.equal(N, got, out)
            local _, _, _, _, during = vnet.tun.io_batching()
            -- with io_uring, both read with READ_FIXED into registered slots
            -- (VNET_URING_FIXED=0, a bench knob, turns registration off)
            assert.are.equal(registering and before + 2 or before, during)
            assert.are.equal(0, fa.tx_dropped + fb.tx_dropped)
            fa:close(); fb:close(); A:close(); B:close()
            local _, _, _, _, after = vnet.tun.io_batching()
            assert.are.equal(before, after) -- closing gave the slots back
          end
        end))

      it("hands packets over in place: each whole, a write keeps the bytes it had, a kept packet outlives its device",
        sandboxed(function()
          choose()
          local A, B, fa, fb = require "spec.support.tunpair"()
          local seen, bad, kept = 0, 0, nil
          fa:on_packet(function(p)
            if p:u8(0) >> 4 == 4 then -- (IPv6 may say hello too)
              seen = seen + 1
              -- the total length field is the packet's length
              if p:u16(2) ~= #p then bad = bad + 1 end
            end
            fb:write(p)
            -- TTL 1 after the write, checksum not fixed: had the write
            -- sent these bytes and not a copy, B would drop the request
            p:set_u8(8, 1)
            kept = p
          end)
          fb:on_packet(function(p) fa:write(p) end)
          local got, out = flood(A)
          assert.are.equal(N, got, out)
          assert.is_true(seen >= N, seen .. " IPv4 packets")
          assert.are.equal(0, bad, bad .. " of " .. seen .. " packets not whole")
          fa:close(); fb:close(); A:close(); B:close()
          assert.are.equal(#kept, #kept:sub())
        end))

      it("gives a packet its own bytes back when its handler closes the device", sandboxed(function()
        choose()
        local A, B, fa, fb = require "spec.support.tunpair"()
        local seen, lens, open = 0, nil, true
        fa:on_packet(function(p)
          seen = seen + 1
          if seen == 100 then -- well into a flood: p is in a read-ahead slot
            local before = p:sub()
            fa:close()
            open = false
            -- the slots are gone and p's bytes went home with it (the asan
            -- lane would report a read of freed memory)
            lens = { #p, #p:sub(), #p:copy(), p:sub() == before }
            return
          end
          fb:write(p)
        end)
        fb:on_packet(function(p) if open then fa:write(p) end end)
        run_while_forwarding(A, "ping -q -f -l 32 -c 1000 -w 3 10.200.0.2 2>&1; true")
        assert.is_not_nil(lens, seen .. " packets seen")
        assert.are.equal(lens[1], lens[2])
        assert.are.equal(lens[1], lens[3])
        assert.is_true(lens[4], "the packet's bytes changed at close")
        fb:close(); A:close(); B:close()
      end))

      it("leaves a packet as it was when a read in its handler finds nothing", sandboxed(function()
        choose()
        local A, B, fa, fb = require "spec.support.tunpair"()
        local empty, changed = 0, 0
        fa:on_packet(function(p)
          fb:write(p)
          local before = p:sub()
          local q = fa:read() -- the next packet (p itself, reused), or nil
          if q then
            fb:write(q)
          else
            empty = empty + 1
            if p:sub() ~= before then changed = changed + 1 end
          end
        end)
        fb:on_packet(function(p) fa:write(p) end)
        local got, out = flood(A)
        assert.are.equal(N, got, out)
        assert.is_true(empty > 0, "no read found nothing")
        assert.are.equal(0, changed, changed .. " of " .. empty .. " packets changed by a read that found nothing")
        fa:close(); fb:close(); A:close(); B:close()
      end))

      it("carries a TCP transfer intact, plain and with offloads, written by the handler or the loop",
        sandboxed(function()
        choose()
        for _, form in ipairs { "write", "to" } do
          for _, opts in ipairs { {}, { pi = true }, { offload = true }, { offload = true, segments = false } } do
            local A, B, fa, fb = topology(opts, form)
            assert.is_true(transfer(A, B, 4 * 1024 * 1024), "sha256 differs")
            fa:close(); fb:close(); A:close(); B:close()
          end
        end
      end))
    end)
  end
end)
