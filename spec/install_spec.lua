-- install_spec.lua: `make install` and `make uninstall` (issue 16), into a
-- DESTDIR staging tree: the file list, the installed vnet run from another
-- directory, stock lua5.4 requiring the installed modules, the man page,
-- and an uninstall that removes exactly what install put.
local H = require "spec.helper"

local CWD = os.getenv("PWD")

local function q(s) return "'" .. s:gsub("'", [['\'']]) .. "'" end

-- files under dir (regular files and links), relative, sorted
local function tree(dir)
  local out = H.sh("cd " .. q(dir) .. " && find . \\( -type f -o -type l \\) -printf '%P %m\\n' | sort")
  local t = {}
  for line in out:gmatch("[^\n]+") do t[#t + 1] = line end
  return t
end

local function ls(pattern)
  local t = {}
  for f in H.sh("ls " .. pattern):gmatch("[^\n]+") do t[#t + 1] = f end
  return t
end

-- the kernel lane's VM carries neither make nor man: lane 1 runs these
local missing = {}
for _, tool in ipairs { "make", "install", "groff", "man", "col" } do
  if not os.execute("command -v " .. tool .. " >/dev/null 2>&1") then missing[#missing + 1] = tool end
end
if #missing > 0 then
  describe("make install", function()
    pending("needs " .. table.concat(missing, ", ") .. ", not here (lane 1 runs it)")
  end)
  return
end

describe("make install", function()
  local dest, prefix

  setup(function()
    dest = os.tmpname()
    os.remove(dest)
    assert(os.execute("mkdir " .. dest))
    prefix = "/usr/local"
    -- a file of someone else's in a directory install shares
    assert(os.execute("mkdir -p " .. dest .. "/usr/local/bin && echo x > " .. dest .. "/usr/local/bin/other"))
    local out, rc = H.sh("make -s install DESTDIR=" .. dest)
    assert(rc == 0, out)
  end)

  teardown(function() H.sh("rm -rf " .. q(dest)) end)

  it("puts the host, the modules, the man page, the docs and the scripts under PREFIX", function()
    local want = { "usr/local/bin/other 644", "usr/local/bin/vnet 755", "usr/local/lib/lua/5.4/vnet.so 755",
      "usr/local/share/man/man1/vnet.1 644", "usr/local/share/doc/vnet/README.md 644",
      "usr/local/share/doc/vnet/LICENSE 644" }
    for _, f in ipairs(ls("lua/vnet/*.lua")) do
      want[#want + 1] = "usr/local/share/lua/5.4/vnet/" .. f:match("[^/]+$") .. " 644"
    end
    for _, f in ipairs(ls("lua/meta/vnet/*.lua")) do
      want[#want + 1] = "usr/local/share/lua/5.4/vnet/meta/" .. f:match("[^/]+$") .. " 644"
    end
    for _, f in ipairs(ls("docs/*.md")) do want[#want + 1] = "usr/local/share/doc/vnet/" .. f .. " 644" end
    for _, f in ipairs(ls("scripts/*.lua")) do
      want[#want + 1] = "usr/local/share/vnet/" .. f .. (f:find("/_") and " 644" or " 755")
    end
    table.sort(want)
    assert.are.same(want, tree(dest))
  end)

  it("gives a vnet that runs from any directory, scripts and their _lib.lua included", function()
    local bin = dest .. prefix .. "/bin/vnet"
    local scripts = dest .. prefix .. "/share/vnet/scripts"
    assert.are.same({ "0.1.0\n", 0 }, { H.sh("cd / && " .. bin .. " -e 'print(vnet.version)'") })
    -- tun-capture.lua loads _lib.lua from its own directory for its options
    local out, rc = H.sh("cd / && " .. bin .. " " .. scripts .. "/tun-capture.lua --help")
    assert.are.equal(0, rc, out)
    assert.matches("^tun%-capture.lua: be the far end of a TUN", out)
    assert.matches("\nOptions:\n", out)
    -- a script run by its #! line, with the installed vnet first on PATH
    out, rc = H.sh("cd /tmp && PATH=" .. dest .. prefix .. "/bin:$PATH " .. scripts .. "/udp-echo.lua --bogus")
    assert.are.equal(2, rc, out)
    assert.matches("^unknown option %-%-bogus\n\nudp%-echo.lua: an echo server", out)
  end)

  it("runs a --demo from the installed scripts, from another directory", H.sandboxed(function()
    local out, rc = H.sh("cd / && " .. dest .. prefix .. "/bin/vnet " .. dest .. prefix ..
      "/share/vnet/scripts/port-forward.lua --demo")
    assert.are.equal(0, rc, out)
  end))

  it("puts modules where stock lua5.4 finds them under PREFIX", function()
    -- lua5.4's own default paths, with PREFIX moved under DESTDIR
    local path = H.sh("lua5.4 -e 'io.write(package.path)'"):gsub("/usr/local/", dest .. "/usr/local/")
    local cpath = H.sh("lua5.4 -e 'io.write(package.cpath)'"):gsub("/usr/local/", dest .. "/usr/local/")
    local out, rc = H.sh("cd / && LUA_PATH=" .. q(path) .. " LUA_CPATH=" .. q(cpath) .. [[ lua5.4 -e '
      local vnet = require "vnet"
      print(vnet.version, #vnet.packet.new(3), type(vnet.tun.open), type(vnet.veth.create))
      print(package.searchpath("vnet", package.cpath), package.searchpath("vnet.tun", package.path))']])
    assert.are.equal(0, rc, out)
    assert.are.equal("0.1.0\t3\tfunction\tfunction\n" .. dest .. "/usr/local/lib/lua/5.4/vnet.so\t" ..
      dest .. "/usr/local/share/lua/5.4/vnet/tun.lua\n", out)
    -- help() reads the installed annotation files (share/lua/5.4/vnet/meta/)
    out, rc = H.sh("cd / && LUA_PATH=" .. q(path) .. " LUA_CPATH=" .. q(cpath) ..
      [[ lua5.4 -e 'require("vnet").help(require("vnet").tun.open)']])
    assert.are.equal(0, rc, out)
    assert.matches("^vnet%.tun%.open%(opts%?%) %-> dev | nil, err, errno\n", out)
  end)

  it("gives a host whose help() works from any directory", function()
    local out, rc = H.sh("cd / && " .. dest .. prefix .. "/bin/vnet -e 'vnet.help(\"vnet.Link:set\")'")
    assert.are.equal(0, rc, out)
    assert.matches("^vnet%.Link:set%(opts%) %-> ok | nil, err, errno\n", out)
  end)

  it("installs a man page that renders, naming every option of --help", function()
    local page = dest .. prefix .. "/share/man/man1/vnet.1"
    local warn, rc = H.sh("groff -man -Tutf8 -ww -z " .. page)
    assert.are.same({ "", 0 }, { warn, rc })
    local text
    text, rc = H.sh("MANWIDTH=80 MANPAGER=cat man -l " .. page .. " 2>&1 | col -bx")
    assert.are.equal(0, rc, text)
    assert.matches("NAME\n +vnet +%- +run Lua scripts", text)
    local help = H.sh(H.vnet .. " --help")
    local n = 0
    for opt in help:gmatch("\n  (%-%-?%a[%w-]*)") do
      n = n + 1
      assert.matches("\n +" .. opt:gsub("%p", "%%%0") .. "[ ,\n]", text, nil, "man page lacks " .. opt)
    end
    assert.is_true(n >= 9)
  end)

  it("ships a LICENSE that says what the rockspec says", function()
    local f = assert(io.open("rocks/vnet-scm-1.rockspec"))
    local license = f:read("a"):match('license = "([^"]+)"')
    f:close()
    f = assert(io.open(dest .. prefix .. "/share/doc/vnet/LICENSE"))
    local first = f:read("l")
    f:close()
    assert.are.equal(license .. " License", first)
  end)

  it("uninstalls exactly what it installed", function()
    local out, rc = H.sh("make -s uninstall DESTDIR=" .. dest)
    assert.are.equal(0, rc, out)
    assert.are.same({ "usr/local/bin/other 644" }, tree(dest))
    for _, d in ipairs { "/share/lua/5.4/vnet", "/share/doc/vnet", "/share/vnet" } do
      assert.is_nil(io.open(dest .. prefix .. d), d .. " is left")
    end
  end)
end)
