#!/usr/bin/env vnet
--- bench.lua: `make bench` (through bench/run.sh, which gives it a private
-- /run/netns). Measures the data plane (bench/dataplane.lua), the control
-- plane (bench/control.lua), the forwarder's memory (bench/memory.lua),
-- topologies against Mininet (bench/topo.lua) and packet capture against
-- tcpdump and scapy (bench/capture.lua)
-- in one run and writes bench/RESULTS.md: medians of REPS runs, ratios
-- against the C loop and the kernel ceiling measured in the same run.
--
--   bench/run.sh [--reps N] [--secs S] [--only kernel,cloop,plain,...]
--                [--skip control,memory,repl,topo,capture] [--packets N] [--out FILE]
--                [--qlen N]  (TCP again with the TUNs' txqueuelen at N; 0: not; 4000)
local U = require "bench.util"

local opt = { reps = 3, secs = 3, out = "bench/RESULTS.md", packets = 10000000, skip = "", qlen = 4000 }
local i = 1
while arg[i] do
  local k = arg[i]:match("^%-%-(.+)$")
  assert(k and arg[i + 1] and opt[k] ~= nil or k == "only",
    "usage: bench.lua [--reps N] [--secs S] [--only a,b] [--skip control,memory,repl] [--packets N] [--out F] [--qlen N]")
  opt[k] = tonumber(arg[i + 1]) or arg[i + 1]
  i = i + 2
end
local function skipped(what) return ("," .. opt.skip .. ","):find("," .. what .. ",", 1, true) end

local report = require "bench.report"
local data, selected = require("bench.dataplane").run(opt)
local control = not skipped("control") and require("bench.control").run(opt) or nil
local memory = not skipped("memory") and require("bench.memory").run(opt) or nil
local repl = not skipped("repl") and require("bench.repl").run(opt) or nil
local topo = not skipped("topo") and require("bench.topo").run(opt) or nil
local capture = not skipped("capture") and require("bench.capture").run(opt) or nil
local text = report.write(opt, data, selected, control, memory, repl, topo, capture)
io.write(text)
