--- vnet._journal: the journal of vnet.session (see there): its entries,
-- the hooks the modules call where they make or change something, the
-- guardian's records (core/netlink/session.c) and the undoing of entries.
-- Entries: {id, kind, type, name, what, undo, nsino, path | nsw, key,
-- parent, told, grouped, mate}; links and kept are keyed "nsino:ifindex".
local core = require "vnet.session.core"
local lcore = require "vnet.link.core"
local nscore = require "vnet.netns.core"
local nl = require "vnet.nl.core"

local M = {}
local journal = {}      -- entries, oldest first
local links = {}        -- "nsino:ifindex" -> the entry of a link we made
local kept = {}         -- "nsino:ifindex" of links made to persist or let go
-- keeping: undo nothing; finished: the session ended; gfd, gpid: the
-- guardian's socket and pid, once started; nextid: the last entry's id
local S = { nextid = 0, keeping = false, finished = false }
local group = core.group()
local home, homeino      -- the namespace the session began in

local function netns() return require "vnet.netns" end
local function key(ino, idx) return tostring(ino) .. ":" .. tostring(idx) end

local function init_home()
  if home then return end
  home = netns().current()
  homeino = home and home:id()
end

-- Tell the guardian (started on first need); failures are not fatal: the
-- in-process undo still runs on every ending but SIGKILL.
local pending -- records held for one send (M._defer), or nil
local function send(msg, nsfd)
  if not S.gfd then
    local fd, pid = core.guardian(home:fileno())
    if not fd then return end
    S.gfd, S.gpid = fd, pid
  end
  return core.send(S.gfd, msg, nsfd)
end

-- A record that carries a namespace's fd goes at once (its result says
-- whether the guardian holds it); the others may wait for _flush.
local function tell(rec, nsfd)
  if S.keeping or S.finished or not home then return end
  if pending and not nsfd then pending[#pending + 1] = rec; return true end
  return send(rec, nsfd)
end

--- _defer(): hold the guardian's records until _flush() sends them,
-- several to a message (a batch of links: one send, not one per link)
function M._defer() pending = pending or {} end

function M._flush()
  local p = pending
  pending = nil
  if not p or #p == 0 or S.keeping or S.finished or not home then return end
  local chunk, len = {}, 0
  for _, rec in ipairs(p) do
    if len + #rec + 1 > 4096 and #chunk > 0 then -- core/netlink/session.c's VNET_SESSION_MSG
      send(table.concat(chunk, "\n"))
      chunk, len = {}, 0
    end
    chunk[#chunk + 1], len = rec, len + #rec + 1
  end
  send(table.concat(chunk, "\n"))
end

-- The namespace of e, for undo: where it lives now, or nil when it is gone
-- (and what was in it went with it).
local function run_in(e, fn)
  local cur = nscore.current_id()
  if e.nsino == cur then return fn() end
  if e.nsino == homeino and home and not home.closed then return home:run(fn) end
  if e.path then
    local ns = nscore.open(e.path, e.path)
    if ns then
      local r = table.pack(pcall(function()
        if ns:id() == e.nsino then return ns:run(fn) end
        return true
      end))
      ns:close()
      if not r[1] then error(r[2], 0) end
      return table.unpack(r, 2, r.n)
    end
  end
  local ns = e.nsw and e.nsw[1]
  if ns and not ns.closed then return ns:run(fn) end
  return true
end

local function add(e)
  S.nextid = S.nextid + 1
  e.id = S.nextid
  journal[#journal + 1] = e
  if e.key and e.kind == "link" then links[e.key] = e end
  return e
end

local function drop(e)
  for i = #journal, 1, -1 do
    if journal[i] == e then table.remove(journal, i); break end
  end
  if e.key and links[e.key] == e then links[e.key] = nil end
  if e.told then tell("D " .. e.id) end
end

-- Something now at key k (a link at namespace inode and ifindex, a
-- namespace at its inode) proves that whatever the journal recorded under
-- k is gone: a namespace ended and its inode number came back. Drop those
-- records and what hung on them, so that they are not taken for the new one.
local function supersede(k)
  for i = #journal, 1, -1 do
    local x = journal[i]
    if x and (x.key == k or x.parent == k) then drop(x) end
  end
  kept[k] = nil
end

-- Where a namespace object (or the current one) is, for an entry.
local function place(e, ns, ino)
  e.nsino = ino or nscore.current_id()
  if ns and ns.path then e.path, e.nsname = ns.path, ns.name
  elseif ns and not ns.closed then e.nsw = setmetatable({ ns }, { __mode = "v" }) end
  if not e.path and e.nsino ~= homeino then
    local r = netns()._running(e.nsino)
    if r and r.path then e.path, e.nsname = r.path, r.name
    elseif r and not e.nsw then e.nsw = setmetatable({ r }, { __mode = "v" }) end
  end
  return e
end

local function ns_label(e)
  if e.nsname then return e.nsname end
  if e.nsino == homeino then return "(home)" end
  return "(netns " .. tostring(e.nsino) .. ")"
end

-- What session.hold() returns: its <close> ends the hold.
local Held = setmetatable({}, { __close = function() core.release() end })

--- session.hold() -> a to-be-closed value: until it is closed, a signal
-- (SIGINT, SIGTERM, SIGHUP) waits, so that what is made gets journaled.
--    local held <close> = session.hold()
function M.hold()
  core.hold()
  return Held
end

--- session.group(persist) -> the device group for a link being made
-- (nil when it is to persist or the session keeps everything).
function M.group(persist)
  if persist or S.keeping then return nil end
  return group
end

local function owned_entry(l)
  local ino = rawget(l, "_nsino") or nscore.current_id()
  return links[key(ino, l.ifindex)], key(ino, l.ifindex)
end

--- session.own_link(l [, persist [, mate]]) -> l: journal a link the
-- session made (mate: the other end of a veth, let go of together).
function M.own_link(l, persist, mate)
  if S.keeping or S.finished or not l then return l end
  init_home()
  if persist then -- what is done on it later stays too
    kept[key(rawget(l, "_nsino") or nscore.current_id(), l.ifindex)] = l.name or true -- (its name: see _restore)
    return l
  end
  local e = place({ kind = "link", type = rawget(l, "kind"), name = l.name,
    ifindex = l.ifindex, grouped = rawget(l, "devgroup") == group },
    rawget(l, "netns"), rawget(l, "_nsino"))
  e.key = key(e.nsino, e.ifindex)
  supersede(e.key)
  e.what = "link.delete " .. e.name
  e.undo = function()
    if lcore.name(e.ifindex, "session.undo") ~= e.name then return true end
    local ok, err, eno = lcore.delete(e.ifindex, "session.undo", e.name)
    if ok or eno == 19 then return true end
    return nil, err, eno
  end
  add(e)
  if mate then
    e.mate = owned_entry(mate)
    if e.mate then e.mate.mate = e end
  end
  if e.nsino == homeino or e.path then
    e.told = true
    tell(string.format("L %d %d %d %d %s %s", e.id, e.grouped and group or 0,
      e.nsino, e.ifindex, e.name, e.nsino == homeino and "-" or e.path))
  end
  return l
end

--- session.forget(l): a link was deleted; its entry (and those on it) go.
function M.forget(l, ino)
  local k = key(ino or rawget(l, "_nsino") or nscore.current_id(), l.ifindex)
  local mate = links[k] and links[k].mate -- a veth's other end went too
  for i = #journal, 1, -1 do
    local e = journal[i]
    if e and (e.key == k or e.parent == k or (mate and (e == mate or e.parent == mate.key))) then
      drop(e)
    end
  end
end

local heldns = {} -- nsino -> true: the guardian holds an fd of it (F)

-- How the guardian finds the namespace of e ("-", its path, "@": one it
-- holds; hold: give it an anonymous one now), or nil when it cannot.
local function where(e, hold)
  if e.nsino == homeino then return "-" end
  if e.path then return e.path end
  if heldns[e.nsino] then return "@" end
  local ns = e.nsw and e.nsw[1]
  if not hold or not ns or ns.closed or not tell("F " .. e.nsino, ns:fileno()) then return nil end
  heldns[e.nsino] = true
  return "@"
end

-- The record of e, with nsref in its place
local function rec_of(e, nsref)
  return string.format("%s %d %d %d %s %s", e.rtype, e.id, e.nsino, e.ifindex or 0, nsref, e.body)
end

--- session.own(kind, name, ifindex, what, rtype, body [, to [, ns]]) -> records
-- a change made in the current namespace (an address, a route...) and the
-- record that undoes it (vnet._undo; applied in-process and, after a
-- SIGKILL, by the guardian). to: an M record's namespace object; ns: the
-- namespace object of the current namespace, if there is one.
-- (rtype may be a function instead: an undo only this process can do.)
function M.own(kind, name, ifindex, what, rtype, body, to, ns)
  if S.keeping or S.finished or not rtype then return end
  init_home()
  local e = place({ kind = kind, name = name, what = what, ifindex = ifindex }, ns)
  if ifindex then e.parent = key(e.nsino, ifindex) end
  if e.parent and kept[e.parent] then return end
  if type(rtype) == "function" then
    e.undo = rtype
    return add(e)
  end
  e.rtype, e.body, e.to = rtype, body, to
  if rtype == "M" then e.holds = ns end -- the link is in there until undone
  e.undo = function()
    local fd = to and (to.fileno and to:fileno()) or nil
    return core.apply(rec_of(e, "?"), fd, e.what)
  end
  add(e)
  if not (e.parent and links[e.parent]) then -- else it goes with the link
    local ref = where(e, rtype == "M")
    if ref then e.told = tell(rec_of(e, ref)) end
  end
  return e
end

--- session.own_netns(ns, o) -> ns: journal a named namespace made now
function M.own_netns(ns, o, ...)
  if not ns or (o and o.persist) or S.keeping or S.finished then return ns, o, ... end
  init_home()
  local e = { kind = "netns", name = ns.name, path = ns.path, nsino = ns:id(),
    nsname = ns.name, what = "netns.delete " .. ns.name }
  e.undo = function()
    local cur = nscore.open(e.path, e.name, e.path)
    if not cur then return true end
    local same = cur:id() == e.nsino
    cur:close()
    if not same then return true end
    return nscore.del_named(e.path, e.name)
  end
  e.key = "netns:" .. e.nsino
  supersede(e.key)
  add(e)
  e.told = true
  tell(string.format("N %d %d %s", e.id, e.nsino, e.path))
  return ns
end

local giveback = { move = true, restore = true, port = true } -- on links it did not make

-- Drop what kept and links hold under namespace inode ino (keys "ino:...").
local function forget_keys(ino)
  local prefix = tostring(ino) .. ":"
  for _, t in ipairs { kept, links } do
    for k in pairs(t) do
      if type(k) == "string" and k:sub(1, #prefix) == prefix then t[k] = nil end
    end
  end
end

--- session.forget_inside(ino): an anonymous namespace the session made
-- is closing; links it moved in go back first, what it made there goes
-- with it
function M.forget_inside(ino)
  for i = #journal, 1, -1 do
    local e = journal[i]
    if e and e.nsino == ino and not e.path then
      if giveback[e.kind] then M._undo_one(e) else drop(e) end
    end
  end
  if heldns[ino] then heldns[ino] = nil; tell("X " .. ino) end
  -- the namespace's inode number may come back for another one: nothing
  -- recorded under its keys may be taken for what will be there then
  forget_keys(ino)
end

--- _fresh_ns(ino): a namespace was just made at inode ino: whatever the
-- journal holds under that number belongs to one that ended (a namespace
-- nobody closed, only collected), so it is dropped, never undone here.
function M._fresh_ns(ino)
  forget_keys(ino)
  for i = #journal, 1, -1 do
    local e = journal[i]
    if e and e.nsino == ino and not e.path then drop(e) end
  end
  heldns[ino] = nil
end

--- session.forget_netns(ns): a named namespace was deleted (or let go)
function M.forget_netns(ns)
  local ok, ino = pcall(ns.id, ns)
  if not ok then return end
  for i = #journal, 1, -1 do
    local e = journal[i]
    if e.key == "netns:" .. ino then drop(e) end
  end
end

local gone = { [2] = true, [3] = true, [19] = true, [99] = true } -- already undone

local function undo_one(e)
  local ok, r, err, eno = pcall(run_in, e, e.undo)
  drop(e)
  if not ok then return nil, tostring(r) end
  if not r and not gone[eno] then return nil, err, eno end
  return true
end

-- Undo the entries from index `from` on (all: 1), newest first. whole =
-- true at the end of the session: links go in one group delete per
-- namespace first. What is on a link being deleted goes with it.
local function undo_from(from, whole)
  local first_err
  local function note(ok, err, eno) if not ok and not first_err then first_err = { err, eno } end end
  local dying = {}
  for i = from, #journal do
    if journal[i].kind == "link" then dying[journal[i].key] = true end
  end
  for i = #journal, from, -1 do
    local e = journal[i]
    if e and e.kind ~= "link" and e.kind ~= "netns" then
      if e.parent and dying[e.parent] then drop(e) else note(undo_one(e)) end
    end
  end
  if whole then
    local done = {}
    for i = #journal, from, -1 do
      local e = journal[i]
      if e.kind == "link" and e.grouped and not done[e.nsino] then
        done[e.nsino] = true
        pcall(run_in, e, function() return core.delete_group(group, "session.undo") end)
      end
    end
  end
  for i = #journal, from, -1 do
    local e = journal[i]
    if e and e.kind ~= "netns" then note(undo_one(e)) end
  end
  for i = #journal, from, -1 do
    if journal[i] then note(undo_one(journal[i])) end
  end
  if first_err then return nil, first_err[1], first_err[2] end
  return true
end

M._S, M._journal, M._links, M._kept, M._group = S, journal, links, kept, group
M._drop, M._run_in, M._undo_one, M._undo_from = drop, run_in, undo_one, undo_from
M._where = where
require("vnet._restore")(M, { S = S, key = key, links = links, kept = kept, place = place,
  where = where, drop = drop, supersede = supersede, ns_label = ns_label, netns = netns,
  home = function() init_home(); return home, homeino end })
M._owned_entry, M._tell, M._ns_label, M._core = owned_entry, tell, ns_label, core
return M
