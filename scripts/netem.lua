#!/usr/bin/env vnet
--- netem.lua: a tiny netem in Lua: loss, delay, jitter, duplication and
-- reordering between two network namespaces.
--
-- Run as root (TUN devices and namespaces need CAP_NET_ADMIN):
--
--   vnet scripts/netem.lua --demo [options]         see it work, then exit
--   vnet scripts/netem.lua [options] A B
--
-- A and B are network namespaces: an `ip netns` name, a path
-- (/run/netns/NAME, /proc/PID/ns/net) or a pid. The script routes between
-- them through two TUNs it holds: `ea` in A (10.1.0.2/24, fd00:1::2/64)
-- and `eb` in B (10.2.0.2/24, fd00:2::2/64), each with a route to the
-- other's networks, and does to every packet what the options say:
--
--   --loss PCT       drop PCT percent of the packets (0)
--   --delay MS       hold each packet MS milliseconds (0)
--   --jitter MS      plus or minus up to MS more, at random (0): packets
--                    held longer may then be passed by later ones
--   --duplicate PCT  send PCT percent of the packets twice (0)
--   --reorder PCT    with --delay: send PCT percent at once, ahead of the
--                    held ones, as Linux netem's `reorder` does (0)
--   --dir DIR        a2b, b2a or both (both)
--   --seed N         seed of the random choices, for repeatable runs
--                    (default: from the clock)
--   --a-addr CIDR, --b-addr CIDR, --a-addr6 CIDR, --b-addr6 CIDR
--                    addresses of ea and eb (as above)
--   --seconds N      stop after N seconds (default: until Ctrl-C)
--   -v               print every decision
--
-- Held packets wait in a queue ordered by the time they are due, with one
-- vnet.loop timer armed for the earliest; the packets a device hands to
-- on_packet are reused, so held ones are copied into a pool of packets
-- (no allocation per packet once the pool has grown).
--
-- With --demo the script makes two scratch namespaces itself, pings from
-- A to B through the impairments (--delay 50 --jitter 10 --loss 10 when
-- none are given), prints ping's report and exits.
--
-- Try it with named namespaces:
--   ip netns add a; ip netns add b
--   vnet scripts/netem.lua a b --delay 100 --loss 5 &
--   ip netns exec a ping -c 10 10.2.0.2      # rtt ~200 ms, some lost
--   kill %1; ip netns del a; ip netns del b
--
-- At the end it prints what it did, per direction. Ctrl-C, SIGTERM or
-- --seconds end it; held packets are dropped, the TUNs go with the script,
-- and with them their addresses and routes.
local vnet = require "vnet"
local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")
local loop = vnet.loop

local usage = lib.usage(debug.getinfo(1, "S").source:sub(2))
local o, pos = lib.getopt(arg, {
  loss = 0, delay = 0, jitter = 0, duplicate = 0, reorder = 0, dir = "both",
  seed = lib.NUMBER, a_addr = "10.1.0.2/24", b_addr = "10.2.0.2/24",
  a_addr6 = "fd00:1::2/64", b_addr6 = "fd00:2::2/64",
  seconds = lib.NUMBER, v = false, demo = false,
}, usage)
io.stdout:setvbuf("line")

local function die(msg) lib.die("netem.lua", msg, usage) end
if not o.demo and #pos ~= 2 then die("give two namespaces (A B), or --demo") end
for _, k in ipairs { "loss", "duplicate", "reorder" } do
  if o[k] < 0 or o[k] > 100 then die("--" .. k .. " is a percentage, 0 to 100") end
end
for _, k in ipairs { "delay", "jitter" } do
  if o[k] < 0 then die("--" .. k .. " must not be negative") end
end
if o.dir ~= "a2b" and o.dir ~= "b2a" and o.dir ~= "both" then die("--dir is a2b, b2a or both") end
if o.demo and o.loss + o.delay + o.jitter + o.duplicate + o.reorder == 0 then
  o.delay, o.jitter, o.loss = 50, 10, 10
end
if o.seed then math.randomseed(math.tointeger(o.seed) or o.seed) end

local random, now = math.random, loop.now
local LOSS, DUP, REORDER = o.loss / 100, o.duplicate / 100, o.reorder / 100
local DELAY, JITTER = o.delay / 1000, o.jitter / 1000

-- ---- the queue of held packets: a binary heap by (due, seq) ---------------
local heap, n, seq = {}, 0, 0
local pool = {} -- spare items { p = packet } to hold the next packets in
local timer, timer_due
local held_total = 0

local function before(x, y)
  return x.due < y.due or (x.due == y.due and x.seq < y.seq)
end

local function push(it)
  n = n + 1
  local i = n
  heap[i] = it
  while i > 1 do
    local up = i // 2
    if not before(heap[i], heap[up]) then break end
    heap[i], heap[up] = heap[up], heap[i]
    i = up
  end
end

local function pop()
  local top = heap[1]
  heap[1] = heap[n] -- (two statements: a multiple assignment's order is undefined)
  heap[n] = nil
  n = n - 1
  local i = 1
  while true do
    local l, r, m = 2 * i, 2 * i + 1, i
    if l <= n and before(heap[l], heap[m]) then m = l end
    if r <= n and before(heap[r], heap[m]) then m = r end
    if m == i then break end
    heap[i], heap[m] = heap[m], heap[i]
    i = m
  end
  return top
end

local fire

-- Arm the one timer for the earliest held packet (if not armed earlier).
local function arm()
  local top = heap[1]
  if n == 0 or (timer and timer_due <= top.due) then return end
  if timer then timer:stop() end
  timer_due = top.due
  timer = loop.after(math.max(0, top.due - now()), fire)
end

function fire()
  timer = nil
  local t = now()
  while n > 0 and heap[1].due <= t do
    local it = pop()
    it.out:write(it.p)
    it.stats.out = it.stats.out + 1
    pool[#pool + 1] = it
  end
  arm()
end

-- Hold a copy of p for `delay` seconds, then write it to out.
local function hold(p, out, delay, st)
  local it = table.remove(pool) or { p = vnet.packet.new(0) }
  if #p > it.p.capacity then it.p = p:copy() else
    it.p:resize(0)
    it.p:put(0, p)
  end
  seq = seq + 1
  it.due, it.seq, it.out, it.stats = now() + delay, seq, out, st
  held_total = held_total + 1
  push(it)
  arm()
end

-- ---- what happens to each packet ------------------------------------------
local stats = {
  a2b = { ["in"] = 0, out = 0, dropped = 0, duplicated = 0, held = 0, at_once = 0 },
  b2a = { ["in"] = 0, out = 0, dropped = 0, duplicated = 0, held = 0, at_once = 0 },
}

local function impair(p, out, dir)
  local st = stats[dir]
  st["in"] = st["in"] + 1
  if o.dir ~= "both" and o.dir ~= dir then
    st.out = st.out + 1
    return out:write(p)
  end
  if LOSS > 0 and random() < LOSS then
    st.dropped = st.dropped + 1
    if o.v then print(dir .. " drop   " .. tostring(p)) end
    return
  end
  local copies = 1
  if DUP > 0 and random() < DUP then
    copies = 2
    st.duplicated = st.duplicated + 1
  end
  for _ = 1, copies do
    local delay = DELAY
    if JITTER > 0 then delay = math.max(0, delay + JITTER * (2 * random() - 1)) end
    if REORDER > 0 and delay > 0 and random() < REORDER then
      delay = 0
      st.at_once = st.at_once + 1
    end
    if o.v then print(string.format("%s %s %s", dir, delay > 0 and
      string.format("+%3dms", math.floor(delay * 1000 + 0.5)) or "now   ", tostring(p))) end
    if delay > 0 then
      st.held = st.held + 1
      hold(p, out, delay, st)
    else
      st.out = st.out + 1
      out:write(p)
    end
  end
end

local function report()
  for _, dir in ipairs { "a2b", "b2a" } do
    local s = stats[dir]
    print(string.format("netem %s: %d in, %d out, %d dropped, %d duplicated, %d held, %d sent at once",
      dir, s["in"], s.out, s.dropped, s.duplicated, s.held, s.at_once))
  end
  if n > 0 then print(string.format("netem: %d packets still held, dropped", n)) end
end

local function demo(pair)
  local b4 = o.b_addr:match("^[^/]+")
  print(string.format("demo: ping A -> B, loss %g%%, delay %g ms +- %g ms, duplicate %g%%, " ..
    "reorder %g%%, %s", o.loss, o.delay, o.jitter, o.duplicate, o.reorder, o.dir))
  local f = lib.spawn_in(pair.a, "ping -c 10 -i 0.2 -W 2 " .. b4)
  loop.on_readable(f, function(w)
    local line = f:read("l")
    if line then return print("A | " .. line) end
    w:stop()
    f:close()
    loop.after(0.3, loop.stop) -- let the last held packets go
  end)
end

local function main()
  local pair <close> = lib.pair {
    a = pos[1], b = pos[2], a_dev = "ea", b_dev = "eb",
    a_addrs = { o.a_addr, o.a_addr6 }, b_addrs = { o.b_addr, o.b_addr6 },
    a_routes = { lib.network(o.b_addr), lib.network(o.b_addr6) },
    b_routes = { lib.network(o.a_addr), lib.network(o.a_addr6) },
  }
  local ea, eb = pair.ta, pair.tb
  ea:on_packet(function(p) impair(p, eb, "a2b") end)
  eb:on_packet(function(p) impair(p, ea, "b2a") end)
  print(string.format("netem ready: loss %g%%, delay %g ms, jitter %g ms, duplicate %g%%, " ..
    "reorder %g%%, %s", o.loss, o.delay, o.jitter, o.duplicate, o.reorder, o.dir))
  if o.demo then demo(pair) end
  local ok, why = lib.run { timeout = o.seconds }
  if timer then timer:stop() end
  report()
  print("done: " .. tostring(why))
  return ok
end

lib.main("netem.lua", main)
