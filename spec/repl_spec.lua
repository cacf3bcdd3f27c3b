-- repl_spec.lua: the interactive vnet (core/host/repl.c + vnet._repl).
--   busted --lua=build/vnet spec/repl_spec.lua
-- The unit tests call vnet._repl directly; the terminal tests drive
-- build/vnet in a real pseudo-terminal through a private tmux server (its
-- own socket, no user config), and bound every wait. No network is used.

local repl = require "vnet._repl"

local T = require "spec.support.term"
local sh_quote, run, sleep, tmpname, read_file = T.sh_quote, T.run, T.sleep, T.tmpname, T.read_file
local CWD, VNET, Term = T.CWD, T.VNET, T.Term

local has_vnet_packet = type(rawget(_G, "vnet")) == "table"
  and type(rawget(vnet, "packet")) == "table"

describe("vnet._repl", function()
  it("adds no globals", function()
    local saved = package.loaded["vnet._repl"]
    package.loaded["vnet._repl"] = nil
    local before = {}
    for k in pairs(_G) do before[k] = true end
    require "vnet._repl"
    package.loaded["vnet._repl"] = saved
    for k in pairs(_G) do assert.is_true(before[k], "new global " .. tostring(k)) end
  end)

  describe("complete", function()
    it("completes a field of a global table", function()
      local list, append = repl.complete("string.for")
      assert.same({ "string.format" }, list)
      assert.equal("(", append) -- a function
    end)

    it("lists every field, sorted, with the whole path", function()
      local want = {}
      for k in pairs(string) do want[#want + 1] = "string." .. k end
      table.sort(want)
      local list, append = repl.complete("string.")
      assert.same(want, list)
      assert.is_nil(append)
    end)

    it("completes globals and keywords from a bare word", function()
      assert.same({ "select", "setmetatable" }, (repl.complete("se")))
      local list, append = repl.complete("whil")
      assert.same({ "while" }, list)
      assert.equal(" ", append)
      assert.same({ "rawequal", "rawget", "rawlen", "rawset", "repeat",
        "require", "return" }, (repl.complete("r")))
    end)

    it("walks dotted paths in a given environment", function()
      local env = { net = { dev = { up = 1, uplink = {}, down = 2 } } }
      assert.same({ "net.dev" }, (repl.complete("net.d", env)))
      local list, append = repl.complete("net.dev.upl", env)
      assert.same({ "net.dev.uplink" }, list)
      assert.equal("", append) -- a table: no space, "." may follow
      local one = { repl.complete("net.dev.do", env) }
      assert.same({ { "net.dev.down" }, " " }, one)
      assert.same({ "net.dev.up", "net.dev.uplink" }, (repl.complete("net.dev.up", env)))
    end)

    it("hides names starting with _ unless the word does", function()
      local env = { t = { _private = 1, public = 2 } }
      assert.same({ "t.public" }, (repl.complete("t.", env)))
      assert.same({ "t._private" }, (repl.complete("t._", env)))
    end)

    it("offers only callable fields after ':'", function()
      local obj = setmetatable({ size = 3 }, {
        __index = { read = print, reset = print, rate = 5 },
      })
      assert.same({ "obj:read", "obj:reset" }, (repl.complete("obj:re", { obj = obj })))
      local list, append = repl.complete("obj:rea", { obj = obj })
      assert.same({ "obj:read" }, list)
      assert.equal("(", append)
    end)

    it("finds methods in metatable.methods without calling __index", function()
      local calls = 0
      local obj = setmetatable({}, {
        __index = function() calls = calls + 1 return print end,
        __pairs = function() calls = calls + 1 return next, {} end,
        methods = { read = print, resize = print, write = print },
      })
      local env = setmetatable({ dev = obj }, {
        __index = function() calls = calls + 1 end,
      })
      assert.same({ "dev:read", "dev:resize" }, (repl.complete("dev:re", env)))
      assert.same({ "dev.write" }, (repl.complete("dev.w", env)))
      assert.same({}, (repl.complete("dev.nothing.x", env)))
      assert.same({}, (repl.complete("missing.x", env)))
      assert.equal(0, calls)
    end)

    it("completes methods of userdata through their __index table", function()
      assert.same({ "f:seek", "f:setvbuf" }, (repl.complete("f:se", { f = io.stdout })))
      assert.same({ "s:format" }, (repl.complete("s:form", { s = "str" })))
    end)

    it("completes vnet objects' methods (metatable.methods)", function()
      if not has_vnet_packet then pending("vnet.packet not there yet") return end
      local p = vnet.packet.new("abc")
      assert.same({ "p:hex" }, (repl.complete("p:he", { p = p })))
      local list, append = repl.complete("vnet.pac")
      assert.same({ "vnet.packet" }, list)
      assert.equal("", append)
    end)

    it("gives nothing for what is not a name path", function()
      for _, text in ipairs { "a[1].b", "1.", "x:y.z", "string..f", "f().x",
        "string.1", "x:y:z" } do
        assert.same({}, (repl.complete(text)), text)
      end
      assert.same({}, (repl.complete(nil)))
    end)
  end)

  describe("pretty", function()
    it("shows scalars as Lua would write them", function()
      assert.equal("1", repl.pretty(1))
      assert.equal("1.5", repl.pretty(1.5))
      assert.equal("1.0", repl.pretty(1.0))
      assert.equal("nil", repl.pretty(nil))
      assert.equal("true", repl.pretty(true))
      assert.equal('"a\\nb\\"c\\0"', repl.pretty('a\nb"c\0'))
    end)

    it("shows the sequence, then sorted keys, on one line when short", function()
      assert.equal('{ "x", "y", a = 2, b = 1 }', repl.pretty({ b = 1, a = 2, "x", "y" }))
      assert.equal('{ [-1] = 0, [10] = 1, ["has space"] = 3, zz = 4, [true] = 2 }',
        repl.pretty({ [10] = 1, [true] = 2, ["has space"] = 3, zz = 4, [-1] = 0 }))
      assert.equal("{}", repl.pretty({}))
      assert.equal('{ ["end"] = 1 }', repl.pretty({ ["end"] = 1 }))
    end)

    it("breaks long tables into indented lines", function()
      local t = { name = "tun0", addrs = { "10.0.0.1/24", "fe80::1/64" },
        stats = { rx = 1, tx = 2 } }
      assert.equal(table.concat({
        "{",
        "  addrs = {",
        '    "10.0.0.1/24",',
        '    "fe80::1/64",',
        "  },",
        '  name = "tun0",',
        "  stats = { rx = 1, tx = 2 },",
        "}",
      }, "\n"), repl.pretty(t, { width = 30 }))
    end)

    it("limits depth, marks cycles and truncates long tables", function()
      assert.equal("{ { { { {...} } } } }", repl.pretty({ { { { { 1 } } } } }))
      assert.equal("{ { {...} } }", repl.pretty({ { { 1 } } }, { depth = 2 }))
      local t = { name = "loop" }
      t.self = t
      assert.equal('{ name = "loop", self = <cycle> }', repl.pretty(t))
      local shared = { 1 }
      assert.equal("{ a = { 1 }, b = { 1 } }", repl.pretty({ a = shared, b = shared }))
      assert.equal("{ 1, 2, 3, ... (2 more) }", repl.pretty({ 1, 2, 3, 4, 5 }, { items = 3 }))
      local long = {}
      for i = 1, 100 do long[i] = i end
      local s = repl.pretty(long)
      assert.matches("^{\n  1,\n  2,\n", s)
      assert.matches("\n  40,\n  %.%.%. %(60 more%)\n}$", s)
    end)

    it("shows objects with their __tostring, and survives one that fails", function()
      local obj = setmetatable({}, { __tostring = function() return "vnet.thing: x" end })
      assert.equal("vnet.thing: x", repl.pretty(obj))
      assert.equal("{ vnet.thing: x }", repl.pretty({ obj }))
      local bad = setmetatable({}, { __tostring = function() error("no") end })
      assert.matches("^table: 0x%x+ %(__tostring failed%)$", repl.pretty(bad))
      assert.matches("^file %(0x%x+%)$", repl.pretty(io.stdout))
      if has_vnet_packet then
        local p = vnet.packet.new("abc")
        assert.equal(tostring(p), repl.pretty(p))
      end
    end)

    it("show separates results with tabs", function()
      assert.equal('1\t"a"\tnil\t{ 2 }', repl.show(1, "a", nil, { 2 }))
      assert.equal("", repl.show())
    end)
  end)
end)

-- ---- a REPL in a pseudo-terminal (spec/support/term.lua) -------------

describe("the vnet REPL in a terminal", function()
  local term, hist

  before_each(function()
    assert(run("command -v tmux"):find("tmux"),
      "these tests need tmux (tools/deps.sh installs it)")
    hist = tmpname()
    term = Term.start({ VNET_HISTORY = hist })
    term:wait("^vnet %S+ %(Lua 5%.4.-\nvnet>%s*$")
  end)

  after_each(function()
    if term then term:close() end
    os.remove(hist)
    term = nil
  end)

  it("prints the value of an expression", function()
    term:line("1+1")
    term:wait("\nvnet> 1%+1\n2\nvnet>%s*$")
    term:line("'a', 2, nil")
    term:wait('\nvnet> \'a\', 2, nil\n"a"%s+2%s+nil\nvnet>%s*$') -- tabs
    term:line("x = 5")                              -- a statement prints nothing
    term:line("x * 2")
    term:wait("\nvnet> x = 5\nvnet> x %* 2\n10\nvnet>%s*$")
  end)

  it("pretty-prints a table with sorted keys", function()
    term:line("{ zeta = 1, alpha = { 2, 3 }, mid = 'm' }")
    term:wait('\n{ alpha = { 2, 3 }, mid = "m", zeta = 1 }\nvnet>%s*$')
  end)

  it("shows an error with its traceback and goes on", function()
    term:line("error('boom')")
    local s = term:wait("stdin:1: boom\nstack traceback:\n.-\nvnet>%s*$")
    assert.matches("in function 'error'", s)
    term:line("1+2")
    term:wait("\nvnet> 1%+2\n3\nvnet>%s*$")
  end)

  it("reads more lines while the input is incomplete", function()
    term:line("function f()")
    term:line("return 3 end", "\nvnet>>%s*$")
    term:line("f()")
    term:wait("vnet> function f%(%)\nvnet>> return 3 end\nvnet> f%(%)\n3\nvnet>%s*$")
  end)

  it("honors _PROMPT and _PROMPT2", function()
    term:line("_PROMPT, _PROMPT2 = 'p1: ', 'p2: '")
    term:line("do", "\np1:%s*$")
    term:line("end", "\np2:%s*$")
    term:wait("\np2: end\np1:%s*$")
  end)

  it("completes a field with Tab", function()
    term:wait("vnet>%s*$")
    term:type("string.for")
    term:key("Tab")
    term:wait("vnet> string%.format%($")
    term:type("'%d', 7)")
    term:key("Enter")
    term:wait('\nvnet> string%.format%(\'%%d\', 7%)\n"7"\nvnet>%s*$')
  end)

  it("lists the candidates by their last name on a second Tab", function()
    term:wait("vnet>%s*$")
    term:type("string.g")
    term:key("Tab")
    term:key("Tab")
    term:wait("\ngmatch +gsub *\nvnet> string%.g$")
  end)

  it("completes vnet.pac to vnet.packet, and methods after ':'", function()
    if not has_vnet_packet then pending("vnet.packet not there yet") return end
    term:wait("vnet>%s*$")
    term:type("vnet.pac")
    term:key("Tab")
    term:wait("vnet> vnet%.packet$")    -- a table: no space after it
    term:type(".new('abc')")
    term:key("C-a")
    term:type("p = ")
    term:key("Enter")
    term:wait("vnet> p = vnet%.packet%.new%('abc'%)\nvnet>%s*$")
    term:type("p:he")
    term:key("Tab")
    term:wait("vnet> p:hex%($")
    term:type(")")
    term:key("Enter")
    term:wait('\nvnet> p:hex%(%)\n"0000  61 62 63 .-abc"\nvnet>%s*$')
  end)

  it("writes each line to the history file and reads it back", function()
    term:line("1+1")
    term:line("local y = 2")
    term:wait("vnet> local y = 2\nvnet>%s*$")
    term:key("C-d")
    term:wait("%[exit=0%]")
    assert.equal("#N\n1+1\n#N\nlocal y = 2\n", (read_file(hist):gsub("#%d+\n", "#N\n")))
    term:close()

    term = Term.start({ VNET_HISTORY = hist })
    term:wait("vnet>%s*$")
    term:key("Up")
    term:wait("vnet> local y = 2%s*$")
    term:key("Up")
    term:wait("vnet> 1%+1%s*$")
    term:key("Enter")
    term:wait("\n2\nvnet>%s*$")
  end)

  it("keeps history in ~/.vnet_history without VNET_HISTORY", function()
    term:close()
    local home = tmpname()
    assert(os.execute("mkdir " .. sh_quote(home)))
    term = Term.start({ HOME = home }, "")
    local ok, err = pcall(function()
      term:line("'in home'")
      term:wait('"in home"\nvnet>%s*$')
      term:key("C-d")
      term:wait("%[exit=0%]")
      assert.matches("^#%d+\n'in home'\n$", read_file(home .. "/.vnet_history"))
    end)
    os.remove(home .. "/.vnet_history")
    os.remove(home)
    assert(ok, err)
  end)

  it("says when the history file cannot be written, and goes on", function()
    term:close()
    term = Term.start({ VNET_HISTORY = "/nonexistent/dir/hist" })
    term:wait("vnet: history file /nonexistent/dir/hist: No such file or directory"
      .. " %(history not saved%)\nvnet>%s*$")
    term:line("1+1")
    term:wait("\nvnet> 1%+1\n2\nvnet>%s*$")
  end)

  it("clears the line on Ctrl-C at the prompt and does not exit", function()
    term:wait("vnet>%s*$")
    term:type("this is dropped")
    term:wait("vnet> this is dropped$")
    term:key("C-c")
    term:wait("vnet> this is dropped%^C\nvnet>%s*$")
    term:line("function g()")          -- and drops pending continuation lines
    term:wait("\nvnet>>%s*$")
    term:type("local z")
    term:wait("vnet>> local z$")
    term:key("C-c")
    term:wait("vnet>> local z%^C\nvnet>%s*$")
    term:line("1+1")
    term:wait("\nvnet> 1%+1\n2\nvnet>%s*$")
    assert.not_matches("%[exit=", term:screen())
    -- not what Ctrl-C dropped
    assert.equal("#N\nfunction g()\n#N\n1+1\n", (read_file(hist):gsub("#%d+\n", "#N\n")))
  end)

  it("interrupts a running loop with Ctrl-C and returns to the prompt", function()
    term:line("while true do end")
    sleep(0.3)
    term:key("C-c")
    term:wait("interrupted!\nstack traceback:\n.-\nvnet>%s*$")
    term:line("1+1")
    term:wait("\nvnet> 1%+1\n2\nvnet>%s*$")
  end)

  it("exits with status 0 and a newline on Ctrl-D", function()
    term:wait("vnet>%s*$")
    term:key("C-d")
    term:wait("\nvnet> ?\n%[exit=0%]$")
  end)
end)

describe("vnet -i without a terminal", function()
  it("reads plain lines and still prints results", function()
    local out, ok = run("printf '1+1\\nfunction f()\\nreturn {b=1,a=2} end\\nf()\\n' | timeout 10 "
      .. sh_quote(VNET) .. " -i")
    assert.is_true(ok, out)
    assert.matches("^vnet %S+ %(Lua 5%.4", out) -- -i shows the version, as lua -i does
    assert.matches("\nvnet> 2\nvnet> vnet>> vnet> { a = 2, b = 1 }\nvnet> \n$", out)
  end)

  it("shows errors and goes on", function()
    local out, ok = run("printf 'error(\"bad\")\\n2*3\\n' | timeout 10 " .. sh_quote(VNET) .. " -i")
    assert.is_true(ok, out)
    assert.matches("stdin:1: bad\nstack traceback:", out)
    assert.matches("\n?vnet> 6\n", out)
  end)
end)
