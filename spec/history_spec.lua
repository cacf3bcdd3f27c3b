-- history_spec.lua: the REPL's history file (core/host/repl.c), in a terminal
-- (spec/support/term.lua). Issue 9: a root REPL appended every typed line
-- to whatever the history path pointed to. Issue 16: a chunk typed over
-- several lines is one history entry.
local T = require "spec.support.term"
local sh_quote, run, tmpname, read_file = T.sh_quote, T.run, T.tmpname, T.read_file
local Term = T.Term

local function stamps(s) return (s:gsub("#%d+\n", "#N\n")) end

describe("the REPL history file", function()
  local term, dir

  before_each(function()
    dir = tmpname()
    assert(os.execute("mkdir " .. sh_quote(dir)))
  end)

  after_each(function()
    if term then term:close() end
    term = nil
    run("rm -rf " .. sh_quote(dir))
  end)

  it("keeps a chunk typed over several lines as one entry, and reads it back as one", function()
    local hist = dir .. "/hist"
    term = Term.start({ VNET_HISTORY = hist })
    term:line("function f()")
    term:line("return 3 end", "\nvnet>>%s*$")
    term:line("f()")
    term:wait("\nvnet> f%(%)\n3\nvnet>%s*$")
    term:key("C-d")
    term:wait("%[exit=0%]")
    assert.equal("#N\nfunction f()\nreturn 3 end\n#N\nf()\n", stamps(read_file(hist)))
    term:close()

    term = Term.start({ VNET_HISTORY = hist })
    term:wait("vnet>%s*$")
    term:key("Up")
    term:wait("vnet> f%(%)%s*$")
    term:key("Up")                       -- the whole function, not its last line
    term:wait("vnet> function f%(%)\nreturn 3 end%s*$")
    term:key("Enter")                    -- runs as one chunk: defines f
    term:line("f()")
    term:wait("\nvnet> f%(%)\n3\nvnet>%s*$")
  end)

  it("reads a file written before entries had stamps, one line an entry", function()
    local hist = dir .. "/hist"
    local f = assert(io.open(hist, "w"))
    f:write("a = 1\nb = 2\n")
    f:close()
    term = Term.start({ VNET_HISTORY = hist })
    term:wait("vnet>%s*$")
    term:key("Up")
    term:wait("vnet> b = 2%s*$")
    term:key("Up")
    term:wait("vnet> a = 1%s*$")
    term:key("Enter")
    term:key("C-d")
    term:wait("%[exit=0%]")
    assert.equal("a = 1\nb = 2\n#N\na = 1\n", stamps(read_file(hist)))
  end)

  -- each refused file: the message, the REPL goes on, the file is untouched
  local function refused(hist, message, target)
    local before = read_file(target)
    term = Term.start({ VNET_HISTORY = hist })
    term:wait("vnet: history file " .. hist:gsub("%p", "%%%0") .. ": " .. message:gsub("%p", "%%%0")
      .. " %(history not saved%)\nvnet>%s*$")
    term:line("secret = 42")
    term:line("secret + 1")
    term:wait("\n43\nvnet>%s*$")
    term:key("C-d")
    term:wait("%[exit=0%]")
    assert.equal(before, read_file(target))
  end

  it("does not follow a symbolic link (issue 9)", function()
    local target = dir .. "/victim"
    assert(io.open(target, "w")):close()
    assert(os.execute("ln -s victim " .. sh_quote(dir .. "/hist")))
    refused(dir .. "/hist", "a symbolic link, not followed", target)
    assert.equal("", read_file(target))
  end)

  it("refuses what is not a regular file (issue 9)", function()
    assert(os.execute("mkfifo " .. sh_quote(dir .. "/hist")))
    refused(dir .. "/hist", "not a regular file", "/dev/null")
  end)

  it("refuses a file another user owns (issue 9)", function()
    local hist = dir .. "/hist"
    local f = assert(io.open(hist, "w"))
    f:write("theirs\n")
    f:close()
    assert(os.execute("chown 65534 " .. sh_quote(hist)))
    local uid = run("id -u"):gsub("\n", "")
    refused(hist, "owned by uid 65534, not by uid " .. uid .. " (you)", hist)
    assert.equal("theirs\n", read_file(hist))
  end)

  it("refuses a hard link to another file (issue 9)", function()
    local target = dir .. "/victim"
    local f = assert(io.open(target, "w"))
    f:write("keep\n")
    f:close()
    assert(os.execute("ln " .. sh_quote(target) .. " " .. sh_quote(dir .. "/hist")))
    refused(dir .. "/hist", "has 2 hard links, so it is also another file", target)
    assert.equal("keep\n", read_file(target))
  end)
end)
