--- vnet.netns: network namespaces.
--
--    local ns <close> = assert(vnet.netns.create())   -- a fresh, private one
--    ns:run(function()
--      -- everything here happens inside ns: devices made here live there
--    end)
--
-- netns.create() makes an anonymous namespace held by the returned object;
-- it (and every device in it) goes away when the object is closed or
-- collected and nothing else holds it. netns.current() is the namespace the
-- caller is in now. ns:run(fn, ...) calls fn inside ns and always returns to
-- the namespace it was called from, even when fn raises.
local core = require "vnet.netns.core"

local M = { methods = core.methods }
local SELF = "/proc/thread-self/ns/net"

--- netns.current() -> ns | nil, msg, errno
function M.current()
  return core.open(SELF, "current")
end

--- netns.create() -> ns | nil, msg, errno
function M.create()
  local home, err, eno = M.current()
  if not home then return nil, err, eno end
  local ok
  ok, err, eno = core.unshare()
  if not ok then home:close(); return nil, err, eno end
  local ns
  ns, err, eno = core.open(SELF)
  local back, berr = core.enter(home)
  home:close()
  if not back then error("netns.create: cannot return to the original namespace: " .. berr) end
  if not ns then return nil, err, eno end
  ns:_setname(nil)
  return ns
end

--- ns:run(fn, ...) -> what fn returns; raises what fn raises
function core.methods.run(ns, fn, ...)
  local home <close> = assert(M.current())
  assert(core.enter(ns))
  local r = table.pack(pcall(fn, ...))
  local back, berr = core.enter(home)
  if not back then error("netns.run: cannot return to the original namespace: " .. berr) end
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

--- ns:enter(): move the calling thread into ns for good
function core.methods.enter(ns)
  return core.enter(ns)
end

return M
