--- vnet._linkns: vnet.link's namespace handling: the namespace a link
-- read now lives in, running a function in a link object's namespace,
-- and a netns argument (ns object, name, pid) made a namespace object.
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local nscore = require "vnet.netns.core"

local M = {}

local function netns() return require "vnet.netns" end

-- The namespace object for the namespace we are in now, when it is one
-- that netns:run entered (so a link read here can be used from outside).
local function here()
  local ino = nscore.current_id()
  return netns()._running(ino), ino
end

-- Run fn(...) in the namespace of link object l (raises if unknown).
local function within(l, op, fn, ...)
  local ino = rawget(l, "_nsino")
  if ino == nil or ino == nscore.current_id() then return fn(...) end
  local ns = rawget(l, "netns")
  if ns then return ns:run(fn, ...) end
  raise(string.format("%s %s: the link is in another network namespace; " ..
    "use it from there (ns:run) or get it with link.get inside that namespace",
    op, l.name))
end

-- A namespace argument (ns object, name, pid) -> ns object | nil, msg, errno
local function tons(op, v)
  if type(v) == "userdata" and v.fileno then return v end
  if type(v) == "string" or math.type(v) == "integer" then
    return netns().open(v)
  end
  raise(string.format("%s: option 'netns' must be a netns, a name or a pid (got %s)",
    op, type(v)))
end

M.here, M.within, M.tons = here, within, tons
return M
