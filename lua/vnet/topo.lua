--- vnet.topo: a network described as one Lua table; built, checked,
-- changed and torn down as a whole.
--
--    local net <close> = assert(vnet.topo.apply {
--      name = "lab",
--      nodes = { h1 = {}, h2 = {}, r1 = { kind = "router" } },
--      links = {
--        { a = { node = "h1", addr = "10.0.1.2/24" }, b = { node = "r1", addr = "10.0.1.1/24" } },
--        { a = { node = "h2", addr = "10.0.2.2/24" }, b = { node = "r1", addr = "10.0.2.1/24" },
--          tc = { netem = { delay = "20ms" } } },
--      },
--    })
--    net.h1:ping(net.h2)              -- node objects: exec, run, ping, link
--    print(net:pingall())             -- every pair at once, as a matrix
--    print(net:summary())             -- or net:json(), net:dot()
--
-- The description is checked whole before anything is made; an error names
-- where it is (`topo.apply: links[3].b: node 'h9' is not defined`) and is
-- raised at the caller's line. docs/topology.md describes every field.
-- apply makes only what differs from what is live (applying the same table
-- twice changes nothing; net:apply(changed) makes just the changes), diff
-- says what apply would do, destroy removes the namespaces (and with them
-- everything in them). System failures return nil, msg, errno.
local netns = require "vnet.netns"
local link = require "vnet.link"
local check = require "vnet._topocheck"
local live = require "vnet._topolive"
local exec = require "vnet._topoexec"
local raise = require("vnet._caller").raise

local M = {}
local Topo, Node = { __name = "vnet.topo" }, { __name = "vnet.topo.node" }
local tmethods, nmethods = {}, {}
M.methods, M.node_methods = tmethods, nmethods
Topo.methods = tmethods -- where Tab completion and help() find them

-- A description (or a loaded file's result) checked into the desired state.
local function desired(op, desc)
  if type(desc) == "string" then desc = M.load(desc) end
  local ok, D = pcall(check.check, desc)
  if not ok then
    if type(D) == "table" and D.topo then raise("%s: %s", op, D.topo) end
    error(D, 0)
  end
  return D
end

--- topo.check(description) -> true; raises on a malformed one
function M.check(desc)
  desired("topo.check", desc)
  return true
end

--- topo.load(path) -> description: runs the file, which returns the table
function M.load(path)
  local chunk, err = loadfile(path)
  if not chunk then raise("topo.load: %s", err) end
  local ok, t = pcall(chunk)
  if not ok then raise("topo.load %s: %s", path, tostring(t)) end
  if type(t) ~= "table" then raise("topo.load %s: the file must return the description table (got %s)", path, type(t)) end
  return t
end

-- ---- the topology object --------------------------------------------------

local function node_object(T, N, ns)
  local n = T.nodes[N.name] or setmetatable({}, Node)
  n.name, n.kind, n.netns, n.topo, n.info = N.name, N.kind, ns, T, N
  return n
end

local function refresh(T, D, nss)
  for name in pairs(T.nodes) do if not D.nodes[name] then T.nodes[name] = nil end end
  for _, nn in ipairs(D.order) do T.nodes[nn] = node_object(T, D.nodes[nn], nss[nn]) end
  T.desired = D
end

Topo.__index = function(T, k)
  local m = tmethods[k]
  if m ~= nil then return m end
  return rawget(T, "nodes")[k]
end
Topo.__tostring = function(T)
  local n = 0
  for _ in pairs(T.nodes) do n = n + 1 end
  return string.format("vnet.topo: %s (%d nodes%s)", T.name, n, T.destroyed and ", destroyed" or "")
end

local function do_apply(op, D)
  local ok, err, eno = exec.probe(D)
  if not ok then return nil, err, eno end
  local L, nss = live.read(D)
  local changes = live.diff(D, L)
  ok, err, eno = exec.execute(D, changes, nss)
  if not ok then return nil, err, eno end
  exec.settle(D, nss, changes)
  return changes, nss
end

--- topo.apply(description | path) -> topology, changes | nil, msg, errno
-- Builds what is not live yet; the same table twice changes nothing.
function M.apply(desc)
  local D = desired("topo.apply", desc)
  local changes, nss, eno = do_apply("topo.apply", D)
  if not changes then return nil, nss, eno end
  local T = setmetatable({ name = D.name, nodes = {} }, Topo)
  refresh(T, D, nss)
  return T, changes
end

--- t:apply(description) -> changes | nil, msg, errno: make only what differs
function tmethods.apply(T, desc)
  local D = desired("topo.apply", desc)
  if D.name ~= T.name then raise("topo.apply: the description is '%s', this topology '%s'", D.name, T.name) end
  local changes, nss, eno = do_apply("topo.apply", D)
  if not changes then return nil, nss, eno end
  refresh(T, D, nss)
  return changes
end

--- topo.diff(description) / t:diff(description) -> changes, text
-- What apply would change, as data and as text (one line per change:
-- "+ link h1:h1-eth0 veth to r1:r1-eth0", "~ tc u1:u1-eth0 netem delay 80").
function M.diff(desc)
  local D = desired("topo.diff", desc)
  local L, nss = live.read(D)
  for _, ns in pairs(nss) do ns:close() end
  local changes = live.diff(D, L)
  local lines = {}
  for i, c in ipairs(changes) do lines[i] = c.text end
  return changes, table.concat(lines, "\n")
end
function tmethods.diff(_, desc) return M.diff(desc) end

--- topo.destroy(name | description) / t:destroy() -> true | nil, msg, errno
-- Deletes the topology's namespaces; what was in them goes with them.
function M.destroy(what)
  local name = type(what) == "table" and (what.name or "topo") or what
  if type(name) ~= "string" then raise("topo.destroy: expected a topology name or description (got %s)", type(what)) end
  for _, nsname in pairs(live.namespaces(name)) do
    local ns, err, eno = netns.open(nsname)
    if ns then ns, err, eno = ns:delete() end
    if not ns then return nil, "topo.destroy " .. name .. ": " .. err, eno end
  end
  return true
end
function tmethods.destroy(T)
  if T.destroyed then return true end
  for _, n in pairs(T.nodes) do if n.netns then n.netns:close() end end
  local ok, err, eno = M.destroy(T.name)
  if ok then T.destroyed = true end
  return ok, err, eno
end
Topo.__close = function(T) T:destroy() end
-- no __gc: a topology outlives its object unless destroyed (vnet --topo does)

--- t:node(name) -> node | nil
function tmethods.node(T, name) return T.nodes[name] end

-- ---- nodes --------------------------------------------------------------------

Node.__index = nmethods
Node.__tostring = function(n)
  return string.format("vnet.topo.node: %s (%s, namespace %s)", n.name, n.kind, n.info.ns)
end

--- n:exec{"prog", "arg", ...} -> status, output | nil, msg, errno (no shell)
function nmethods.exec(n, argv) return n.netns:exec(argv) end

--- n:run(fn, ...) -> what fn returns, run inside the node's namespace
function nmethods.run(n, fn, ...) return n.netns:run(fn, ...) end

--- n:link(name) -> link object in the node | nil, msg, errno
function nmethods.link(n, name) return n.netns:run(link.get, name) end

--- n:open(kind, options) -> a tun/tap device opened inside the node
function nmethods.open(n, kind, o)
  if kind ~= "tun" and kind ~= "tap" then raise("node.open: kind must be \"tun\" or \"tap\" (got %s)", tostring(kind)) end
  return n.netns:run(require("vnet." .. kind).open, o)
end

--- n:addrs() -> { "10.0.1.2", ... }: the node's addresses, as described
function nmethods.addrs(n)
  local out = {}
  for _, ifn in ipairs(n.info.iforder) do
    for _, a in ipairs(n.info.ifaces[ifn].addrs) do out[#out + 1] = a:match("^[^/]+") end
  end
  return out
end

local function target(op, T, other)
  if type(other) == "string" and T.nodes[other] then other = T.nodes[other] end
  if getmetatable(other) == Node then
    local a = other:addrs()[1]
    if not a then return nil, op .. " " .. other.name .. ": the node has no address" end
    return a
  end
  if type(other) == "string" and require("vnet.nl.core").pton(other) then return other end
  raise("%s: expected a node, a node's name or an address (got %s)", op, tostring(other))
end

--- n:ping(node | name | address [, {count =, timeout =}]) -> true, rtt_ms | false, msg
function nmethods.ping(n, other, o)
  o = o or {}
  local addr, err = target("node.ping", n.topo, other)
  if not addr then return false, err end
  local status, out = n:exec { "ping", "-n", "-q", "-c", tostring(o.count or 1), "-i", "0.2",
    "-W", tostring(o.timeout or 1), addr }
  if status ~= 0 then return false, string.format("node.ping %s -> %s: %s", n.name, addr,
    (out or ""):match("(%d+%% packet loss)") or out or "failed") end
  return true, tonumber(out:match("= [%d.]+/([%d.]+)/"))
end

-- ---- vnet --topo FILE [script] ---------------------------------------------------

local hosted
--- For the host's --topo: build it, set `net` and each node as globals.
function M._host_begin(path)
  local T, changes = M.apply(path)
  if not T then error(changes, 0) end
  hosted = T
  _G.net = T
  for name, n in pairs(T.nodes) do
    if _G[name] == nil then _G[name] = n end
  end
  io.stderr:write(string.format("vnet: topology %s up (%d changes); globals: net, %s\n", T.name, #changes,
    table.concat(T.desired.order, ", ")))
end

--- ... and destroy it when the script or the REPL ends.
function M._host_end()
  if not hosted then return end
  local ok, err = hosted:destroy()
  hosted = nil
  if not ok then error(err, 0) end
end

require("vnet._toposhow").install(M, tmethods)
return M
