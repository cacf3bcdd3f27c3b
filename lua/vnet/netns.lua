--- vnet.netns: network namespaces.
--
--    local ns <close> = assert(vnet.netns.create())   -- a fresh, private one
--    ns:run(function()
--      -- everything here happens inside ns: devices made here live there
--    end)
--    print(ns:exec{ "ip", "-br", "link" })            --> 0   lo  DOWN ...
--
--    local red = assert(vnet.netns.create("red"))     -- `ip netns` sees it
--    ...
--    red:delete()                                     -- as `ip netns del red`
--
-- netns.create() makes an anonymous namespace held by the returned object;
-- it (and every device in it) goes away when the object is closed or
-- collected and nothing else holds it. netns.create(name) makes a named one
-- under /run/netns, which lives until ns:delete(). netns.current() is the
-- namespace the caller is in now. ns:run(fn, ...) calls fn inside ns and
-- always returns to the namespace it was called from, even when fn raises.
--
-- Namespace objects have the fields name (nil when anonymous), path (of a
-- named one) and closed, and the methods run, exec, enter, id, fileno,
-- delete, close. System failures return nil, msg, errno; misuse raises.
local core = require "vnet.netns.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local opts = require "vnet._opts"

local methods = core.methods
local M = { methods = methods }
local SELF = "/proc/thread-self/ns/net"
local RUN = "/run/netns"

-- Namespaces vnet holds, weakly: to find a namespace from its id (a veth
-- peer's IFLA_LINK_NETNSID) and to know which object ns:run entered.
local known = setmetatable({}, { __mode = "k" })
local running = {} -- stack of namespaces entered by run()

local function remember(ns, ...)
  if ns then known[ns] = true end
  return ns, ...
end

--- netns.current() -> ns | nil, msg, errno
function M.current()
  return remember(core.open(SELF, "current"))
end

local function checkname(op, name)
  if type(name) ~= "string" then
    raise(string.format("%s: name must be a string (got %s)", op, type(name)))
  end
  if #name == 0 or #name > 255 or name == "." or name == ".." or name:find("[/%s%z]") then
    raise(string.format("%s: '%s' is not a valid namespace name " ..
      "(1 to 255 bytes, no '/', white space or NUL, not '.' or '..')", op, (name:gsub("%z", "\\0"))))
  end
  return name
end

--- netns.create([name]) -> ns | nil, msg, errno
-- Without a name: an anonymous namespace, alive while the object (or
-- anything else) holds it. With a name: a namespace bound to
-- /run/netns/<name> (made a shared mount first, as iproute2 does), seen by
-- `ip netns list` and `ip netns exec`, alive until ns:delete() or the
-- end of the session (vnet.session), unless o.persist is true.
-- The anonymous namespaces create() made: closing one ends it (when no
-- process is inside), and what the session made in it with it, so those
-- journal entries go at once: a namespace made later under the same inode
-- number must not be taken for it (vnet.session).
local made = setmetatable({}, { __mode = "k" })
do
  local cclose = methods.close
  local function close(ns)
    if made[ns] then
      made[ns] = nil
      local ok, ino = pcall(ns.id, ns)
      local session = package.loaded["vnet.session"]
      if ok and session then session.forget_inside(ino) end
    end
    return cclose(ns)
  end
  methods.close = close
  debug.getregistry()["vnet.netns"].__close = close
end

function M.create(name, o)
  if name ~= nil then
    checkname("netns.create", name)
    opts.check("netns.create", o, { persist = "boolean" })
    local held <close> = require("vnet.session").hold() -- until journaled
    local path, err, eno = core.add_named(name)
    if not path then return nil, err, eno end
    return remember(require("vnet.session").own_netns(core.open(path, name, path), o))
  end
  local home, err, eno = M.current()
  if not home then return nil, err, eno end
  local ok
  ok, err, eno = core.unshare()
  if not ok then home:close(); return nil, err, eno end
  local ns
  ns, err, eno = core.open(SELF)
  local back, berr = core.enter(home)
  home:close()
  if not back then raise("netns.create: cannot return to the original namespace: " .. berr) end
  if not ns then return nil, err, eno end
  ns:_setname(nil)
  made[ns] = true
  local got, id = pcall(ns.id, ns)
  if got and package.loaded["vnet._journal"] then package.loaded["vnet._journal"]._fresh_ns(id) end
  return remember(ns)
end

--- netns.open(name | path | pid) -> ns | nil, msg, errno
-- A name is looked up in /run/netns (as `ip netns` names them), a string
-- with a '/' is a path (/proc/1234/ns/net, a bind mount), an integer is
-- the namespace of that process.
function M.open(what)
  local op = "netns.open"
  if math.type(what) == "integer" then
    return remember(core.open("/proc/" .. what .. "/ns/net", "pid " .. what))
  end
  if type(what) ~= "string" then
    raise(string.format("%s: expected a name, a path or a pid (got %s)", op, type(what)))
  end
  if what:find("/", 1, true) then return remember(core.open(what, what)) end
  checkname(op, what)
  local path = RUN .. "/" .. what
  return remember(core.open(path, what, path))
end

--- netns.list() -> { name, ... }: the named namespaces (`ip netns list`)
function M.list()
  local names, err, eno = core.names(RUN)
  if not names then return nil, err, eno end
  return require("vnet.show").mark("vnet.netns.list", names) -- one name a line
end

--- ns:run(fn, ...) -> what fn returns; raises what fn raises
function methods.run(ns, fn, ...)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    raise("netns.run: expected a function (got " .. type(fn) .. ")")
  end
  local home <close> = assert(core.open(SELF, "current"))
  assert(core.enter(ns))
  running[#running + 1] = ns
  core._depth = #running -- for vnet.loop: a task must not wait in here
  local r = table.pack(pcall(fn, ...))
  running[#running] = nil
  core._depth = #running
  local back, berr = core.enter(home)
  if not back then raise("netns.run: cannot return to the original namespace: " .. berr) end
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

--- ns:keep() -> true: let go of a named namespace this session made:
-- it stays when the session ends.
function methods.keep(ns) return require("vnet.session").release(ns) end

--- ns:enter() -> true | nil, msg, errno: move the calling thread into ns for good
function methods.enter(ns)
  return core.enter(ns)
end

local exec_spec = { timeout = "number", max_output = "integer" }
-- the longest timeout: 24 days, whose milliseconds still fit poll()'s int
local MAX_TIMEOUT = 24 * 86400

-- ns:exec in a task (vnet.loop): the same results, but the loop waits for
-- the output and the exit while other work goes on. Cancelling the task
-- kills the command.
local function exec_in_task(loop, ns, argv, timeout, max)
  timeout, max = timeout or 30, max or 1 << 20
  local pid, fd, eno = core.exec_start(ns, argv)
  if not pid then return nil, fd, eno end
  local child <close> = setmetatable({ fd = fd }, { __close = function(c)
    if not c.status then core.exec_reap(pid, true, c.fd) end
  end })
  local deadline, parts, kept = loop.now() + timeout, {}, 0
  while child.fd and loop.now() < deadline do
    if loop.wait_readable(fd, math.max(0, deadline - loop.now())) then
      local chunk = core.exec_read(fd)
      if chunk == nil then child.fd = nil
      elseif kept < max then
        parts[#parts + 1] = chunk:sub(1, max - kept)
        kept = kept + #parts[#parts]
      end
    end
  end
  while not child.fd and loop.now() < deadline do
    child.status = core.exec_reap(pid)
    if child.status then return child.status, table.concat(parts) end
    loop.sleep(0.01)
  end
  child.status = core.exec_reap(pid, true, child.fd)
  return nil, ("netns.exec %s: Connection timed out (killed after %.14g s)"):format(argv[1], timeout),
    110, table.concat(parts)
end

--- ns:exec{"prog", "arg", ..., timeout = s, max_output = bytes}
-- -> status, output | nil, msg, errno
-- Runs the command inside ns (fork, setns, exec: no shell), stdin from
-- /dev/null, stdout and stderr together in output (at most max_output
-- bytes, default 1 MiB). status is the exit code, or 128 + the signal.
-- A command still running after timeout seconds (default 30) is killed:
-- nil, "netns.exec prog: Connection timed out (killed after N s)", 110,
-- output so far. A command that cannot start: nil, "netns.exec prog: No
-- such file or directory (command not found)", 2. In a task (vnet.loop)
-- the loop goes on while the command runs.
function methods.exec(ns, argv)
  if type(argv) ~= "table" then
    raise("netns.exec: expected a table {\"prog\", \"arg\", ...} (got " .. type(argv) .. ")")
  end
  local o = {}
  for k, v in pairs(argv) do
    if math.type(k) ~= "integer" then o[k] = v end
  end
  opts.check("netns.exec", o, exec_spec)
  if #argv == 0 then raise("netns.exec: needs a command: {\"prog\", \"arg\", ...}") end
  for i = 1, #argv do
    local a = argv[i]
    if type(a) ~= "string" and type(a) ~= "number" then
      raise(string.format("netns.exec: argument %d must be a string (got %s)", i, type(a)))
    end
    if type(a) == "string" and a:find("%z") then
      raise(string.format("netns.exec: argument %d '%s' contains a NUL byte", i, (a:gsub("%z", "\\0"))))
    end
  end
  local t = o.timeout
  if t ~= nil then
    if t ~= t or t < 0 then
      raise(string.format("netns.exec: option 'timeout' must be 0 or more seconds (got %s)",
        t ~= t and "nan" or t))
    end
    t = math.min(t, MAX_TIMEOUT) -- longer is "no timeout" in practice; no overflow
  end
  if o.max_output ~= nil and o.max_output < 0 then
    raise(string.format("netns.exec: option 'max_output' must be 0 or more bytes (got %d)",
      o.max_output))
  end
  local loop = package.loaded["vnet.loop"]
  if loop and loop.in_task() then return exec_in_task(loop, ns, argv, t, o.max_output) end
  return core.exec(ns, argv, t, o.max_output)
end

--- ns:delete() -> true | nil, msg, errno
-- A named namespace: unbind and remove /run/netns/<name> (as `ip netns
-- del`); the namespace itself ends when nothing holds it any more. Either
-- kind: the object is closed.
function methods.delete(ns)
  local path, name = ns.path, ns.name
  if path then
    local ok, err, eno = core.del_named(path, name)
    if not ok then return nil, err, eno end
    require("vnet.session").forget_netns(ns)
  end
  ns:close()
  return true
end

-- For vnet.link: the namespace object that run() entered, if the current
-- namespace (inode ino) is that one.
function M._running(ino)
  local top = running[#running]
  if top and not top.closed and top:id() == ino then return top end
  return nil
end

-- For vnet.link: a namespace whose id, as the current namespace numbers
-- it, is nsid. Looks at the namespaces vnet holds, the named ones and
-- those of processes. nil when none matches.
function M._find_by_nsid(nsid)
  local nl = require "vnet.nl.core"
  local seen = {}
  local function try(ns)
    if not ns or ns.closed then return nil end
    local ok, id = pcall(ns.id, ns)
    if not ok or seen[id] then return nil end
    seen[id] = true
    if nl.nsid(ns) == nsid then return ns end
  end
  for _, ns in ipairs(running) do local hit = try(ns); if hit then return hit end end
  for ns in pairs(known) do local hit = try(ns); if hit then return hit end end
  for _, name in ipairs(M.list()) do
    local ns = core.open(RUN .. "/" .. name, name, RUN .. "/" .. name)
    local hit = try(ns)
    if hit then return remember(hit) end
    if ns then ns:close() end
  end
  for _, pid in ipairs(core.names("/proc")) do
    if pid:find("^%d+$") then
      local ns = core.open("/proc/" .. pid .. "/ns/net", "pid " .. pid)
      local hit = try(ns)
      if hit then return remember(hit) end
      if ns then ns:close() end
    end
  end
  return nil
end

return M
