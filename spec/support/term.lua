-- term.lua: a vnet REPL in a real pseudo-terminal, driven through a
-- private tmux server (its own socket, no user config), every wait bounded;
-- and the small shell helpers the REPL specs share.
--   local T = require "spec.support.term"
--   local term = T.Term.start({ VNET_HISTORY = "" })
--   term:line("1+1"); term:wait("\n2\nvnet>%s*$"); term:close()
local H = require "spec.helper"
local T = {}

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

local function sleep(s) os.execute("sleep " .. s) end

local function tmpname()
  local name = os.tmpname()
  os.remove(name)
  return name
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local CWD = run("pwd"):gsub("\n$", "")
local VNET = os.getenv("VNET") or CWD .. "/build/vnet"

-- ---- a REPL in a pseudo-terminal ---------------------------------------

local Term = {}
Term.__index = Term

-- Seconds at most for any one thing to show. A wait ends as soon as it
-- shows, so this only bounds a failure; it is long enough for the asan
-- build on a loaded machine, where each poll (a tmux client) is slow too.
local WAIT = 15

-- Start `env... build/vnet args` in a private tmux server. The shell prints
-- "[exit=N]" when vnet ends so the exit status can be read off the screen.
function Term.start(env, args)
  local self = setmetatable({ sock = tmpname() }, Term)
  local vars = { "INPUTRC=/dev/null" }
  for k, v in pairs(env or {}) do vars[#vars + 1] = k .. "=" .. sh_quote(v) end
  local cmd = "env " .. table.concat(vars, " ") .. " " .. sh_quote(VNET)
    .. " " .. (args or "") .. '; echo "[exit=$?]"; sleep 60'
  local out, ok = run(("tmux -S %s -f /dev/null new-session -d -s vnet -x 160 -y 50 -c %s %s")
    :format(sh_quote(self.sock), sh_quote(CWD), sh_quote(cmd)))
  assert(ok, "tmux failed to start: " .. out)
  return self
end

function Term:tmux(args)
  local out, ok = run("tmux -S " .. sh_quote(self.sock) .. " " .. args)
  assert(ok, "tmux " .. args .. ": " .. out)
  return out
end

function Term:screen()
  return (self:tmux("capture-pane -p -J -S - -t vnet"):gsub("\n+$", ""))
end

-- Wait until the screen matches the Lua pattern; fail showing the screen.
function Term:wait(pattern)
  local s
  if H.eventually(function() s = self:screen(); return s:find(pattern) end, WAIT) then
    return s
  end
  error(("timed out after %d s waiting for %q; the screen:\n%s"):format(WAIT, pattern, s), 2)
end

function Term:type(text) self:tmux("send-keys -t vnet -l " .. sh_quote(text)) end
function Term:key(name) self:tmux("send-keys -t vnet " .. name) end

function Term:close()
  run("tmux -S " .. sh_quote(self.sock) .. " kill-server")
  os.remove(self.sock)
end

-- Type `text` once the screen shows `ready`, then Enter.
function Term:line(text, ready)
  self:wait(ready or "vnet>%s*$")
  self:type(text)
  self:key("Enter")
end

T.sh_quote, T.run, T.sleep, T.tmpname, T.read_file = sh_quote, run, sleep, tmpname, read_file
T.CWD, T.VNET, T.Term, T.WAIT = CWD, VNET, Term, WAIT
return T
