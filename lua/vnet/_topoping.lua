--- vnet._topoping: t:pingall(): every ordered pair of nodes at once.
local raise = require("vnet._caller").raise
local opts = require "vnet._opts"

local M = {}

local BUDGET = 400 -- ARP entries a pingall batch may make (see below)

-- remove the neighbour entries the kernel learned (not permanent) here
local function flush_learned()
  local neigh = require "vnet.neigh"
  for _, n in ipairs(neigh.list() or {}) do
    local st = n.state and n.state[1]
    if st ~= "PERMANENT" and st ~= "NOARP" and n.dev then neigh.del(n.dev, n.dst) end
  end
end

local Result = { __name = "vnet.topo.pingall" }
Result.__index = Result
Result.__tostring = function(r) return r.text end

--- t:pingall([{ nodes = {names}, timeout = s, tries = n, window = n }])
-- -> result { sent, received, lost, matrix = { [src] = { [dst] = rtt ms | false } }, text }
-- Pings from every node that has an IPv4 address to every other one's
-- first address, concurrently (one raw ICMP socket per node, one poll over
-- them all, `window` echoes out at a time, default 32), asking again one
-- not answered in timeout s (default 1), up to tries times (default 3).
-- Switches are left out unless named. tostring(result) is the matrix as
-- Mininet prints it ("h1 -> h2 h3 X").
local function pingall(T, o)
  o = opts.check("topo.pingall", o, { nodes = "table", timeout = "number", tries = "integer",
    window = "integer" }, 3)
  local core = require "vnet.ping.core"
  local names = {}
  if o.nodes then
    for i, nn in ipairs(o.nodes) do
      if not T.nodes[nn] then raise("topo.pingall: nodes[%d]: node '%s' is not defined", i, tostring(nn)) end
      names[#names + 1] = nn
    end
  else
    for _, nn in ipairs(T.desired.order) do
      if T.nodes[nn].kind ~= "switch" then names[#names + 1] = nn end
    end
  end
  local addr, fds, jobs, who = {}, {}, {}, {}
  for _, nn in ipairs(names) do
    for _, a in ipairs(T.nodes[nn]:addrs()) do
      if not a:find(":", 1, true) then addr[nn] = a; break end
    end
  end
  local ok, err, eno = true, nil, nil
  for _, nn in ipairs(names) do
    if addr[nn] then
      local fd, e, en = T.nodes[nn]:run(core.open)
      if not fd then ok, err, eno = nil, "topo.pingall " .. nn .. ": " .. e, en; break end
      fds[nn] = fd
    end
  end
  local rtts = {}
  if ok then
    -- The kernel's ARP table is shared by every namespace and refuses new
    -- entries past gc_thresh3 (1024) when they are younger than 5 s: 50
    -- hosts make 2450 at once. So the sources go in batches of about
    -- BUDGET entries (a pair makes two: the target learns the source),
    -- and the nodes' learned (not permanent) entries are flushed between.
    local targets = 0
    for _, dst in ipairs(names) do if addr[dst] then targets = targets + 1 end end
    local per = math.max(1, BUDGET // math.max(1, 2 * (targets - 1)))
    local srcs = {}
    for _, src in ipairs(names) do if fds[src] then srcs[#srcs + 1] = src end end
    for b = 1, #srcs, per do
      local batch = {}
      for k = b, math.min(#srcs, b + per - 1) do
        for _, dst in ipairs(names) do
          local src = srcs[k]
          if src ~= dst and addr[dst] then
            batch[#batch + 1] = { fds[src], addr[dst] }
            who[#who + 1] = { src, dst }
          end
        end
      end
      for _, rtt in ipairs(core.sweep(batch, o.timeout or 1, o.tries or 3, o.window or 32)) do
        rtts[#rtts + 1] = rtt
      end
      jobs[#jobs + 1] = #batch
      if #srcs > per then
        for _, nn in ipairs(names) do T.nodes[nn]:run(flush_learned) end
      end
    end
  end
  for _, fd in pairs(fds) do core.close(fd) end
  if not ok then return nil, err, eno end
  local r = setmetatable({ sent = #rtts, received = 0, matrix = {} }, Result)
  for i, rtt in ipairs(rtts) do
    local src, dst = who[i][1], who[i][2]
    r.matrix[src] = r.matrix[src] or {}
    r.matrix[src][dst] = rtt
    if rtt then r.received = r.received + 1 end
  end
  r.lost = r.sent - r.received
  local lines = {}
  for _, src in ipairs(names) do
    local row = { src, "->" }
    for _, dst in ipairs(names) do
      if dst ~= src then
        local v = r.matrix[src] and r.matrix[src][dst]
        row[#row + 1] = v and dst or "X"
      end
    end
    lines[#lines + 1] = table.concat(row, " ")
  end
  lines[#lines + 1] = string.format("*** Results: %d%% dropped (%d/%d received)",
    r.sent > 0 and math.floor(r.lost * 100 / r.sent + 0.5) or 0, r.received, r.sent)
  r.text = table.concat(lines, "\n")
  return r
end

function M.install(topo, tmethods)
  tmethods.pingall = pingall
end

return M
