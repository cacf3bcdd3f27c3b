-- spec/support/rewriters.lua: what the rewriters specs share (the
-- scripts of scripts/ run as processes of their own against namespaces
-- the specs made). A spec file sets R.finally = finally (busted's).
local H = require "spec.helper"
local netns = vnet.netns
local assert = require "luassert" -- (the spec files' assert: assert.are.equal, ...)
local R = {}

local CSUMS = { "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status",
  "icmp.checksum.status", "icmpv6.checksum.status" }

--- How a script in another process names namespace ns.
local function path_of(ns)
  return "/proc/" .. H.mypid() .. "/fd/" .. ns:fileno()
end

local function sleep(s) os.execute("sleep " .. s) end

--- A shell command in ns, waited for: status, output.
local function sh(ns, cmd, timeout)
  return ns:exec { "sh", "-c", cmd, timeout = timeout or 20 }
end

--- Run fn when the current test ends, pass or fail (busted's finally
-- holds one function: this keeps a list).
local cleanups = {}
local function on_exit(fn)
  cleanups[#cleanups + 1] = fn
  R.finally(function() -- busted's, handed over by the spec file
    local list = cleanups
    cleanups = {}
    for i = #list, 1, -1 do pcall(list[i]) end
  end)
end

--- A temporary file name, removed when the test ends.
local function tmp()
  local path = os.tmpname()
  on_exit(function() os.remove(path) end)
  return path
end

--- A shell command in ns (or here), in the background, stdin from
-- /dev/null, in a process group of its own (setsid): a handle with pid
-- (also the group's id), file, wait() -> output, status, and kill([sig])
-- -> output, status, which signals (SIGINT unless told) the whole group
-- (a pipeline too).
-- Whatever still runs when the test ends is killed.
local function bg(ns, cmd)
  local full = "setsid sh -c 'echo $$; exec " .. cmd:gsub("'", "'\\''") .. "' < /dev/null"
  local h = ns and ns:run(H.spawn, full) or H.spawn(full)
  h.pid = tonumber(h.file:read("l"))
  assert(h.pid, "could not start: " .. cmd)
  local wait = h.wait
  function h.wait()
    h.done = true
    return wait()
  end
  function h.kill(sig)
    -- INT by default: the shell io.popen started says nothing when its
    -- child dies of SIGINT (of SIGTERM it prints "Terminated" amid the
    -- test output)
    os.execute("kill -" .. (sig or "INT") .. " -" .. h.pid .. " 2>/dev/null")
    return h.wait()
  end
  on_exit(function() if not h.done then h.kill("KILL") end end)
  return h
end

--- Start `vnet scripts/<script> <args>` here; returns its handle once it
-- printed a line matching `ready` (and the lines before, in h.head).
local function script(name, args, ready)
  local h = bg(nil, H.vnet .. " scripts/" .. name .. " " .. args)
  local head = {}
  while true do
    local l = h.file:read("l")
    if l == nil then
      local out, code = h.wait()
      error(string.format("scripts/%s did not start (exit %s):\n%s%s", name, tostring(code),
        table.concat(head, "\n"), out))
    end
    head[#head + 1] = l
    if l:find(ready) then break end
  end
  h.head = table.concat(head, "\n") .. "\n"
  --- stop(sig) -> everything it printed, exit status
  function h.stop(sig)
    local out, code = h.kill(sig or "TERM")
    return h.head .. out, code
  end
  return h
end

local has_ss = select(2, H.sh("command -v ss")) == 0

--- Wait until something in ns listens on port (proto "t" or "u").
local function listening(ns, proto, port)
  if not has_ss then return sleep(0.5) end -- (a machine without ss)
  for _ = 1, 100 do
    local _, out = ns:exec { "ss", "-Hln" .. proto, "sport = :" .. port }
    if out and out:find("%S") then return true end
    sleep(0.05)
  end
  error("nothing listens on " .. proto .. " port " .. port)
end

--- tcpdump -w on dev in ns, until :stop() (which returns its output).
local function tcpdump(ns, dev, filter)
  local path = tmp()
  -- --immediate-mode: no packet waits in the kernel's ring for a block to
  -- fill, so none is lost when tcpdump is stopped
  local h = bg(ns, "tcpdump --immediate-mode -B 16384 -U -n -i " .. dev .. " -w " .. path .. " " ..
    (filter or ""))
  local l = h.file:read("l")
  assert(l and l:find("listening on"), "tcpdump did not start: " .. tostring(l))
  h.path = path
  function h.stop()
    sleep(0.2) -- what is on its way
    return h.kill("INT")
  end
  return h
end

--- tshark's fields for each packet of a capture file (a display filter
-- may choose them): a list of rows, field -> value (all occurrences,
-- comma-separated).
local function tshark(path, fields, filter)
  return H.tshark(path, fields, { occurrence = "a", filter = filter })
end

--- The TCP checksums of a row, k-th occurrence: the field and what tshark
-- computed ("0xffff", "0x0000").
local function tcp_sum(row, k)
  local function nth(s)
    local i = 0
    for v in (s or ""):gmatch("[^,]+") do
      i = i + 1
      if i == k then return v end
    end
  end
  return nth(row["tcp.checksum"]), nth(row["tcp.checksum_calculated"])
end

--- Every checksum tshark checks in the file (or in the packets a display
-- filter picks) is good (status 1), and there were at least `min` packets.
-- Returns the number of packets.
-- One "bad" is taken: a TCP checksum of 0xffff where tshark computes
-- 0x0000. Both are zero in one's complement, and a receiver's sum takes
-- either; the kernel writes 0xffff itself when it finishes a checksum in
-- software (skb_checksum_help: csum_fold(csum) ?: CSUM_MANGLED_0, for TCP
-- as for UDP), about one segment in 65536. tshark flags it after RFC 1624.
local function checksums_good(path, min, filter)
  local fields = { "frame.number", "tcp.checksum", "tcp.checksum_calculated",
    table.unpack(CSUMS) }
  local rows = tshark(path, fields, filter)
  assert.is_true(#rows >= (min or 1), "only " .. #rows .. " packets captured in " .. path)
  for i, row in ipairs(rows) do
    for _, f in ipairs(CSUMS) do
      local k = 0
      for v in (row[f] or ""):gmatch("[^,]+") do
        k = k + 1
        local field, computed
        if f == "tcp.checksum.status" then field, computed = tcp_sum(row, k) end
        if v ~= "1" and not (v == "0" and field == "0xffff" and computed == "0x0000") then
          -- the packet itself, for what the file will not outlive
          local n = row["frame.number"]
          local shown = H.sh(H.TSHARK_CHECKED .. " -r " .. path .. " -Y frame.number==" .. n ..
            " -x -O ip,ipv6,tcp,udp 2>/dev/null")
          assert.are.equal("1", v, string.format("packet %d of %s (frame %s): %s is %s " ..
            "(0 bad, 2 unverified)\n%s", i, path, n, f, v, shown))
        end
      end
    end
  end
  return #rows
end

--- A file of n random bytes; returns its path and its bytes.
local function random_file(n)
  local path = tmp()
  local t = {}
  for i = 1, n // 8 do t[i] = string.pack("<i8", math.random(math.mininteger, math.maxinteger)) end
  local bytes = table.concat(t)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
  return path, bytes
end

local function contents(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- Two fresh namespaces (lo up); the caller closes them (<close>).
local function two()
  local a = assert(netns.create())
  local b = assert(netns.create())
  for _, ns in ipairs { a, b } do
    ns:run(function() assert(vnet.link.set("lo", { up = true })) end)
  end
  return a, b
end

R.path_of = path_of
R.sleep = sleep
R.sh = sh
R.on_exit = on_exit
R.tmp = tmp
R.bg = bg
R.script = script
R.listening = listening
R.tcpdump = tcpdump
R.tshark = tshark
R.checksums_good = checksums_good
R.random_file = random_file
R.contents = contents
R.two = two
R.CSUMS = CSUMS
R.has_ss = has_ss
return R
