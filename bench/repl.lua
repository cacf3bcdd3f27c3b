--- repl.lua: the live REPL's measure of `make bench` (issue 12): ping
-- -i 0.01 through a TUN whose responder is swapped 20 times by lines typed
-- at the vnet prompt (a real terminal: tmux, as spec/repl_live_spec.lua
-- drives it). Counts what ping lost and what came back twice. (The other
-- measure, a forwarder with the REPL idle at its prompt against the same
-- script run alone, is the "replidle" contestant of bench/dataplane.lua.)
local U = require "bench.util"
local Term = require("spec.support.term").Term
local M = {}

local NS, SWAPS, COUNT = "vbR", 20, 600
local SETUP = [[
dev = vnet.netns.open("vbR"):run(function()
  local d = assert(vnet.tun.open { name = "rr0" })
  assert(d:addr_add("10.200.9.1", { peer = "10.200.9.2" }))
  assert(d:up())
  return d
end)
swaps, answered = 0, { 0, 0 }
function responder(i)
  return function(p, d) if p:echo_reply() then answered[i] = answered[i] + 1; d:write(p) end end
end
dev:on_packet(responder(1))
]]

-- bench/dispatch.lua run as a script, and at an idle REPL prompt: the
-- result line, "dispatch N cpu_us kpps"
local function dispatch(at_prompt, n)
  if not at_prompt then
    return U.must("build/vnet bench/dispatch.lua " .. n):match("dispatch %d+ [%d.]+ [%d.]+")
  end
  local out = os.tmpname()
  local term = Term.start({ VNET_HISTORY = "", VNET_DISPATCH_OUT = out }, "-i bench/dispatch.lua " .. n)
  local line
  for _ = 1, 600 do
    local f = io.open(out)
    line = f and f:read("l")
    if f then f:close() end
    if line then break end
    U.sleep(0.1)
  end
  term:close()
  os.remove(out)
  return line
end

--- The forwarding ring of bench/dispatch.lua with the REPL idle at its
-- prompt against the same script run alone, rounds interleaved: CPU time
-- per packet (robust on a shared machine) and packets per second.
function M.idle(opt)
  local n, r = 300000, { script = { cpu = {}, kpps = {} }, prompt = { cpu = {}, kpps = {} } }
  for round = 1, math.max(opt.reps, 5) do
    for _, mode in ipairs { "script", "prompt" } do
      local line = dispatch(mode == "prompt", n)
      local cpu, kpps = (line or ""):match("dispatch %d+ ([%d.]+) ([%d.]+)")
      io.stderr:write(string.format("round %d: dispatch ring, %s: %s\n", round, mode, line or "failed"))
      if cpu then
        table.insert(r[mode].cpu, tonumber(cpu))
        table.insert(r[mode].kpps, tonumber(kpps))
      end
    end
  end
  local s, p = r.script, r.prompt
  local cs, cp = U.median(s.cpu), U.median(p.cpu)
  local ks, kp = U.median(s.kpps), U.median(p.kpps)
  if not (cs and cp) then return "dispatch ring: failed" end
  local ratio = cs / cp -- packets per CPU second, prompt over script
  return table.concat({
    "## Live REPL: a forwarder with the REPL idle at its prompt",
    "",
    string.format("bench/dispatch.lua's ring (%d packets through an on_packet callback), run as", n),
    "`vnet bench/dispatch.lua` and under `vnet -i` with the prompt idle in a terminal (tmux),",
    string.format("%d rounds interleaved; medians. The \"replidle\" contestant above is the same", #s.cpu),
    "comparison as a forwarder between namespaces (throughput, noisier).",
    "",
    "| run | CPU us/packet | kpps (wall) |",
    "|---|---|---|",
    string.format("| script (loop.run) | %.3f | %.0f |", cs, ks),
    string.format("| REPL idle at its prompt | %.3f | %.0f |", cp, kp),
    "",
    string.format("Target: the prompt keeps >= 0.95x the script's throughput: %.2fx per CPU second, " ..
      "%.2fx wall: %s.", ratio, kp / ks, (ratio >= 0.95) and "met" or "**missed**"),
  }, "\n")
end

function M.run(opt)
  local idle = M.idle(opt)
  U.must("ip netns add " .. NS .. " && ip -n " .. NS .. " link set lo up")
  local setup = os.tmpname()
  assert(io.open(setup, "w")):write(SETUP):close()
  local term = Term.start({ VNET_HISTORY = "" })
  local ok, res = pcall(function()
    term:line(("dofile(%q)"):format(setup))
    term:wait("vnet> dofile%b()\nvnet>%s*$")
    local ping = assert(io.popen(("ip netns exec %s ping -n -c %d -i 0.01 -W 1 10.200.9.2 2>&1")
      :format(NS, COUNT)))
    U.sleep(0.3)
    for i = 1, SWAPS do
      term:line(("swaps = swaps + 1; dev:on_packet(responder(%d))"):format(i % 2 + 1))
      U.sleep(0.1)
    end
    local out = ping:read("a")
    ping:close()
    term:line("print('swapped', swaps, answered[1] + answered[2])")
    local s = term:wait("\nswapped%s+%d+%s+%d+\nvnet>%s*$")
    local swapped, answered = s:match("\nswapped%s+(%d+)%s+(%d+)\nvnet>%s*$")
    return {
      sent = tonumber(out:match("(%d+) packets transmitted")),
      received = tonumber(out:match("(%d+) received")),
      dups = tonumber(out:match("%+(%d+) duplicates") or 0),
      swapped = tonumber(swapped), answered = tonumber(answered),
    }
  end)
  term:close()
  os.remove(setup)
  U.sh("ip netns del " .. NS)
  if not ok then
    io.stderr:write("repl swaps: ", tostring(res), "\n")
    return { markdown = idle .. "\n\n## Live REPL\n\nping across handler swaps: failed (" .. tostring(res) .. ")" }
  end
  local lost = res.sent - res.received
  io.stderr:write(string.format("repl swaps: %d swaps, %d sent, %d lost, %d duplicated\n",
    res.swapped, res.sent, lost, res.dups))
  local met = res.swapped == SWAPS and lost == 0 and res.dups == 0
  res.markdown = idle .. "\n\n" .. table.concat({
    "## Live REPL: handler swaps typed at the prompt",
    "",
    string.format("`ping -i 0.01 -c %d` through a TUN whose responder was swapped %d times by lines",
      COUNT, res.swapped),
    "typed at the vnet prompt in a terminal (tmux), while the pings flowed (bench/repl.lua).",
    "",
    "| sent | received | lost | duplicated | answered by the handlers | target: 0 lost, 0 duplicated |",
    "|---|---|---|---|---|---|",
    string.format("| %d | %d | %d | %d | %d | %s |", res.sent, res.received, lost, res.dups,
      res.answered, met and "met" or "**missed**"),
  }, "\n")
  return res
end

return M
