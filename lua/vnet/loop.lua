--- vnet.loop: the event loop (epoll) that drives devices, timers and
-- signals, and the tasks that wait on it. One loop per Lua state.
--
--    local w = loop.on_readable(fd_or_file_or_obj, function(w) ... end)
--    local t = loop.after(0.5, function(t) ... end)   -- once
--    local e = loop.every(1, function(t) ... end)     -- repeatedly
--    local s = loop.on_signal("HUP", function(name, s) ... end)
--    dev:on_packet(function(pkt, dev) ... end [, {to = dev2}])  -- vnet.dev
--    local ok, why = loop.run{timeout = 10}
--    local t = loop.now()   -- seconds on the monotonic clock (a float)
--    for _, w in ipairs(loop.watchers()) do print(w, w.target) end
--
-- Every watcher has `:stop()`, `:set(fn)` (the next event goes to fn: a
-- hot swap, nothing lost or handled twice) and fields `active`, `kind`,
-- `fd`, `fn`. `dev:on_packet(fn)` on a device that has a handler swaps it
-- the same way. Misuse raises (not a function, an fd that already has a
-- watcher, a regular file); when the system cannot make a watcher (no fd
-- left for a timer or signal, the epoll watch limit) the call returns
-- `nil, msg, errno` instead, e.g. `nil, "loop.after (timerfd): Too many
-- open files", 24`.
--
-- `loop.run([{timeout = s}])` returns `true, why` where why is "empty" (no
-- watchers left), "stopped" (`loop.stop()`), "timeout", or "SIGINT" /
-- "SIGTERM" / "SIGHUP": during run, those signals end the loop cleanly unless the
-- script watches those signals itself, so `<close>` variables and `__gc`
-- still remove what the script made. An error raised in a callback stops
-- the loop and run returns `nil, message` with the traceback, unless
-- `loop.on_error(fn)` installed a handler, which then gets the message and
-- the loop goes on. At the REPL the loop turns while the prompt waits.
--
-- From another event loop (luv, cqueues; docs/event-loops.md): the loop
-- is an epoll fd, `loop.fileno()` (also `loop.pollfd()`), readable when
-- something is ready; `loop.step([timeout])` runs what is ready without
-- blocking; `loop.timeout()` is the seconds until the next timer (nil: no
-- timer). `loop.events()` is "r", so `cqueues.poll(vnet.loop)` works.
--
-- Tasks: code that reads like a script and waits without blocking the loop.
--
--    local task = loop.spawn(function(dev)
--      local pkt, err = loop.wait_packet(dev, 2)   -- nil, "timeout"
--      loop.sleep(0.5)
--      local out = ns:exec{"ping", "-c1", "10.0.0.2"}  -- the loop goes on
--    end, dev)
--    task:cancel(); loop.tasks()   -- what runs, and what it waits for
--
-- The waits: `sleep(s)`, `wait_packet(dev [, timeout])` -> pkt | nil, why,
-- `wait_readable(fd [, timeout])`, `wait_writable(fd [, timeout])` -> true
-- | nil, "timeout", `wait_signal(name [, timeout])` -> name | nil,
-- "timeout". They work in a task and in on_packet handlers and timer
-- callbacks, which become tasks when they wait (pkt is then the device's
-- reused packet: copy it before waiting if you need it after). A plain
-- `coroutine.yield()` there lets other work run and resumes next turn.
-- A task's error is reported like a callback's (traceback; on_error, or
-- run() returns it); its watchers are stopped and its to-be-closed
-- variables closed, as they are by task:cancel().
local core = require "vnet.loop.core"

local M = {}
local HIDDEN = { watcher_methods = true, keep = true, recent = true, counters = true }
for k, v in pairs(core) do
  if not HIDDEN[k] and k:sub(1, 1) ~= "_" then M[k] = v end
end

--- on_packet(dev, fn [, opts]) -> watcher: dev:on_packet(fn, opts) (vnet.dev)
function M.on_packet(dev, fn, opts)
  return require("vnet.dev").on_packet("loop.on_packet", dev, fn, opts)
end

local co_create, co_resume, co_status = coroutine.create, coroutine.resume, coroutine.status
local co_running, co_yield, co_close = coroutine.running, coroutine.yield, coroutine.close
local getinfo, traceback = debug.getinfo, debug.traceback
local format = string.format

-- Raise msg at the first frame outside vnet's own modules (the user's);
-- with no position when a tail call left no such frame.
local function raise(msg)
  local level = 0
  for l = 2, 50 do
    local info = getinfo(l, "S")
    if not info then break end
    if info.what ~= "C" and not info.source:find("/vnet/[%w_]+%.lua$") then
      level = l
      break
    end
  end
  error(msg, level)
end

-- How many ns:run calls are under way (vnet.netns); loop_depth: how many
-- were when the loop started turning. A wait inside one entered since
-- would leave the whole thread in that namespace while other work runs.
local function ns_depth()
  local netns = package.loaded["vnet.netns.core"] -- one, however often
  return netns and netns._depth or 0                -- vnet.netns is loaded
end
local loop_depth = 0

--- run([{timeout = s}]) -> true, why | nil, message (see above)
function M.run(...)
  local before = loop_depth
  loop_depth = ns_depth()
  local r = table.pack(pcall(core.run, ...))
  loop_depth = before
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

--- step([timeout]) -> n, active [, "stopped"] | nil, message: run what
-- is ready (watchers, timers, tasks, signals), waiting up to timeout
-- seconds (default 0: not at all). n: events handled; active: watchers
-- left (0: nothing more will happen, as run()'s "empty"); "stopped" when a
-- callback called loop.stop(). For driving the loop from another event
-- loop: poll `loop.fileno()` for reading, sleep at most `loop.timeout()`.
function M.step(...)
  local before = loop_depth
  loop_depth = ns_depth()
  local r = table.pack(pcall(core.step, ...))
  loop_depth = before
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

-- ---- tasks ----------------------------------------------------------------

local WAIT = {}       -- what a vnet wait yields: its watchers are armed
local live = {}       -- thread -> task, while it runs or waits
local next_id = 0

local Task = { __name = "vnet.task" }
Task.__index = Task

function Task:__tostring()
  local what = self.status == "waiting" and ": waiting for " .. self.waiting or
    ": " .. self.status
  return format("vnet.task %d (%s)%s", self.id, self.name, what)
end

-- "file:line" of the function at the bottom of thread co
local function origin(co)
  local bottom
  for l = 0, 200 do
    local info = getinfo(co, l, "S")
    if not info then break end
    if info.what ~= "C" then bottom = info end
  end
  return bottom and format("%s:%d", bottom.short_src, bottom.linedefined) or "?"
end

local function new_task(co, name)
  next_id = next_id + 1
  local t = setmetatable({ id = next_id, name = name, status = "ready",
    started = core.now(), co = co, watchers = {} }, Task)
  live[co] = t
  return t
end

local function disarm(t)
  local ws = t.watchers
  for i = #ws, 1, -1 do
    ws[i]:stop()
    ws[i] = nil
  end
  t.waiting = nil
end

local step

local function finish(t, status)
  disarm(t)
  live[t.co] = nil
  t.status = status
  t.ended = core.now()
end

-- Resume t on the next turn of the loop: true, or nil, msg, errno when no
-- timer can be made (a task that yielded then raises it in its callback).
local function schedule(t)
  t.status, t.waiting = "waiting", "its turn"
  local w, err, errno = core.after(0, function() step(t) end)
  t.watchers[#t.watchers + 1] = w
  return w and true, err, errno
end

local function settle(t, ok, first, ...)
  if co_status(t.co) == "dead" then
    if ok then return finish(t, "done") end
    local e = first
    if type(e) ~= "string" then
      local mt = getmetatable(e)
      e = mt and mt.__tostring and tostring(e) or format("(error object is a %s value)", type(e))
    end
    local msg = traceback(t.co, format("task %d (%s): %s", t.id, t.name, e))
    co_close(t.co)
    finish(t, "failed")
    t.error = msg
    return core._fail(msg)
  end
  if first ~= WAIT then assert(schedule(t)) end -- a plain yield
end

function step(t, ...)
  if not live[t.co] then return end
  disarm(t)
  t.status = "running"
  return settle(t, co_resume(t.co, ...))
end

-- A handler's thread that yielded: it is a task now (from loop.c).
core._set_adopt(function(co, ...)
  local t = live[co] or new_task(co, "callback " .. origin(co))
  return settle(t, true, ...)
end)

--- spawn(fn, ...) -> task | nil, msg, errno: run fn(...) as a task, from
-- the next turn of the loop. task fields: id, name, status ("waiting", "running", "done",
-- "failed", "cancelled"), waiting (what for), started, error.
function M.spawn(fn, ...)
  local mt = getmetatable(fn)
  if type(fn) ~= "function" and not (mt and mt.__call) then
    raise(format("loop.spawn: expected a function (got %s)", type(fn)))
  end
  local args, n = { ... }, select("#", ...)
  local info = type(fn) == "function" and getinfo(fn, "S")
  local co = co_create(function() fn(table.unpack(args, 1, n)) end) -- no tail
  -- call: the traceback of its error shows fn
  local t = new_task(co, info and format("%s:%d", info.short_src, info.linedefined) or "task")
  local ok, err, errno = schedule(t)
  if not ok then
    live[co] = nil
    return nil, err, errno
  end
  return t
end

--- task:cancel() -> true | false if it had ended: stops it where it
-- waits, closing its to-be-closed variables and watchers.
function Task:cancel()
  if not live[self.co] then return false end
  if self.co == co_running() then raise("task:cancel: a task cannot cancel itself; return instead") end
  finish(self, "cancelled")
  co_close(self.co)
  return true
end

--- tasks() -> { task, ... } that run or wait, by id
function M.tasks()
  local out = {}
  for _, t in pairs(live) do out[#out + 1] = t end
  table.sort(out, function(a, b) return a.id < b.id end)
  return out
end

-- The task running now (a handler becomes one), or raise for op.
local function current(op)
  local co, main = co_running()
  local t = live[co]
  if t then return t, false end
  if not main and co == core._handler_thread() then
    return new_task(co, "callback " .. origin(co)), true -- fresh: not yet adopted
  end
  raise(op .. ": not inside a task (start one with vnet.loop.spawn(fn); " ..
    "loop callbacks may wait too)")
end

-- A wait that does not happen leaves nothing behind: no watcher, and no
-- task for a callback that goes on as a plain callback.
local function abandon(t, fresh, msg)
  disarm(t)
  t.status = "running"
  if fresh then live[t.co] = nil end
  raise(msg)
end

local function resumed(t, fresh, ok, ...)
  if not ok then abandon(t, fresh, (...)) end -- e.g. a yield across a C call
  return ...
end

-- Arm watchers with arm(t), then yield until one of them steps t.
local function wait(op, what, timeout, arm)
  if timeout ~= nil and (type(timeout) ~= "number" or not (timeout >= 0)) then
    raise(format("%s: timeout must be a number >= 0 (got %s)", op, tostring(timeout)))
  end
  local t, fresh = current(op)
  if ns_depth() > loop_depth then
    abandon(t, fresh, op .. ": cannot wait inside ns:run (the thread would stay in that " ..
      "namespace while other work runs); wait outside it")
  end
  local ok, err, errno = pcall(arm, t)
  if not ok then
    abandon(t, fresh, op .. ": " .. tostring(err):gsub("^[^:]*:%d+: ", ""))
  end
  if err == nil and timeout then -- a system failure (err, errno) returns
    local w
    w, err, errno = core.after(timeout, function() step(t, nil, "timeout") end)
    t.watchers[#t.watchers + 1] = w
    what = format("%s (timeout %gs)", what, timeout)
  end
  if err ~= nil then
    disarm(t)
    t.status = "running"
    if fresh then live[t.co] = nil end
    return nil, err, errno
  end
  t.status, t.waiting = "waiting", what
  return resumed(t, fresh, pcall(co_yield, WAIT))
end

--- sleep(s): wait s seconds; nil, msg, errno when the system cannot (no timer)
function M.sleep(s)
  if type(s) ~= "number" or not (s >= 0) then
    raise(format("loop.sleep: seconds must be a number >= 0 (got %s)", tostring(s)))
  end
  local _, err, errno = wait("loop.sleep", format("sleep %gs", s), nil, function(t)
    local w, e, n = core.after(s, function() step(t) end)
    t.watchers[1] = w
    return e, n
  end)
  if err ~= nil then return nil, err, errno end
end

local function fdwait(op, on, fd, timeout)
  return wait(op, format("%s %s", op:match("_(%a+)$"), tostring(fd)), timeout, function(t)
    local w, err, errno = on(fd, function() step(t, true) end)
    t.watchers[1] = w
    return err, errno
  end)
end

--- wait_readable(fd [, timeout]) -> true | nil, "timeout" | nil, msg, errno
function M.wait_readable(fd, timeout)
  return fdwait("loop.wait_readable", core.on_readable, fd, timeout)
end

--- wait_writable(fd [, timeout]) -> true | nil, "timeout" | nil, msg, errno
function M.wait_writable(fd, timeout)
  return fdwait("loop.wait_writable", core.on_writable, fd, timeout)
end

--- wait_signal(name [, timeout]) -> name ("INT", ...) | nil, "timeout" | nil, msg, errno
function M.wait_signal(name, timeout)
  return wait("loop.wait_signal", "signal " .. tostring(name), timeout, function(t)
    local w, err, errno = core.on_signal(name, function(n) step(t, n) end)
    t.watchers[1] = w
    return err, errno
  end)
end

--- wait_packet(dev [, timeout]) -> pkt | nil, "timeout" | nil, "closed" | nil, msg, errno
-- The next packet the device reads: its reused packet (pkt:copy() keeps
-- it). The device must have no on_packet handler: one reader per device.
function M.wait_packet(dev, timeout)
  local op = "loop.wait_packet"
  local ok, closed = pcall(function() return dev.closed end)
  if not ok or type(closed) ~= "boolean" then
    raise(format("%s: expected a device (got %s)", op, type(dev)))
  end
  if closed then raise(format("%s: %s is closed", op, tostring(dev.name))) end
  return wait(op, "a packet on " .. dev.name, timeout, function(t)
    local w, err, errno = core._packet_waiter(dev, function(pkt)
      if pkt then return step(t, pkt) end
      t.watchers[#t.watchers + 1] = assert(core.after(0, function() step(t, nil, "closed") end))
    end)
    t.watchers[1] = w
    return err, errno
  end)
end

--- in_task() -> true when the running code may wait (a task, or a loop
-- callback)
function M.in_task()
  local co, main = co_running()
  return not main and (live[co] ~= nil or co == core._handler_thread())
end

return M
