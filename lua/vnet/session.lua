--- vnet.session: what this session made, and its undoing.
--
-- A session is one run of the vnet host (a script, or the REPL until it
-- is left), or the life of a stock-Lua process that did `require "vnet"`.
-- Everything it makes (links of every kind, both veth ends, named
-- namespaces, addresses, routes, neighbours) and every change it makes to
-- a link it did not make (mtu, up, name, address, txqueuelen, master,
-- bridge-port options, a move to another namespace) is written in its
-- journal, and undone newest first when the session ends: normal exit,
-- error, os.exit, SIGINT, SIGTERM, SIGHUP, closing the REPL. Each entry
-- carries one undo record (vnet._undo); if the process dies without
-- undoing (SIGKILL, a crash), a guardian child process applies the same
-- records (core/session.c).
--
--    local s = vnet.session
--    for _, e in ipairs(s.list()) do print(e.id, e.kind, e.name, e.netns, e.undo) end
--    s.transaction(function() ... end)  -- raises: what it made is undone
--    s.undo()          -- undo everything now (s.undo(3): the newest 3)
--    s.keep()          -- keep everything: nothing is undone (vnet --keep)
--    veth.create{ name = "v0", peer = "v1", persist = true }   -- kept
--    l:keep()          -- let go of a link (and its addresses) already made
--    l:close()         -- undo it now (a link it did not make: its changes)
--    local a <close> = veth.create("a0", "a1")  -- undone at scope end
--
-- Links the session made carry device group 0x56000000 + pid (see `ip
-- link show group N`), so that ending deletes them in one request per
-- namespace (one RCU grace period for all) instead of one by one.
local J = require "vnet._journal"
local lcore = require "vnet.link.core"

local M = {}
-- the hooks the modules call (own_link, own, forget, changing, ...)
for k, v in pairs(J) do
  if k:sub(1, 1) ~= "_" then M[k] = v end
end
local S, journal, links, kept, core = J._S, J._journal, J._links, J._kept, J._core
local drop, run_in, undo_one, undo_from = J._drop, J._run_in, J._undo_one, J._undo_from
local owned_entry, ns_label = J._owned_entry, J._ns_label

--- l:keep() / ns:keep() / session.release(obj) -> true: let go of
-- something made, so that it stays when the session ends.
function M.release(obj)
  if getmetatable(obj) and getmetatable(obj).__name == "vnet.netns" then
    M.forget_netns(obj)
    return true
  end
  local e, k = owned_entry(obj)
  if e then
    for _, x in ipairs { e, e.mate } do
      for i = #journal, 1, -1 do
        local y = journal[i]
        if y and (y == x or y.parent == x.key) then drop(y) end
      end
      if x.grouped then
        run_in(x, function() return lcore.set(x.ifindex, { group = 0 }, "link.keep", x.name) end)
      end
      kept[x.key] = x.name or true
    end
  else
    for i = #journal, 1, -1 do
      if journal[i].parent == k then drop(journal[i]) end
    end
  end
  return true
end

--- l:close() -> true | nil, msg, errno: undo a link now (a link the
-- session did not make: undo what the session changed on it).
function M.close(l)
  local e, k = owned_entry(l)
  local ok, err, eno = true, nil, nil
  for i = #journal, 1, -1 do
    local x = journal[i]
    if x and x ~= e and x.parent == k then
      if e then drop(x) else -- they go with the link
        local o2, e2, n2 = undo_one(x)
        if not o2 and ok then ok, err, eno = o2, e2, n2 end
      end
    end
  end
  if e then
    local o2, e2, n2 = undo_one(e)
    if not o2 then return nil, e2, n2 end
    local mate = e.mate -- a veth's other end went with it
    for i = #journal, 1, -1 do
      local y = journal[i]
      if mate and y and (y == mate or y.parent == mate.key) then drop(y) end
    end
  end
  return ok, err, eno
end

--- session.list() -> { {id, kind, type, name, netns, undo}, ... } oldest
-- first: what the session owns, where, and what undoes it.
function M.list()
  local out = {}
  for i, e in ipairs(journal) do
    out[i] = { id = e.id, kind = e.kind, type = e.type, name = e.name,
      netns = ns_label(e), undo = e.what }
  end
  return out
end

--- session.undo([n | id-list]) -> true | nil, msg, errno
-- Undo everything now (the session goes on), the newest n entries, or the
-- entries whose ids are in the list.
function M.undo(what)
  if what == nil then return undo_from(1, true) end
  if math.type(what) == "integer" then
    if what < 0 then error("session.undo: n must be 0 or more (got " .. what .. ")", 2) end
    return undo_from(math.max(1, #journal - what + 1), false)
  end
  if type(what) ~= "table" then
    error("session.undo: expected nothing, a count or a list of ids (got " .. type(what) .. ")", 2)
  end
  local want = {}
  for _, id in ipairs(what) do want[type(id) == "table" and id.id or id] = true end
  local ok, err, eno = true, nil, nil
  for i = #journal, 1, -1 do
    local e = journal[i]
    if e and want[e.id] then
      local o2, e2, n2 = undo_one(e)
      if not o2 and ok then ok, err, eno = o2, e2, n2 end
    end
  end
  return ok, err, eno
end

--- session.transaction(fn, ...) -> what fn returns. If fn raises, what
-- the session made while it ran is undone, and the error goes on.
function M.transaction(fn, ...)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error("session.transaction: expected a function (got " .. type(fn) .. ")", 2)
  end
  local mark = S.nextid
  local r = table.pack(pcall(fn, ...))
  if r[1] then return table.unpack(r, 2, r.n) end
  local from = #journal + 1
  while from > 1 and journal[from - 1].id > mark do from = from - 1 end
  undo_from(from, false)
  error(r[2], 0)
end

--- session.keep() -> true: this session configures the machine for good;
-- nothing it made or changed (before or after) is undone.
function M.keep()
  S.keeping = true
  for i = #journal, 1, -1 do journal[i] = nil end
  for k in pairs(links) do links[k] = nil end
  if S.gfd then core.send(S.gfd, "E"); core.close(S.gfd, S.gpid); S.gfd = nil end
  return true
end

--- session.guardian() -> the guardian's pid, or nil before the session
-- made anything it would have to undo after a SIGKILL
function M.guardian() return S.gfd and S.gpid or nil end

--- session.keeping() -> true when the session keeps everything
function M.keeping() return S.keeping end

--- session.finish() -> true | nil, msg, errno: end the session now (the
-- host does this on every ending; safe to call twice).
function M.finish()
  if S.finished then return true end
  local ok, err, eno = true, nil, nil
  if not S.keeping then ok, err, eno = undo_from(1, true) end
  S.finished = true
  if S.gfd then core.send(S.gfd, "E"); core.close(S.gfd, S.gpid); S.gfd = nil end
  return ok, err, eno
end

-- os.exit does not close the Lua state: undo first
local exit = os.exit
os.exit = function(...) -- luacheck: ignore
  M.finish()
  return exit(...)
end

-- stock Lua: the end of the state (lua_close) ends the session
M._sentinel = setmetatable({}, { __gc = function() M.finish() end })

return M
