--- vnet._journal: the journal of vnet.session (see there): its entries,
-- the hooks the modules call where they make or change something, the
-- guardian's records (core/session.c) and the undoing of entries.
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
local keyed = {}        -- every key an entry has had as key or parent (so that
                        -- supersede skips the walk for a key never seen)
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
local function send(msg)
  if not S.gfd then
    local fd, pid = core.guardian(home:fileno())
    if not fd then return end
    S.gfd, S.gpid = fd, pid
  end
  core.send(S.gfd, msg)
end

local function tell(rec)
  if S.keeping or S.finished or not home then return end
  if pending then pending[#pending + 1] = rec else send(rec) end
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
    if len + #rec + 1 > 4096 and #chunk > 0 then -- core/session.c's VNET_SESSION_MSG
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
  if e.key then keyed[e.key] = true end
  if e.parent then keyed[e.parent] = true end
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
  kept[k] = nil
  if not keyed[k] then return end -- nothing was ever recorded under k
  for i = #journal, 1, -1 do
    local x = journal[i]
    if x and (x.key == k or x.parent == k) then drop(x) end
  end
  keyed[k] = nil -- nothing is left under k
end

-- Where a namespace object (or the current one) is, for an entry.
local function place(e, ns, ino)
  e.nsino = ino or nscore.current_id()
  if ns and ns.path then e.path, e.nsname = ns.path, ns.name
  elseif ns and not ns.closed then e.nsw = setmetatable({ ns }, { __mode = "v" }) end
  if not e.path and e.nsino ~= homeino then
    local r = netns()._running(e.nsino)
    if r and r.path then e.path, e.nsname = r.path, r.name end
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
    kept[key(rawget(l, "_nsino") or nscore.current_id(), l.ifindex)] = true
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

-- The guardian's record of an address or a restore (see core/session.c),
-- or nil when it cannot undo that one.
local function record(e, ifindex, guard)
  local where = e.nsino == homeino and "-" or e.path
  if not where or not ifindex or links[e.parent] then return nil end
  if e.kind == "addr" then
    local a, len = e.name:match("^([^/]+)/?(%d*)$")
    local fam, bytes = nl.pton(a or "")
    if not fam then return nil end
    return string.format("A %d %d %d %s %d %d %s", e.id, e.nsino, ifindex, where,
      fam == "inet6" and 10 or 2, tonumber(len) or #bytes * 8,
      (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end)))
  end
  if guard then return string.format("R %d %d %d %s %s", e.id, e.nsino, ifindex, where, guard) end
end

--- session.own(kind, name, ifindex, what, undo) -> records a change
-- made in the current namespace (an address, a route...) and its undo.
function M.own(kind, name, ifindex, what, undo, guard)
  if S.keeping or S.finished then return end
  init_home()
  local e = place({ kind = kind, name = name, what = what, undo = undo })
  if ifindex then e.parent = key(e.nsino, ifindex) end
  if e.parent and kept[e.parent] then return end
  add(e)
  local rec = record(e, ifindex, guard)
  if rec then e.told = true; tell(rec) end
  return e
end

local restorable = { "mtu", "up", "name", "address", "txqueuelen", "master" }

--- session.changing(obj, ifindex, name, o): before link.set changes a link:
-- a link the session did not make gets an entry that sets it back.
function M.changing(obj, idx, name, o)
  if S.keeping or S.finished then return end
  init_home()
  local k = key(obj and rawget(obj, "_nsino") or nscore.current_id(), idx)
  local own = links[k]
  if own then
    if o.name or o.netns then M._moving = { own, obj } end
    return
  end
  local t = lcore.get(idx, "session", name)
  if not t then return end
  local back = {}
  for _, f in ipairs(restorable) do
    local v = o[f]
    if f == "master" and o.nomaster then v = 0 end
    if v ~= nil then
      if f == "master" then back.master = t.master or 0
      elseif f == "address" then back.address = t.address and nl.mac(t.address)
      else back[f] = t[f] end
    end
  end
  if next(back) == nil then return end
  local shown = {}
  for f, v in pairs(back) do shown[#shown + 1] = f .. "=" .. (f == "address" and t.address or tostring(v)) end
  table.sort(shown)
  local function n(v) return v == nil and -1 or v == true and 1 or v == false and 0 or v end
  local guard = (back.mtu or back.up ~= nil or back.master) and
    string.format("%d %d %d", n(back.mtu), n(back.up), n(back.master)) or nil
  M.own("restore", t.name, idx, "link.set " .. t.name .. " {" .. table.concat(shown, ", ") .. "}",
    function() -- only what differs now (a refused change changed nothing)
      local now, diff = lcore.get(idx, "session.undo", t.name), {}
      if not now then return true end
      for f, v in pairs(back) do
        local cur = now[f]
        if f == "master" then cur = cur or 0 elseif f == "address" then cur = cur and nl.mac(cur) end
        if cur ~= v then diff[f] = v end
      end
      if next(diff) == nil then return true end
      return lcore.set(idx, diff, "session.undo", t.name)
    end, guard)
end

--- session.changed(obj): after link.set read obj back; an owned link that
-- was renamed or moved is journaled again under its new name and place.
function M.changed(obj)
  local m = M._moving
  M._moving = nil
  if not m or m[2] ~= obj then return end
  local old = m[1]
  drop(old)
  M.own_link(obj)
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

--- session.forget_inside(ino): an anonymous namespace the session made
-- was closed; what was made in it went with it
function M.forget_inside(ino)
  for i = #journal, 1, -1 do
    local e = journal[i]
    if e and e.nsino == ino and not e.path then drop(e) end
  end
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
local undo_range
local function undo_from(from, whole)
  M._defer() -- the guardian hears of what is undone in a few messages
  local r = table.pack(pcall(undo_range, from, whole))
  M._flush()
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

function undo_range(from, whole)
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
M._owned_entry, M._tell, M._ns_label, M._core = owned_entry, tell, ns_label, core
return M
