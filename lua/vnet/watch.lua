--- vnet.watch: the kernel's link, address, route and neighbour events,
-- delivered through vnet.loop. `vnet.link.watch(fn)` is `watch.links(fn)`.
--
--    local w = vnet.link.watch(function(ev)
--      if ev.type == "link" then print(ev.action, ev.name, ev.link.up)
--      elseif ev.type == "addr" then print(ev.action, ev.name, ev.addr.cidr)
--      elseif ev.type == "resync" then print("missed events; now", #ev.links, "links")
--      end
--    end)
--    vnet.loop.run()
--    w:stop()
--
-- Events:
--    {type = "link", action = "add"|"change"|"delete", name =, ifindex =,
--     link = <link object as it is now>}
--    {type = "addr", action = "add"|"delete", name =, ifindex =, addr = {...}}
--    {type = "route", action = "add"|"delete", route = {...}}   (groups)
--    {type = "neigh", action = "add"|"delete", neigh = {...}}   (groups)
--    {type = "resync", links = {...}, addrs = {...}, added = {name, ...},
--     removed = {name, ...}}
-- The kernel queues events in the socket's buffer; when that overflows
-- (ENOBUFS), events are lost, so the watch reads the links (and
-- addresses) again and sends one "resync" event with the tables as they
-- now are and which links appeared or went in between. While links keep
-- changing, that read may be interrupted again and again: the watch then
-- tries again with back-off (10 ms up to 1 s; `w.retries` counts them),
-- meanwhile handing out the events it receives, and sends the resync once
-- it has a whole picture. `w:names()` is that picture: the links it knows.
--
-- Options: groups (default {"link", "addr"}; also "route", "neigh"), netns
-- (watch another namespace: ns object, name or pid), rcvbuf (the socket
-- buffer in bytes). fn(ev, w) is called from the loop; an error in it
-- stops the loop, as for any vnet.loop callback.
local core = require "vnet.watch.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local loop = require "vnet.loop"
local opts = require "vnet._opts"

local M = {}
local Watch = { __name = "vnet.watch" }
Watch.__index = Watch
local valid = { link = true, addr = true, route = true, neigh = true }

local function link() return require "vnet.link" end
local EINTR = 4                        -- an interrupted dump (nl.c)
local MIN_BACKOFF, MAX_BACKOFF = 0.01, 1

--- w:names() -> the names of the links the watch knows of now, sorted:
-- its picture of the namespace, kept by the events and resyncs
function Watch:names()
  local t = {}
  for _, name in pairs(self._known()) do t[#t + 1] = name end
  table.sort(t)
  return t
end

--- w:stop(): no more events; closes the socket (safe twice)
function Watch:stop()
  if self.watcher then self.watcher:stop() end
  if self.retry then self.retry:stop(); self.retry = nil end
  if self.cont then self.cont:stop(); self.cont = nil end
  self.sock:close()
  self.stopped = true
end

--- w:fileno() -> the event socket's fd (for another event loop)
function Watch:fileno() return self.sock:fileno() end
--- w:pollfd(), w:events() -> fd, "r"; w:timeout() -> nil: cqueues'
-- polling protocol. The events still come through vnet.loop: after
-- cqueues.poll(w) returns, vnet.loop.step() hands them to fn.
function Watch:pollfd() return self.sock:pollfd() end
function Watch:events() return self.sock:events() end
function Watch:timeout() return self.sock:timeout() end

Watch.__close = Watch.stop
Watch.__tostring = function(w)
  return w.stopped and "vnet.watch (stopped)" or ("vnet.watch (fd " .. w.sock:fileno() .. ")")
end

--- watch.links(fn [, {groups =, netns =, rcvbuf =}]) -> watch | nil, msg, errno
function M.links(fn, o)
  local op = "link.watch"
  if type(fn) ~= "function" then
    raise(op .. ": expected a function (got " .. type(fn) .. ")")
  end
  o = opts.check(op, o, { groups = "table", netns = { "string", "integer", "userdata" },
    rcvbuf = "integer" })
  local groups = o.groups or { "link", "addr" }
  local has = {}
  for _, g in ipairs(groups) do
    if not valid[g] then
      raise(string.format("%s: option 'groups': unknown group '%s' (known: addr, link, neigh, route)",
        op, tostring(g)))
    end
    has[g] = true
  end
  local L = link()
  local ns
  if o.netns ~= nil then
    local err, eno
    ns, err, eno = L._tons(op, o.netns)
    if not ns then return nil, err, eno end
  end
  local function inside(f, ...)
    if ns then return ns:run(f, ...) end
    return f(...)
  end
  local sock, err, eno = inside(core.open, groups, o.rcvbuf)
  if not sock then return nil, err, eno end
  local nsid = inside(require("vnet.netns.core").current_id)
  local nsobj = ns or require("vnet.netns")._running(nsid)

  local known = {} -- ifindex -> name: what tells "add" from "change"
  local function snapshot()
    local links, lerr, leno = inside(L.list)
    if not links then return nil, lerr, leno end
    local addrs
    if has.addr then
      addrs, lerr, leno = inside(require("vnet.addr").list)
      if not addrs then return nil, lerr, leno end
    end
    return links, addrs
  end
  local links
  links, err, eno = snapshot()
  if not links then sock:close(); return nil, err, eno end
  for _, l in ipairs(links) do known[l.ifindex] = l.name end

  local w = setmetatable({ sock = sock, netns = ns, _known = function() return known end }, Watch)
  -- After lost events the tables are read again; while links keep coming
  -- and going the kernel may interrupt that dump every time (nl.c tries 10
  -- times in a row). Then the watch tries again later, backing off from
  -- 10 ms to 1 s, and goes on handing out the events it does receive; the
  -- resync event comes once a dump was whole. Only a failure that is not an
  -- interrupted dump stops the watch with an error.
  local backoff = MIN_BACKOFF
  local function resync()
    w.retry = nil
    if w.stopped then return end
    local now, addrs, reno = snapshot()
    if not now then
      if reno == EINTR then
        w.retries = (w.retries or 0) + 1
        w.retry = loop.after(backoff, resync)
        backoff = math.min(backoff * 2, MAX_BACKOFF)
        return
      end
      raise("link.watch: cannot read the links again after lost events: " .. tostring(addrs))
    end
    backoff = MIN_BACKOFF
    local seen, added, removed = {}, {}, {}
    for _, l in ipairs(now) do
      seen[l.ifindex] = true
      if not known[l.ifindex] then added[#added + 1] = l.name end
    end
    for idx, name in pairs(known) do if not seen[idx] then removed[#removed + 1] = name end end
    table.sort(added); table.sort(removed)
    known = {}
    for _, l in ipairs(now) do known[l.ifindex] = l.name end
    fn({ type = "resync", links = now, addrs = addrs, added = added, removed = removed }, w)
  end
  -- Events go through a queue: each batch read from the socket is first
  -- applied to the picture (`known`: what tells "add" from "change"), then
  -- handed to fn one by one. When fn raises (and loop.on_error lets the
  -- loop go on), the events after it are not lost: the guard's __close
  -- sees the error unwind and hands them out on the next turn of the loop.
  local queue, qhead, qtail = {}, 1, 0
  local drain
  local guard = setmetatable({}, { __close = function(_, e)
    if e ~= nil and queue[qhead] and not w.stopped and not w.cont then
      w.cont = loop.after(0, drain)
    end
  end })
  drain = function()
    w.cont = nil
    local _ <close> = guard
    while qhead <= qtail do
      if w.stopped then return end
      local ev = queue[qhead]
      queue[qhead] = nil
      qhead = qhead + 1
      if ev == "resync" then resync() else fn(ev, w) end
    end
    queue, qhead, qtail = {}, 1, 0
  end
  w.watcher = loop.on_readable(sock, function()
    local evs, overflow = sock:read()
    if not evs then error(overflow, 0) end
    for _, ev in ipairs(evs) do
      if ev.type == "link" then
        local t = ev.link
        ev.ifindex, ev.name = t.ifindex, t.name
        if ev.action == "delete" then
          known[t.ifindex] = nil
        else
          ev.action = known[t.ifindex] and "change" or "add"
          known[t.ifindex] = t.name
        end
        ev.link = L._wrap(t, nsobj, nsid)
      elseif ev.type == "addr" then
        ev.ifindex = ev.addr.ifindex
        ev.name = known[ev.ifindex]
      end
      qtail = qtail + 1
      queue[qtail] = ev
    end
    if overflow and not w.retry then qtail = qtail + 1; queue[qtail] = "resync" end
    drain()
  end)
  return w
end

return M
