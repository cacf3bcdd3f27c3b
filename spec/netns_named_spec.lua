-- vnet.netns: named namespaces that iproute2 sees, open by name, path or
-- pid, list, delete, and exec. Every named namespace a test makes, it
-- deletes, and the machine is left as it was (links, `ip netns`, mounts).
local H = require "spec.helper"
local netns = vnet.netns

local function unique(base) return base .. "-" .. tostring(os.time() % 100000) .. "-" .. math.random(1000) end

describe("vnet.netns named", function()
  H.keeps_host_state(setup, teardown)

  it("creates a namespace `ip netns` sees, and deletes it as `ip netns del` does", function()
    local name = unique("vnet-spec")
    local ns = assert(netns.create(name))
    local ok, err = pcall(function()
      assert.are.equal(name, ns.name)
      assert.are.equal("/run/netns/" .. name, ns.path)
      assert.matches("^vnet.netns: " .. name:gsub("%-", "%%-") .. " %(fd %d+%)$", tostring(ns))
      assert.matches(name, H.sh("ip netns list"), 1, true)
      local found = false
      for _, n in ipairs(netns.list()) do found = found or n == name end
      assert.is_true(found)
      -- iproute2 runs commands in it, and it is a namespace of its own
      local out, rc = H.sh("ip netns exec " .. name .. " ip -br link")
      assert.are.equal(0, rc, out)
      assert.matches("^lo%s+DOWN", out)
      local home <close> = assert(netns.current())
      assert.are_not.equal(home:id(), ns:id())
      -- open by name finds the same one
      local again <close> = assert(netns.open(name))
      assert.are.equal(ns:id(), again:id())
      assert.are.equal(name, again.name)
      -- things made in it are in it
      ns:run(function() assert(vnet.veth.create("nv0", "nv1")) end)
      out = H.sh("ip netns exec " .. name .. " ip -br link")
      assert.matches("nv0", out)
      assert.is_nil(H.iplink("nv0"))
    end)
    assert.is_true(ns:delete())
    assert.is_true(ns.closed)
    assert.is_true(ok, err)
    assert.is_nil(H.sh("ip netns list"):find(name, 1, true))
    local gone, gerr, geno = netns.open(name)
    assert.is_nil(gone)
    assert.are.equal(2, geno)
    assert.are.equal("netns.open " .. name .. ": No such file or directory (no such namespace: " ..
      "see `ip netns list` or vnet.netns.list())", gerr)
  end)

  it("refuses a name that is taken, leaving the first alone", function()
    local name = unique("vnet-dup")
    local ns = assert(netns.create(name))
    local ok2, err, eno = netns.create(name)
    local id = ns:id()
    local still <close> = netns.open(name)
    assert.is_true(ns:delete())
    assert.is_nil(ok2)
    assert.are.equal(17, eno)
    assert.are.equal("netns.create " .. name .. ": File exists (a namespace of that name exists: " ..
      "vnet.netns.open(name) uses it)", err)
    assert.are.equal(id, still:id())
  end)

  it("opens a namespace by path and by pid", function()
    local home <close> = assert(netns.current())
    local f = assert(io.open("/proc/self/stat"))
    local pid = math.tointeger(tonumber(f:read("a"):match("^(%d+)")))
    f:close()
    local bypid <close> = assert(netns.open(pid))
    local self <close> = assert(netns.open("/proc/self/ns/net"))
    assert.are.equal(home:id(), self:id())
    assert.are.equal(home:id(), bypid:id())
    assert.are.equal("pid " .. pid, bypid.name)
    assert.are.same({ nil, "netns.open /etc/hostname: Invalid argument (not a network namespace)", 22 },
      { netns.open("/etc/hostname") })
    assert.are.same({ nil, "netns.open pid 999999999: No such file or directory (no such " ..
      "namespace: see `ip netns list` or vnet.netns.list())", 2 }, { netns.open(999999999) })
  end)

  it("lets an anonymous namespace go, with its links, when its object is closed", H.sandboxed(function()
    local ns = assert(netns.create())
    -- a veth pair with one end here: it goes when the namespace of the
    -- other end dies, which nothing of vnet's may keep alive
    ns:run(function() assert(vnet.veth.create("gone0", "stay0")) end)
    local here <close> = assert(netns.current())
    assert(ns:run(function() return assert(vnet.link.get("stay0")):set { netns = here } end))
    assert.is_not_nil(H.iplink("stay0"))
    ns:close()
    local gone = H.eventually(function() return not H.iplink("stay0") end)
    assert.is_true(gone, "the namespace (and its veth) outlived its last object")
  end))

  it("deletes an anonymous namespace by closing it", function()
    local ns = assert(netns.create())
    assert.is_nil(ns.name)
    assert.is_true(ns:delete())
    assert.is_true(ns.closed)
  end)

  describe("exec", function()
    it("runs a command inside and returns its status and output", H.sandboxed(function()
      local ns <close> = assert(netns.create())
      local a, b = assert(vnet.veth.create("e0", "e1", { peer_netns = ns }))
      assert(a:addr_add("10.8.0.1/24")); assert(a:set { up = true })
      assert(b:addr_add("10.8.0.2/24")); assert(b:set { up = true })
      local status, out = ns:exec { "ping", "-c", "1", "-W", "2", "10.8.0.1" }
      assert.are.equal(0, status, out)
      assert.matches("1 received", out)
      status, out = ns:exec { "ip", "-br", "addr", "show", "dev", "e1" }
      assert.are.equal(0, status)
      assert.matches("10.8.0.2/24", out)
      -- stderr too, and the exit code
      status, out = ns:exec { "ip", "link", "show", "dev", "nosuch0" }
      assert.are.equal(1, status)
      assert.matches('Device "nosuch0" does not exist', out)
      -- no shell: metacharacters are plain arguments
      status, out = ns:exec { "echo", "$HOME", ";", "rm", "-rf", "/" }
      assert.are.same({ 0, "$HOME ; rm -rf /\n" }, { status, out })
    end))

    it("bounds the time and the output, and says when a command cannot start", function()
      local ns <close> = assert(netns.create())
      local ok, err, eno, out = ns:exec { "sh", "-c", "echo started; sleep 5", timeout = 0.3 }
      assert.is_nil(ok)
      assert.are.equal("netns.exec sh: Connection timed out (killed after 0.3 s)", err)
      assert.are.equal(110, eno)
      assert.are.equal("started\n", out)
      local status, big = ns:exec { "head", "-c", "100000", "/dev/zero", max_output = 1000 }
      assert.are.same({ 0, 1000 }, { status, #big })
      assert.are.same({ nil, "netns.exec no-such-command-x: No such file or directory (command not found)", 2 },
        { ns:exec { "no-such-command-x" } })
      assert.are.equal(128 + 9, (ns:exec { "sh", "-c", "kill -9 $$" }))
    end)

    it("gives the command only stdin, stdout and stderr (issue 9: it had an extra fd on /dev/null)", function()
      local ns <close> = assert(netns.create())
      -- a fd this process holds without close-on-exec must not reach it either
      local f <close> = assert(io.open("/dev/null"))
      -- ls lists the fds of the shell it runs from (the `; true` keeps sh
      -- from exec'ing ls in its place)
      local status, out = ns:exec { "sh", "-c", "ls /proc/$$/fd; true" }
      assert.are.same({ 0, "0\n1\n2\n" }, { status, out })
      status, out = ns:exec { "readlink", "/proc/self/fd/0" }
      assert.are.same({ 0, "/dev/null\n" }, { status, out })
    end)

    it("raises on misuse", function()
      local ns <close> = assert(netns.create())
      assert.has_error(function() ns:exec("ls") end,
        'netns.exec: expected a table {"prog", "arg", ...} (got string)')
      assert.has_error(function() ns:exec {} end, 'netns.exec: needs a command: {"prog", "arg", ...}')
      assert.has_error(function() ns:exec { "ls", timeuot = 1 } end,
        "netns.exec: unknown option 'timeuot' (known: max_output, timeout)")
      assert.has_error(function() ns:exec { "ls", 5, {} } end,
        "netns.exec: argument 3 must be a string (got table)")
      assert.has_error(function() netns.create("a/b") end,
        "netns.create: 'a/b' is not a valid namespace name (1 to 255 bytes, no '/', white space or NUL, not '.' or '..')")
      assert.has_error(function() netns.open({}) end,
        "netns.open: expected a name, a path or a pid (got table)")
      ns:close()
      assert.has_error(function() ns:exec { "ls" } end, "attempt to use a closed netns")
    end)
  end)
end)

describe("vnet.netns names (issue 9)", function()
  H.keeps_host_state(setup, teardown)

  it("makes a 245-255 byte name under that name, not a cut one", function()
    for _, n in ipairs { 245, 250, 255 } do
      local name = unique("l"):sub(1, 20)
      name = name .. ("n"):rep(n - #name)
      local ns = assert(netns.create(name))
      local ok, err = pcall(function()
        assert.are.equal("/run/netns/" .. name, ns.path)
        local f = io.open("/run/netns/" .. name) -- the file has the whole name
        assert.is_truthy(f)
        f:close()
        assert.matches(name, H.sh("ip netns list"), 1, true)
      end)
      assert(ns:delete())
      assert(ok, err)
    end
    local long = ("n"):rep(256)
    assert.has_error(function() netns.create(long) end, "netns.create: '" .. long ..
      "' is not a valid namespace name (1 to 255 bytes, no '/', white space or NUL, not '.' or '..')")
  end)

  it("refuses a name or path with a NUL byte", function()
    assert.has_error(function() netns.create("a\0b") end, "netns.create: 'a\\0b' is not a " ..
      "valid namespace name (1 to 255 bytes, no '/', white space or NUL, not '.' or '..')")
    assert.has_error(function() netns.open("a\0b") end, "netns.open: 'a\\0b' is not a " ..
      "valid namespace name (1 to 255 bytes, no '/', white space or NUL, not '.' or '..')")
    assert.has_error(function() netns.open("/proc/self/ns/net\0x") end,
      "netns.open: path '/proc/self/ns/net\\0x' contains a NUL byte")
    assert.is_nil(io.open("/run/netns/a"))
  end)
end)
