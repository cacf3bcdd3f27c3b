--- scripts/_lib.lua: what the example scripts share. Not a script itself;
-- each script loads it from its own directory:
--
--    local lib = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "_lib.lua")
--
--  lib.getopt(argv, spec, usage)   options and positional arguments
--  lib.netns(what)                 a namespace by `ip netns` name, path or pid
--  lib.pair{...}                   two namespaces joined through the script:
--                                  a TUN in each, addresses and routes
--  lib.spawn_in(ns, cmd)           a shell command in a namespace, in the
--                                  background (for --demo traffic)
--  lib.scratch()                   a fresh namespace with lo up (--demo)
--  lib.demo_traffic(ns, cmd, tag)  spawn_in, each output line printed as
--                                  "tag | line"; the loop stops after it
--  lib.run(o)                      vnet.loop.run, then say why it ended
--  lib.die(name, msg, usage)       a usage error: the problem, usage, exit 2
--  lib.main(name, fn)              run fn, report its error, exit 0 or 1
local vnet = require "vnet"

local lib = {}

lib.NUMBER, lib.STRING = {}, {} -- option types without a default

--- getopt(argv, spec, usage) -> opts, positional
-- spec maps an option name to its default: a number, a string, a boolean
-- (a flag), lib.NUMBER or lib.STRING (no default), or a table (the option
-- may repeat; values collect in a list). `--name value`, `--name=value`;
-- one-letter names take one dash (-v). --help prints usage and exits.
-- A bad option or value prints the problem and usage to stderr and exits 2.
function lib.getopt(argv, spec, usage)
  local o, pos = {}, {}
  for k, v in pairs(spec) do
    if type(v) == "table" and v ~= lib.NUMBER and v ~= lib.STRING then o[k] = {}
    elseif v ~= lib.NUMBER and v ~= lib.STRING then o[k] = v end
  end
  local function die(msg)
    io.stderr:write(msg, "\n\n", usage, "\n")
    os.exit(2)
  end
  local i = 1
  while argv[i] do
    local a = argv[i]
    local name, val = a:match("^%-%-([%w-]+)=(.*)$")
    name = name or a:match("^%-%-([%w-]+)$") or a:match("^%-(%a)$")
    if a == "--" then
      table.move(argv, i + 1, #argv, #pos + 1, pos)
      break
    elseif a == "--help" or a == "-h" then
      io.stdout:write(usage, "\n")
      os.exit(0)
    elseif name then
      local key = name:gsub("-", "_")
      local want = spec[key]
      if want == nil then die("unknown option " .. a) end
      if type(want) == "boolean" then
        if val then die("option --" .. name .. " takes no value") end
        o[key] = true
      else
        if not val then
          i = i + 1
          val = argv[i]
          if val == nil then die("option " .. a .. " needs a value") end
        end
        if want == lib.NUMBER or type(want) == "number" then
          local n = tonumber(val)
          if not n then die("option " .. a .. ": '" .. val .. "' is not a number") end
          val = n
        end
        if type(o[key]) == "table" then table.insert(o[key], val) else o[key] = val end
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  return o, pos
end

--- The usage text: a script's header comment, without the comment marks.
function lib.usage(path)
  local lines = {}
  for line in io.lines(path) do
    if line:match("^#!") then goto next end
    local text = line:match("^%-%-%-? ?(.*)$")
    if not text then break end
    lines[#lines + 1] = text
    ::next::
  end
  return table.concat(lines, "\n")
end

--- netns(what) -> ns: an `ip netns` name, a path (/proc/PID/ns/net,
-- /run/netns/NAME, /proc/PID/fd/N) or a pid. Raises when it cannot.
function lib.netns(what)
  local v = tonumber(what)
  if v and math.type(v) == "integer" then what = v end
  local ns, err = vnet.netns.open(what)
  if not ns then error("namespace " .. tostring(what) .. ": " .. err, 0) end
  return ns
end

local function setup(ns, dev, addrs, routes)
  return ns:run(function()
    assert(vnet.link.set("lo", { up = true }))
    local t = assert(vnet.tun.open { name = dev })
    local ok, err = pcall(function()
      for _, a in ipairs(addrs) do assert(t:addr_add(a, { nodad = a:find(":") and true or nil })) end
      assert(t:up())
      for _, r in ipairs(routes) do assert(vnet.route.add { dst = r, dev = t }) end
    end)
    if not ok then t:close(); error(err, 0) end
    return t
  end)
end

--- The network of a CIDR: "10.1.0.2/24" -> "10.1.0.0/24" (IPv4 and IPv6).
function lib.network(cidr)
  local addr, len = cidr:match("^(.-)/(%d+)$")
  len = tonumber(len)
  local nl = require "vnet.nl.core"
  local fam, b = nl.pton(addr)
  assert(fam, "not an address: " .. tostring(cidr))
  local bytes = { b:byte(1, -1) }
  for i = 1, #bytes do
    local keep = math.max(0, math.min(8, len - 8 * (i - 1)))
    bytes[i] = bytes[i] & ((0xff << (8 - keep)) & 0xff)
  end
  return nl.ntop(string.char(table.unpack(bytes))) .. "/" .. len
end

--- pair{a =, b =, a_dev =, b_dev =, a_addrs =, b_addrs =, a_routes =,
-- b_routes =} -> pair
-- Two namespaces (a, b: a namespace, a name/path/pid for lib.netns, or
-- nil for a fresh scratch one), a TUN in each (a_dev, b_dev) with those
-- addresses (lists of CIDRs) and routes through it (lists of prefixes).
-- The pair has fields a, b (namespaces), ta, tb (the TUNs), and close()
-- (also <close>): the TUNs go, and with them their addresses and routes;
-- scratch namespaces go too. The script's process holds both TUN fds.
function lib.pair(o)
  local p = { made = {} }
  local function ns_of(v)
    if v == nil then
      local ns = assert(vnet.netns.create())
      p.made[#p.made + 1] = ns
      return ns
    end
    if type(v) == "string" or type(v) == "number" then return lib.netns(v) end
    return v
  end
  function p.close()
    for _, t in ipairs { p.ta, p.tb } do t:close() end
    for _, ns in ipairs(p.made) do ns:close() end
  end
  setmetatable(p, { __close = p.close })
  local ok, err = pcall(function()
    p.a = ns_of(o.a)
    p.b = ns_of(o.b)
    p.ta = setup(p.a, o.a_dev, o.a_addrs or {}, o.a_routes or {})
    p.tb = setup(p.b, o.b_dev, o.b_addrs or {}, o.b_routes or {})
  end)
  if not ok then
    for _, t in ipairs { p.ta, p.tb } do if t then t:close() end end
    for _, ns in ipairs(p.made) do ns:close() end
    error(err, 0)
  end
  return p
end

--- spawn_in(ns, cmd) -> a Lua file reading the command's output (stdout
-- and stderr); the command runs in namespace ns, in the background.
function lib.spawn_in(ns, cmd)
  return ns:run(function() return assert(io.popen("(" .. cmd .. ") 2>&1", "r")) end)
end

--- scratch() -> ns: a fresh namespace (gone when closed) with lo up, for
-- a --demo that makes its device and traffic there, touching nothing else.
function lib.scratch()
  local ns = assert(vnet.netns.create())
  ns:run(function() assert(vnet.link.set("lo", { up = true })) end)
  return ns
end

--- demo_traffic(ns, cmd, tag): run cmd in ns in the background, print each
-- line of its output as "tag | line", and stop the loop `linger` (0.3)
-- seconds after it ends.
function lib.demo_traffic(ns, cmd, tag, linger)
  local f = lib.spawn_in(ns, cmd)
  vnet.loop.on_readable(f, function(w)
    local line = f:read("l")
    if line then return print(tag .. " | " .. line) end
    w:stop()
    f:close()
    vnet.loop.after(linger or 0.3, vnet.loop.stop)
  end)
end

--- run(o) -> vnet.loop.run(o), printing why it ended on failure; returns
-- true when it ended cleanly (timeout, a signal, nothing left to do).
function lib.run(o)
  local ok, why = vnet.loop.run(o)
  if not ok then io.stderr:write("error: ", tostring(why), "\n") end
  return ok, why
end

--- die(name, msg, usage): "NAME: msg", a blank line and the usage text on
-- stderr, and exit status 2 (a usage error).
function lib.die(name, msg, usage)
  io.stderr:write(name, ": ", msg, "\n\n", usage, "\n")
  os.exit(2)
end

--- main(name, fn): the script's body. An error in fn goes to stderr as
-- "NAME: error"; the exit status is 0 when fn returned true, else 1.
function lib.main(name, fn)
  local ok, res = pcall(fn)
  if not ok then io.stderr:write(name, ": ", tostring(res), "\n") end
  os.exit(ok and res and 0 or 1, true)
end

return lib
