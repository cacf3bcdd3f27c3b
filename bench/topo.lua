--- topo.lua: vnet.topo against Mininet (Debian's `mininet`, `--switch lxbr
-- --controller none`, when `mn` is installed): a star of 100 hosts built
-- and destroyed, pingall over a star of 50 hosts and over a 20-switch
-- linear topology, and netem's delay seen by ping. Part of `make bench`
-- (bench.lua); alone: `unshare -m sh -c 'mount -t tmpfs x /run; mkdir
-- /run/netns; build/vnet bench/topo.lua [reps]'`.
local U = require "bench.util"

local M = {}

local function star(n)
  local nodes, links = { s1 = { kind = "switch" } }, {}
  for i = 1, n do
    nodes["h" .. i] = {}
    links[i] = { a = { node = "h" .. i, addr = string.format("10.0.%d.%d/16", i // 250, i % 250 + 1) }, b = "s1" }
  end
  return { name = "bstar", nodes = nodes, links = links }
end

local function linear(n)
  local nodes, links = {}, {}
  for i = 1, n do
    nodes["s" .. i] = { kind = "switch" }
    nodes["h" .. i] = {}
    links[#links + 1] = { a = { node = "h" .. i, addr = string.format("10.0.0.%d/24", i) }, b = "s" .. i }
    if i > 1 then links[#links + 1] = { a = "s" .. (i - 1), b = "s" .. i } end
  end
  return { name = "blin", nodes = nodes, links = links }
end

-- vnet: seconds to build + destroy; seconds of pingall and pings lost
local function vnet_build(desc)
  local t0 = U.now()
  local net = assert(vnet.topo.apply(desc))
  local t1 = U.now()
  assert(net:destroy())
  return U.now() - t0, t1 - t0
end

local function vnet_pingall(desc)
  local net = assert(vnet.topo.apply(desc))
  local t0 = U.now()
  local r = net:pingall()
  local t = U.now() - t0
  assert(net:destroy())
  return t, r.lost, r.sent
end

-- Mininet: the whole `mn` run, and the lost pings it reports
local function mn(topo, test)
  local t0 = U.now()
  -- in a network namespace of its own: Mininet puts its switches' ports
  -- in the namespace it runs in, which must not be the machine's
  local out = U.sh("unshare --net mn --switch lxbr --controller none --topo " .. topo .. " --test " .. test .. " 2>&1")
  local t = U.now() - t0
  local dropped, recv, sent = out:match("Results: (%d+)%% dropped %((%d+)/(%d+) received%)")
  return t, sent and (tonumber(sent) - tonumber(recv)), tonumber(sent), dropped
end

-- ping RTT through a link whose two ends each delay 50 ms (netem): one
-- ping first (ARP is delayed too), then the mean of 10
local function netem_rtt()
  local desc = { name = "bnetem", nodes = { a = {}, b = {} }, links = {
    { a = { node = "a", addr = "10.0.0.1/24" }, b = { node = "b", addr = "10.0.0.2/24" },
      tc = { netem = { delay = 50 } } } } }
  local net, err = vnet.topo.apply(desc)
  if not net then return nil, err end
  net.a:ping(net.b)
  local ok, rtt = net.a:ping(net.b, { count = 10 })
  net:destroy()
  return ok and rtt or nil, rtt
end

function M.run(opt)
  local reps = opt.reps or 3
  local have_mn = U.sh("command -v mn") ~= ""
  local rows = {}
  local function row(what, vs, ms, extra) rows[#rows + 1] = { what, vs, ms, extra } end
  local vb, vp50, vlin, mb, mp50, mlin, lost, mlost, mlinlost = {}, {}, {}, {}, {}, {}, 0, nil, nil
  for _ = 1, reps do
    vb[#vb + 1] = vnet_build(star(100))
    local t, l = vnet_pingall(star(50))
    vp50[#vp50 + 1], lost = t, math.max(lost, l)
    vlin[#vlin + 1] = vnet_pingall(linear(20))
    if have_mn then
      mb[#mb + 1] = mn("single,100", "none")
      local tp, lp = mn("single,50", "pingall")
      local tb = mn("single,50", "none")
      mp50[#mp50 + 1], mlost = tp - tb, math.max(mlost or 0, lp or 0)
      local tl, ll = mn("linear,20", "pingall")
      local tlb = mn("linear,20", "none")
      mlin[#mlin + 1], mlinlost = tl - tlb, ll
    end
  end
  local function f(t) return t and #t > 0 and string.format("%.2f", U.median(t)) or "n/a" end
  local function x(a, b)
    return (#a > 0 and #b > 0) and string.format("%.1fx", U.median(b) / U.median(a)) or "n/a"
  end
  row("star of 100 hosts: build + destroy (s)", f(vb), f(mb), x(vb, mb))
  row("pingall over 50 hosts (s)", f(vp50) .. ", " .. lost .. " of 2450 lost", have_mn and (f(mp50) .. ", " .. tostring(mlost) .. " lost") or "n/a", x(vp50, mp50))
  row("pingall over a 20-switch linear topology (s)", f(vlin), have_mn and (f(mlin) .. ", " .. tostring(mlinlost) .. " lost") or "n/a", x(vlin, mlin))
  local rtt, err = netem_rtt()
  local L = { "## Topologies: vnet.topo and Mininet", "",
    string.format("Median of %d runs. Mininet: `mn --switch lxbr --controller none` (%s); its pingall time is", reps,
      have_mn and "Debian's mininet" or "not installed here: its column is n/a"),
    "the `--test pingall` run less the `--test none` run of the same topology.", "",
    "| measure | vnet | Mininet | vnet faster by |", "|---|---|---|---|" }
  for _, r in ipairs(rows) do L[#L + 1] = "| " .. table.concat(r, " | ") .. " |" end
  L[#L + 1] = string.format("| netem delay 50 ms each way: ping RTT, mean of 10 (target 100 ms + 5%%) | %s | | |",
    rtt and string.format("%.1f ms (%+.1f%%)", rtt, rtt - 100) or ("n/a: " .. tostring(err)))
  return { markdown = table.concat(L, "\n") .. "\n" }
end

if arg and arg[0] and arg[0]:find("topo%.lua$") then
  io.write(M.run { reps = tonumber(arg[1]) or 3 }.markdown)
end

return M
