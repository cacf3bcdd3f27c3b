---@meta vnet.loop

---vnet.loop: the event loop (epoll) that drives devices, timers and
---signals, and the tasks that wait on it. One loop per Lua state. An error
---raised in a callback stops the loop and comes back from `run` as
---`nil, message` with its traceback, unless `on_error` installed a handler.
---At the REPL the loop turns while the prompt waits.
---
---Example:
---```lua
---local t = vnet.loop.after(0.1, function() print("tick") end)
---print(vnet.loop.run{ timeout = 1 })   --> true  empty
---```
---@class vnet.loop
local loop = {}

---Run the loop until no watcher is left ("empty"), `loop.stop()`
---("stopped"), the timeout ("timeout"), or SIGINT/SIGTERM/SIGHUP (their
---names), which end it cleanly unless the script watches them itself.
---
---Example:
---```lua
---vnet.loop.after(0.05, function() vnet.loop.stop() end)
---local ok, why = vnet.loop.run{ timeout = 5 }   --> true, "stopped"
---```
---@param opts? {timeout?: number} seconds to run at most
---@return true? ok
---@return string why "empty", "stopped", "timeout", "SIGINT", ... or the error with its traceback
function loop.run(opts) end

---Stop the loop: the running `run` returns `true, "stopped"` at the end of
---this turn.
---
---Example:
---```lua
---vnet.loop.after(1, vnet.loop.stop)
---```
function loop.stop() end

---True while `run` is turning the loop.
---
---Example:
---```lua
---print(vnet.loop.running())   --> false
---```
---@return boolean running
function loop.running() end

---Seconds on the monotonic clock, as a float: for measuring intervals.
---
---Example:
---```lua
---local t0 = vnet.loop.now()
---print(vnet.loop.now() - t0)
---```
---@return number seconds
function loop.now() end

---Call fn(w) once, after `s` seconds. The watcher can be stopped before.
---
---Example:
---```lua
---local t = vnet.loop.after(0.5, function(t) print("half a second") end)
---```
---@param s number seconds
---@param fn fun(w: vnet.Watcher)
---@return vnet.Watcher timer
function loop.after(s, fn) end

---Call fn(w) every `s` seconds until the watcher is stopped.
---
---Example:
---```lua
---local n = 0
---vnet.loop.every(0.1, function(w) n = n + 1; if n == 3 then w:stop() end end)
---```
---@param s number seconds
---@param fn fun(w: vnet.Watcher)
---@return vnet.Watcher timer
function loop.every(s, fn) end

---Call fn(w) whenever fd is readable: an integer fd, a Lua file, or any
---object with `:fileno()`.
---
---Example:
---```lua
---local f = io.popen("echo hello")
---vnet.loop.on_readable(f, function(w) print(f:read("l")); w:stop() end)
---vnet.loop.run{ timeout = 5 }
---```
---@param fd integer|file*|{fileno: fun(self): integer}
---@param fn fun(w: vnet.Watcher)
---@return vnet.Watcher watcher
function loop.on_readable(fd, fn) end

---Call fn(w) whenever fd is writable (as on_readable).
---
---Example:
---```lua
---vnet.loop.on_writable(io.stdout, function(w) io.write("ready\n"); w:stop() end)
---```
---@param fd integer|file*|{fileno: fun(self): integer}
---@param fn fun(w: vnet.Watcher)
---@return vnet.Watcher watcher
function loop.on_writable(fd, fn) end

---Call fn(name, w) when the signal arrives ("HUP", "INT", "USR1", ...).
---Watching INT, TERM or HUP keeps `run` from ending on them.
---
---Example:
---```lua
---vnet.loop.on_signal("HUP", function(name, w) print("reload") end)
---```
---@param name string the signal's name, without "SIG"
---@param fn fun(name: string, w: vnet.Watcher)
---@return vnet.Watcher watcher
function loop.on_signal(name, fn) end

---Call fn(pkt, dev) for each packet dev reads: the same as
---`dev:on_packet(fn, opts)` (opts.to: where the packets fn passes go).
---pkt is the device's one reused packet: `pkt:copy()` keeps it.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open())
---vnet.loop.on_packet(dev, function(pkt, dev) print(pkt) end)
---```
---@param dev vnet.Device
---@param fn fun(pkt: vnet.Packet, dev: vnet.Device): (boolean|vnet.Device)?
---@param opts? { to: vnet.Device|false }
---@return vnet.Watcher watcher
function loop.on_packet(dev, fn, opts) end

---Install the handler of errors raised in callbacks and tasks: it gets the
---message (with traceback) and the loop goes on. nil removes it (errors
---then stop the loop).
---
---Example:
---```lua
---vnet.loop.on_error(function(msg) io.stderr:write(msg, "\n") end)
---```
---@param fn? fun(msg: string)
function loop.on_error(fn) end

---The active watchers, each with fields kind, fd, fn, active and target.
---
---Example:
---```lua
---for _, w in ipairs(vnet.loop.watchers()) do print(w, w.kind) end
---```
---@return vnet.Watcher[] watchers
function loop.watchers() end

---The number of active watchers (the loop ends when it reaches 0).
---
---Example:
---```lua
---print(vnet.loop.active())
---```
---@return integer count
function loop.active() end

---Drive the loop from another event loop (luv, cqueues): wait up to
---timeout seconds (default 0: not at all) for what is ready, and run it.
---n events handled and the watchers still active, plus "stopped" when a
---callback called loop.stop(); a callback's error as `nil, message`. Raises
---inside run(), a callback or a task, or at the REPL (docs/event-loops.md).
---
---Example:
---```lua
---vnet.loop.after(0.05, function() print("fired") end)
---while vnet.loop.active() > 0 do vnet.loop.step(vnet.loop.timeout()) end
---```
---@param timeout? number seconds
---@return integer? n
---@return integer|string active
---@return string? stopped
function loop.step(timeout) end

---Seconds until the next timer fires (0 when one is due), or nil when no
---timer runs: how long another event loop may sleep before step().
---
---Example:
---```lua
---local t = vnet.loop.after(2, function() end)
---print(vnet.loop.timeout()); t:stop()
---```
---@return number? seconds
function loop.timeout() end

---The loop's epoll fd, for another event loop: readable when step() has
---something to run (timers included).
---
---Example:
---```lua
---print(vnet.loop.fileno())
---```
---@return integer fd
function loop.fileno() end

---The same fd as fileno: cqueues' polling protocol (cqueues.poll(vnet.loop)).
---
---Example:
---```lua
---print(vnet.loop.pollfd() == vnet.loop.fileno())   --> true
---```
---@return integer fd
function loop.pollfd() end

---"r": what to poll the fd for, in cqueues' polling protocol.
---
---Example:
---```lua
---print(vnet.loop.events())   --> r
---```
---@return string events
function loop.events() end

---Run fn(...) as a task from the next turn of the loop: code that reads
---like a script and waits (sleep, wait_packet, ns:exec...) without
---blocking the loop. Its error is reported like a callback's.
---
---Example:
---```lua
---local task = vnet.loop.spawn(function(s) vnet.loop.sleep(s); print("slept") end, 0.1)
---vnet.loop.run{ timeout = 1 }
---```
---@param fn function
---@param ... any the arguments of fn
---@return vnet.Task task
function loop.spawn(fn, ...) end

---The tasks that run or wait, by id.
---
---Example:
---```lua
---for _, t in ipairs(vnet.loop.tasks()) do print(t.id, t.status, t.waiting) end
---```
---@return vnet.Task[] tasks
function loop.tasks() end

---Wait s seconds (in a task or a loop callback).
---
---Example:
---```lua
---vnet.loop.spawn(function() vnet.loop.sleep(0.2); print("later") end)
---```
---@param s number seconds
function loop.sleep(s) end

---Wait until fd is readable (in a task).
---
---Example:
---```lua
---vnet.loop.spawn(function() assert(vnet.loop.wait_readable(io.stdin, 5)) end)
---```
---@param fd integer|file*|{fileno: fun(self): integer}
---@param timeout? number seconds
---@return true? ok
---@return string? why "timeout"
function loop.wait_readable(fd, timeout) end

---Wait until fd is writable (in a task).
---
---Example:
---```lua
---vnet.loop.spawn(function() assert(vnet.loop.wait_writable(io.stdout, 5)) end)
---```
---@param fd integer|file*|{fileno: fun(self): integer}
---@param timeout? number seconds
---@return true? ok
---@return string? why "timeout"
function loop.wait_writable(fd, timeout) end

---Wait for a signal (in a task): its name, or nil, "timeout".
---
---Example:
---```lua
---vnet.loop.spawn(function() print(vnet.loop.wait_signal("USR1", 10)) end)
---```
---@param name string "INT", "HUP", "USR1", ...
---@param timeout? number seconds
---@return string? name
---@return string? why "timeout"
function loop.wait_signal(name, timeout) end

---The next packet dev reads (in a task): the device's reused packet
---(`pkt:copy()` keeps it), or nil, "timeout" | "closed". The device must
---have no on_packet handler: one reader per device.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open())
---vnet.loop.spawn(function() local p, why = vnet.loop.wait_packet(dev, 2); print(p or why) end)
---```
---@param dev vnet.Device
---@param timeout? number seconds
---@return vnet.Packet? pkt
---@return string? why "timeout" or "closed"
function loop.wait_packet(dev, timeout) end

---True when the running code may wait: a task, or a loop callback (which
---becomes a task when it waits).
---
---Example:
---```lua
---print(vnet.loop.in_task())   --> false
---```
---@return boolean
function loop.in_task() end

---A watcher: what `on_readable`, `after`, `every`, `on_signal` and
---`dev:on_packet` return. Fields: active, kind, fd, fn, target, and to
---(a packet watcher's device for the packets its handler passes).
---@class vnet.Watcher
---@field active boolean false once stopped
---@field kind string "readable", "writable", "timer", "signal", "packet"
---@field fd? integer the watched fd (nil for a timer)
---@field fn function the handler
---@field to? vnet.Device a packet watcher's `to` (dev:on_packet's option)
local Watcher = {}

---Stop the watcher (safe twice); the loop ends when none is left.
---
---Example:
---```lua
---local w = vnet.loop.every(1, print)
---w:stop()
---```
function Watcher:stop() end

---Hand the next event to fn instead: a hot swap, no event lost or handled
---twice.
---
---Example:
---```lua
---local w = vnet.loop.every(1, print)
---w:set(function(w) print("new handler") end)
---```
---@param fn function
---@return vnet.Watcher self
function Watcher:set(fn) end

---A task (`vnet.loop.spawn`): fields id, name, status ("waiting",
---"running", "done", "failed", "cancelled"), waiting (what for), started,
---error.
---@class vnet.Task
---@field id integer
---@field status string
---@field waiting? string what it waits for
---@field error? string why it failed
local Task = {}

---Stop the task where it waits, closing its to-be-closed variables and
---watchers: true, or false when it had already ended.
---
---Example:
---```lua
---local t = vnet.loop.spawn(function() vnet.loop.sleep(60) end)
---t:cancel()
---```
---@return boolean cancelled
function Task:cancel() end

return loop
