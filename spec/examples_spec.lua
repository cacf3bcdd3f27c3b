-- The example scripts of links, namespaces and kinds: each runs, shows
-- what it says it shows, and leaves nothing behind, also on Ctrl-C.
local H = require "spec.helper"
local sandboxed = H.sandboxed
local V = H.vnet

-- Start `vnet <args>` as a background job (bash -m: it keeps SIGINT),
-- wait for `ready` in its output, run `meanwhile` (a shell command; %PID%
-- is the job's pid), send SIGINT, and return the job's output with
-- "rc=N" and what `meanwhile` printed.
local function interrupt(args, ready, meanwhile)
  local out = os.tmpname()
  local cmd = string.format([[bash -mc '%s %s > %s 2>&1 & pid=$!
    for i in $(seq 100); do grep -q "%s" %s && break; sleep 0.05; done
    %s
    kill -INT $pid; wait $pid; echo "rc=$?"; cat %s' 2>/dev/null]], V, args, out, ready, out,
    (meanwhile or ""):gsub("%%PID%%", "$pid"):gsub("OUTFILE", out), out)
  local text = H.sh(cmd)
  os.remove(out)
  return text
end

describe("examples", function()
  H.keeps_host_state(setup, teardown)

  it("veth-netns.lua joins two namespaces with a veth pair and pings across", sandboxed(function()
    local out, rc = H.sh(V .. " scripts/veth-netns.lua")
    assert.are.equal(0, rc, out)
    assert.matches("veth pair: vred %(ifindex %d+, in red%) <%-> vblue", out)
    assert.matches("vred:peer%(%) finds vblue", out)
    assert.matches("3 packets transmitted, 3 received", out)
    assert.matches("ping: ok\ncleaned up", out)
    assert.are.equal(1, #H.ip("link show")) -- nothing here but lo
  end))

  it("veth-netns.lua wait keeps the lab until Ctrl-C, then cleans up", sandboxed(function()
    -- while it waits, step inside as it says, and look
    local out = interrupt("scripts/veth-netns.lua wait", "ready:",
      [[fd=$(sed -n "s|.*nsenter --net=/proc/[0-9]*/fd/\\([0-9]*\\)  (red).*|\\1|p" OUTFILE)
      nsenter --net=/proc/%PID%/fd/$fd ip -br addr show vred | tr -s " "]])
    assert.matches("ready: step inside with  nsenter %-%-net=/proc/%d+/fd/%d+  %(red%)", out)
    assert.matches("vred@if%d+ UP 10.0.0.1/24", out)
    assert.matches("stopping %(SIGINT%)\ncleaned up", out)
    assert.matches("rc=0\n", out)
  end))

  it("macvlan-modes.lua shows which macvlans can talk in each mode", sandboxed(function()
    local out, rc = H.sh(V .. " scripts/macvlan-modes.lua")
    assert.are.equal(0, rc, out)
    assert.are.equal(table.concat({
      "mode     hairpin  mv1 -> mv2",
      "bridge   no       reach",
      "vepa     no       no reply",
      "vepa     yes      reach",
      "private  no       no reply",
      "private  yes      no reply", "" }, "\n"), out)
  end))

  it("macvtap-read.lua reads the frames sent to a macvtap from /dev/tapN", sandboxed(function()
    local out, rc = H.sh(V .. " scripts/macvtap-read.lua 2")
    assert.are.equal(0, rc, out)
    assert.matches("macvtap mvt0 %(([%x:]+)%) on up0: reading /dev/tap%d+", out)
    local mac = out:match("macvtap mvt0 %(([%x:]+)%)")
    assert.matches("frame 1: 98 bytes [%x:]+ %-> " .. mac .. " IPv4 ICMP 10.3.0.1 %-> 10.3.0.2 type 8", out)
    assert.matches("frame 2:", out)
    assert.matches("read 2 frame%(s%) from /dev/tap%d+ %(stopped%)", out)
  end))

  it("ipvlan-l3.lua pings between two ipvlans in l3 mode", sandboxed(function()
    local out, rc = H.sh(V .. " scripts/ipvlan-l3.lua")
    if not H.kernel_has("ipvlan") then
      assert.are.same({ "ipvlan-l3: ipvlan.create ipv1: this kernel has no 'ipvlan' support " ..
        "(Unknown device type)\n", 2 }, { out, rc })
      H.skip("this kernel has no 'ipvlan' support")
    end
    assert.are.equal(0, rc, out)
    assert.matches("mode l3", out)
    assert.matches("NOARP on ipv1: true", out)
    assert.matches("ping: ok", out)
  end))

  it("watch-links.lua demo prints the events of its own changes", function()
    local out, rc = H.sh(V .. " --sandbox scripts/watch-links.lua demo")
    assert.are.equal(0, rc, out)
    assert.matches("link add    demo0 +ifindex %d+ +kind veth +down mtu 1500", out)
    assert.matches("link change demo0 +ifindex %d+ +kind veth +up mtu 1400", out)
    assert.matches("addr add    demo0 +10.70.0.1/24", out)
    assert.matches("addr delete demo0 +10.70.0.1/24", out)
    assert.matches("link delete demo0", out)
    assert.matches("stopped %(timeout%)\n$", out)
  end)

  it("watch-links.lua ends cleanly on Ctrl-C", sandboxed(function()
    local out = interrupt("scripts/watch-links.lua", "watching",
      "ip link add name cc0 type veth peer name cc1; sleep 0.3")
    assert.matches("watching links and addresses; Ctrl%-C ends", out)
    assert.matches("link add    cc0", out)
    assert.matches("stopped %(SIGINT%)\n", out)
    assert.matches("rc=0\n", out)
  end))
end)

describe("README", function()
  local function readme()
    local f = assert(io.open("README.md"))
    local s = f:read("a")
    f:close()
    return s
  end
  local function known() -- the options vnet.tun.open takes, from its own error
    local ok, err = pcall(vnet.tun.open, { nmae = "x" })
    assert.is_false(ok)
    local list = assert(tostring(err):match("%(known: (.-)%)"))
    local t = {}
    for k in list:gmatch("[%w_]+") do t[#t + 1] = k end
    table.sort(t)
    return t, tostring(err):match("tun%.open: unknown option.*$")
  end

  it("lists every vnet.tun.open option (issue 9, item 6)", function()
    local s = readme()
    local block = assert(s:match("### vnet%.tun, vnet%.tap\n\n```lua\n.-vnet%.tun%.open {\n(.-)\n}%)"))
    local listed = {}
    for line in block:gmatch("[^\n]+") do
      for k in line:gsub("%-%-.*$", ""):gmatch("([%w_]+)%s*=") do listed[#listed + 1] = k end
    end
    table.sort(listed)
    local opts, msg = known()
    assert.are.same(opts, listed)
    assert.truthy(s:find(msg, 1, true), "README quotes: " .. msg)
  end)
end)
