--- vnet.loop: the event loop (epoll) that drives devices, timers and
-- signals. One loop per Lua state.
--
--    local w = loop.on_readable(fd_or_file_or_obj, function(w) ... end)
--    local t = loop.after(0.5, function(t) ... end)   -- once
--    local e = loop.every(1, function(t) ... end)     -- repeatedly
--    local s = loop.on_signal("HUP", function(name, s) ... end)
--    dev:on_packet(function(pkt, dev) ... end)        -- see vnet.tun
--    local ok, why = loop.run{timeout = 10}
--    local t = loop.now()   -- seconds on the monotonic clock (a float)
--    for _, w in ipairs(loop.watchers()) do print(w, w.target) end
--
-- Every watcher has `:stop()` and fields `active`, `kind`, `fd`.
--
-- `loop.run([{timeout = s}])` returns `true, why` where why is "empty" (no
-- watchers left), "stopped" (`loop.stop()`), "timeout", or "SIGINT" /
-- "SIGTERM" / "SIGHUP": during run, those signals end the loop cleanly unless the
-- script watches those signals itself, so `<close>` variables and `__gc`
-- still remove what the script made. An error raised in a callback stops
-- the loop and run returns `nil, message` with the traceback, unless
-- `loop.on_error(fn)` installed a handler, which then gets the message and
-- the loop goes on.
local core = require "vnet.loop.core"

local M = {}
for k, v in pairs(core) do
  if k ~= "watcher_methods" then M[k] = v end
end

return M
