-- helper.lua: what the specs share (require "spec.helper"). The specs run
-- inside the vnet host, so `vnet` is a global here.
--
-- Every spec that touches the network wraps its body in `sandboxed(fn)`: the
-- body runs inside a fresh network namespace made for it (loopback up) and
-- the namespace, with everything made in it, goes away afterwards.
local json = require "dkjson"
local luassert = require "luassert" -- (the spec files' `assert`)
local H = {}

--- Run a shell command (in the caller's current namespace); returns its
-- output (stdout and stderr) and exit status.
function H.sh(cmd)
  local f = assert(io.popen("(" .. cmd .. ") 2>&1", "r"))
  local out = f:read("a")
  local _, _, code = f:close()
  return out, code
end

--- Call fn until it returns a true value or `secs` (default 20) have
-- passed, and return its last value. For what another process or the kernel
-- finishes in its own time (a guardian's undo, a namespace's teardown),
-- which a loaded machine or qemu's TCG stretches to seconds: the wait ends
-- as soon as it is done, so the bound only limits a failure.
function H.eventually(fn, secs)
  local deadline = vnet.loop.now() + (secs or 20)
  while true do
    local v = fn()
    if v or vnet.loop.now() > deadline then return v end
    os.execute("sleep 0.05")
  end
end

--- Run vnet.loop until pred() holds (asked every 20 ms) or `secs`
-- (default 20) have passed; returns what loop.run returned. For specs that
-- wait on traffic from a process they started, which a slow machine may
-- take a second or more to start.
function H.run_until(pred, secs)
  local t = vnet.loop.every(0.02, function() if pred() then vnet.loop.stop() end end)
  local ok, why = vnet.loop.run { timeout = secs or 20 }
  t:stop()
  return ok, why
end

--- `ip -j -d <args>` decoded, from iproute2: the independent witness.
function H.ip(args)
  local out, code = H.sh("ip -j -d " .. args)
  if code ~= 0 then return nil, out end
  return json.decode(out)
end

--- The link of that name as iproute2 sees it, or nil.
function H.iplink(name)
  local t = H.ip("link show dev " .. name)
  return t and t[1]
end

function H.has_flag(l, flag)
  for _, f in ipairs(l.flags or {}) do if f == flag then return true end end
  return false
end

--- Whether this kernel's timers hold a netem delay to 5%: everywhere but
-- the full-kernel lane under qemu's TCG (no usable KVM on the machine),
-- whose emulated timers and CPU can add milliseconds to a round trip.
H.exact_timers = not (os.getenv("VNET_LANE") == "kernel" and os.getenv("VNET_ACCEL") ~= "kvm")

--- Ping `addr` from `where` (a netns or a topology node: anything with
-- :exec) `count` times, 0.2 s apart: min, avg, max RTT in ms. Raises when
-- no reply came.
function H.ping_rtt(where, addr, count)
  local status, out = where:exec { "ping", "-n", "-q", "-c", tostring(count or 10), "-i", "0.2",
    "-W", "2", addr }
  if status ~= 0 then error("ping " .. addr .. ": " .. tostring(out), 2) end
  local min, avg, max = out:match("= ([%d.]+)/([%d.]+)/([%d.]+)/")
  return tonumber(min), tonumber(avg), tonumber(max)
end

--- The issue's measure: `want` ms of netem delay on the way from `where`
-- to `addr` and back, seen by 10 pings after three that warm the way up: no reply sooner than `want` (netem
-- never delivers early), and the mean within 5% over it; the fastest reply
-- must be within 5% everywhere. Under TCG a mean over 5% (an emulation
-- stall) reports the test pending with the figures, never passed. Every
-- measure is printed, for bench/RESULTS.md's record.
function H.assert_delay(where, addr, want)
  -- resolves the neighbours on the way (ARP is delayed too); three probes,
  -- as a way with netem's loss may drop one (ping fails only if all are)
  H.ping_rtt(where, addr, 3)
  local min, avg, max = H.ping_rtt(where, addr, 10)
  local line = string.format("netem %d ms: RTT min/avg/max %.2f/%.2f/%.2f ms (mean %+.1f%%, %s)",
    want, min, avg, max, (avg / want - 1) * 100, os.getenv("VNET_ACCEL") or "host kernel")
  print(line)
  if min < want then error(line .. ": a reply came sooner than the delay asked", 2) end
  -- late: under qemu's TCG every hop's emulated processing adds to the
  -- RTT (a VXLAN underlay's fastest reply came 5.4% late once), so there
  -- lateness is reported with its figures, never passed
  local late = min > want * 1.05 and "even the fastest reply is more than 5% late"
    or avg > want * 1.05 and "the mean is more than 5% over"
  if late then
    if H.exact_timers then error(line .. ": " .. late, 2) end
    H.skip(line .. ": " .. late .. "; judging it needs exact timers (KVM or bare metal),"
      .. " not qemu's TCG")
  end
end

--- Wrap a spec body so it runs in a fresh network namespace with lo up.
function H.sandboxed(fn)
  -- the spec file's environment (busted's): its `pending`, looked up while
  -- a test runs, marks that test pending (see H.skip)
  local env
  for i = 1, math.huge do
    local name, value = debug.getupvalue(fn, i)
    if name == nil then break end
    if name == "_ENV" then env = value; break end
  end
  return function(...)
    H._pending = env and env.pending
    local ns <close> = assert(vnet.netns.create())
    local before = {}
    for _, w in ipairs(vnet.loop.watchers()) do before[w] = true end
    local ok, err = pcall(ns.run, ns, function(...)
      assert(vnet.link.set("lo", { up = true }))
      return fn(ns, ...)
    end, ...)
    -- a watcher left behind would fire in a later spec (on a closed or
    -- dead device): stop them, and fail a spec that passed but left some
    local left = 0
    for _, w in ipairs(vnet.loop.watchers()) do
      if not before[w] then left = left + 1; w:stop() end
    end
    if not ok then error(err, 0) end
    assert(left == 0, string.format("the spec left %d loop watcher(s) running", left))
  end
end

--- In a describe block: the machine's own namespace (H.host_state) must be
-- the same after the block's specs as before them. Busted's setup and
-- teardown are the spec file's, so the caller hands them over:
--    describe("vnet.tc", function() H.keeps_host_state(setup, teardown) ... end)
function H.keeps_host_state(setup, teardown)
  local before
  setup(function() before = H.host_state() end)
  teardown(function()
    luassert.are.equal(before, H.host_state(), "the machine's own namespace changed")
  end)
end

--- Loading each module afresh adds no global.
function H.adds_no_globals(...)
  local g = {}
  for k in pairs(_G) do g[k] = true end
  for _, m in ipairs { ... } do
    package.loaded[m] = nil
    require(m)
  end
  for k in pairs(_G) do luassert.is_true(g[k], "new global " .. tostring(k)) end
end

--- The machine's own links, named namespaces and the mounts under
-- /run/netns, to prove a spec left nothing behind.
function H.host_state()
  local links = {}
  for _, l in ipairs(H.ip("link show") or {}) do links[#links + 1] = l.ifname end
  table.sort(links)
  local ns = H.sh("ip netns list")
  local mounts = {}
  for line in io.lines("/proc/self/mountinfo") do
    local point = line:match("^%S+ %S+ %S+ %S+ (%S+)")
    if point and point:find("^/run/netns") then mounts[#mounts + 1] = point end
  end
  table.sort(mounts)
  return table.concat(links, " ") .. " | " .. ns .. " | " .. table.concat(mounts, " ")
end

local has = {}
--- Does the running kernel have this link kind? Asked once, by creating
-- one (name and kind only) in the current namespace: the kernel says
-- "Unknown device type" (EOPNOTSUPP) before it looks at any option.
function H.kernel_has(kind)
  if has[kind] == nil then
    local core = require "vnet.link.core"
    local ok, err, eno = core.create({ name = "vnetprobe0", kind = kind }, "probe", kind)
    if ok then core.delete(assert(core.index("vnetprobe0")), "probe", kind) end
    has[kind] = not (eno == vnet.errno.EOPNOTSUPP and err:find("Unknown device type", 1, true))
  end
  return has[kind]
end

--- Inside a test: make it pending, with the reason, when the kernel lacks
-- the kind (the qemu lane's full kernel runs it for real).
function H.need_kind(kind)
  if not H.kernel_has(kind) then
    H.skip("this kernel has no '" .. kind .. "' support")
  end
end

local brvlan
--- Inside a test: make it pending when the kernel's bridge cannot filter
-- VLANs (CONFIG_BRIDGE_VLAN_FILTERING; Debian's kernel, in the qemu lane, can).
function H.need_bridge_vlans()
  if brvlan == nil then
    local core = require "vnet.link.core"
    local ok, _, eno = core.create({ name = "vnetprobe0", kind = "bridge", data = { { 7, "u8", 1 } } }, "probe", "bridge")
    if ok then core.delete(assert(core.index("vnetprobe0")), "probe", "bridge") end
    brvlan = ok or eno ~= vnet.errno.EOPNOTSUPP
  end
  if not brvlan then H.skip("this kernel's bridge has no VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)") end
end

--- `bridge -j vlan show` (iproute2), run in ns (or here): { [port] = { [vid] = "P U" flags } }
function H.bridge_vlans(ns)
  local out = ns and ns:run(H.sh, "bridge -j vlan show") or H.sh("bridge -j vlan show")
  local t = {}
  for _, p in ipairs(json.decode(out) or {}) do
    local v = {}
    for _, x in ipairs(p.vlans or {}) do
      local f = {}
      for _, flag in ipairs(x.flags or {}) do f[#f + 1] = flag == "PVID" and "P" or flag == "Egress Untagged" and "U" or flag end
      for vid = x.vlan, x.vlanEnd or x.vlan do v[vid] = table.concat(f, " ") end
    end
    t[p.ifname] = v
  end
  return t
end

--- The named namespaces (`ip netns list`) made since this helper was
-- loaded, sorted: those the machine had before are not the specs' doing.
local netns_before
local function netns_all()
  local t = {}
  for name in H.sh("ip netns list"):gmatch("(%S+)[^\n]*\n?") do t[#t + 1] = name end
  return t
end
function H.netns_names()
  local names = {}
  for _, name in ipairs(netns_all()) do
    if not netns_before[name] then names[#names + 1] = name end
  end
  table.sort(names)
  return names
end
netns_before = {}
for _, name in ipairs(netns_all()) do netns_before[name] = true end

--- `ip -j -d link` inside the named namespace nsname: { [name] = link }
function H.iplinks(nsname)
  local t = {}
  for _, l in ipairs(json.decode((H.sh("ip -n " .. nsname .. " -j -d link show"))) or {}) do t[l.ifname] = l end
  return t
end

local qdiscs = {}
--- Inside a sandboxed test: make it pending when the kernel lacks the qdisc
-- kind (asked once, with `tc qdisc add` on a scratch veth).
function H.need_qdisc(kind)
  if qdiscs[kind] == nil then
    local a = assert(vnet.veth.create("probe0", "probe1"))
    local out, code = H.sh("tc qdisc add dev probe0 root " .. kind)
    qdiscs[kind] = code == 0 or not out:find("unknown", 1, true)
    a:delete()
  end
  if not qdiscs[kind] then H.skip("this kernel has no '" .. kind .. "' qdisc (sch_" .. kind .. ")") end
end

--- `tc -j <args>` (iproute2) decoded; raises when tc fails.
function H.tcj(args)
  local out, code = H.sh("tc -j " .. args)
  assert(code == 0, out)
  return json.decode(out)
end

--- A second namespace joined to this one by a veth: `here` (default "va")
-- stays, `there` ("vb") goes to the new namespace, both up, with the
-- addresses given (addr_here may be false: none). Returns the namespace.
function H.veth_netns(o)
  o = o or {}
  local here, there = o.here or "va", o.there or "vb"
  local peer = assert(vnet.netns.create())
  assert(vnet.veth.create { name = here, peer = there })
  assert(vnet.link.set(there, { netns = peer }))
  assert(vnet.link.set(here, { up = true }))
  if o.addr_here then assert(vnet.addr.add(here, o.addr_here)) end
  peer:run(function()
    assert(vnet.link.set("lo", { up = true }))
    assert(vnet.link.set(there, { up = true }))
    if o.addr_there then assert(vnet.addr.add(there, o.addr_there)) end
  end)
  return peer
end

--- tcpdump on iface (here, or in the named namespace nsname), ready when
-- it says it is listening; h.frames() stops it and returns what it
-- captured (as strings, read back with vnet.pcap), h.text() the same as
-- tcpdump's own lines (-e: with the link-layer header). Its buffer is
-- 32 MiB: the default 2 MiB holds only 8 frames of its 256 KiB snapshot
-- length, and a burst of 20 datagrams lost 12 there.
function H.tcpdump(iface, filter, nsname)
  local path = os.tmpname()
  local h = H.spawn(string.format("%stimeout 20 tcpdump -i %s -B 32768 -nn -U --immediate-mode -w %s '%s' 2>%s.err & " ..
    "echo $! >%s.pid; wait", nsname and ("ip netns exec " .. nsname .. " ") or "", iface, path, filter, path, path))
  H.eventually(function()
    local f = io.open(path .. ".err")
    local s = f and f:read("a") or ""
    if f then f:close() end
    return s:find("listening on", 1, true)
  end)
  local function stop()
    os.execute("sleep 0.2; kill -INT $(cat " .. path .. ".pid) 2>/dev/null")
    h.wait()
  end
  local function done() for _, x in ipairs { "", ".err", ".pid" } do os.remove(path .. x) end end
  function h.frames()
    stop()
    local r <close> = assert(vnet.pcap.open(path))
    local out = {}
    for p in r:packets() do out[#out + 1] = p:sub() end
    done()
    return out
  end
  function h.text()
    stop()
    local out = H.sh("tcpdump -nn -e -r " .. path .. " 2>/dev/null")
    done()
    return out
  end
  return h
end

--- fn raises exactly "<fn's file>:<fn's first line>: msg": a misuse error
-- that points at the caller's line (write fn on one line).
function H.raises_here(msg, fn)
  local ok, err = pcall(fn)
  assert(not ok, "no error for: " .. msg)
  local info = debug.getinfo(fn, "S")
  local want = info.short_src .. ":" .. info.linedefined .. ": " .. msg
  if err ~= want then
    error(string.format("expected error\n  %s\ngot\n  %s", want, tostring(err)), 2)
  end
end

--- Inside a sandboxed test: end it as pending, with the reason (and the
-- spec line that asked, which busted would otherwise take from where the
-- namespace code passed the pending on).
function H.skip(why)
  for level = 2, 50 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.short_src:find("_spec%.lua$") then
      why = info.short_src .. ":" .. info.currentline .. ": " .. why
      break
    end
  end
  assert(H._pending, "H.skip outside a sandboxed test")(why)
end

--- Run `cmd` in the background (in the current namespace); returns a
-- handle whose :wait() returns the output and exit status.
function H.spawn(cmd)
  local f = assert(io.popen("(" .. cmd .. ") 2>&1", "r"))
  return {
    file = f,
    wait = function()
      local out = f:read("a")
      local _, _, code = f:close()
      return out, code
    end,
  }
end

--- The kernel's SNMP counters of `group` ("Udp", "Icmp", ...) in namespace
-- ns, from /proc/thread-self/net/snmp: { InDatagrams = n, ... }.
function H.snmp(ns, group)
  return ns:run(function()
    local f <close> = assert(io.open("/proc/thread-self/net/snmp"))
    local names, values = f:read("a"):match(group .. ": (%a[^\n]*)\n" .. group .. ": ([^\n]*)")
    local t, v = {}, values:gmatch("%S+")
    for name in names:gmatch("%S+") do t[name] = tonumber(v()) end
    return t
  end)
end

--- `ip -j -d <args>` decoded, run inside namespace ns.
function H.ip_in(ns, args)
  return ns:run(H.ip, args)
end

--- The link of that name inside namespace ns, as iproute2 sees it, or nil.
function H.iplink_in(ns, name)
  return ns:run(H.iplink, name)
end

--- Ping addr from inside ns (or here): true when it answered.
function H.ping(ns, addr, count)
  local cmd = { "ping", "-c", tostring(count or 1), "-W", "1", "-i", "0.2", addr }
  local status, out
  if ns then status, out = ns:exec(cmd) else
    out, status = H.sh(table.concat(cmd, " "))
  end
  return status == 0, out
end

--- Path of the vnet binary under test.
H.vnet = os.getenv("VNET_BIN") or "build/vnet"

--- This process's pid (the vnet running the specs).
function H.mypid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("n")
  f:close()
  return pid
end

--- A Lua script in a temporary file anyone may read (a --sandbox run as
-- another user reads it too); the caller removes it.
function H.tmpscript(code)
  local path = os.tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  os.execute("chmod 644 " .. path)
  return path
end

--- tshark with IP, TCP and UDP checksum validation on, before its other
-- arguments.
H.TSHARK_CHECKED = "tshark -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE " ..
  "-o udp.check_checksum:TRUE"

--- tshark's fields for each packet of a capture file, with IP, TCP and UDP
-- checksum validation on: a list of rows, field -> value. o.occurrence:
-- "f" (the first of each field, default) or "a" (all, comma-separated);
-- o.filter: a display filter choosing the packets.
function H.tshark(path, fields, o)
  o = o or {}
  local cmd = H.TSHARK_CHECKED .. " -r " .. path ..
    " -T fields -E separator=/t -E occurrence=" .. (o.occurrence or "f")
  if o.filter then cmd = cmd .. " -Y '" .. o.filter .. "'" end
  for _, f in ipairs(fields) do cmd = cmd .. " -e " .. f end
  local out, code = H.sh(cmd .. " 2>/dev/null")
  assert(code == 0, out)
  local rows = {}
  for line in out:gmatch("[^\n]*\n") do
    local row, i = {}, 0
    for v in (line:sub(1, -2) .. "\t"):gmatch("([^\t]*)\t") do
      i = i + 1
      if v ~= "" then row[fields[i]] = v end
    end
    rows[#rows + 1] = row
  end
  return rows
end

return H
