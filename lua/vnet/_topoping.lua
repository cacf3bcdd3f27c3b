--- vnet._topoping: t:pingall(): every ordered pair of nodes at once.
local raise = require("vnet._caller").raise
local opts = require "vnet._opts"

local M = {}

local Result = { __name = "vnet.topo.pingall" }
Result.__index = Result
Result.__tostring = function(r) return r.text end

--- t:pingall([{ nodes = {names}, timeout = s, tries = n }])
-- -> result { sent, received, lost, matrix = { [src] = { [dst] = rtt ms | false } }, text }
-- Pings from every node that has an IPv4 address to every other one's
-- first address, all at once (one raw ICMP socket per node, one poll over
-- them all), asking again the ones not answered, until timeout (default 2
-- s, 3 tries). Switches are left out unless named. tostring(result) is
-- the matrix as Mininet prints it ("h1 -> h2 h3 X").
local function pingall(T, o)
  o = opts.check("topo.pingall", o, { nodes = "table", timeout = "number", tries = "integer" }, 3)
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
  local rtts
  if ok then
    for _, src in ipairs(names) do
      for _, dst in ipairs(names) do
        if src ~= dst and fds[src] and addr[dst] then
          jobs[#jobs + 1] = { fds[src], addr[dst] }
          who[#jobs] = { src, dst }
        end
      end
    end
    rtts = core.sweep(jobs, o.timeout or 2, o.tries or 3)
  end
  for _, fd in pairs(fds) do core.close(fd) end
  if not ok then return nil, err, eno end
  local r = setmetatable({ sent = #jobs, received = 0, matrix = {} }, Result)
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
