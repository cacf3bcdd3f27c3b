--- vnet._linkset: vnet.link's changing of a link (link.set, l:set):
-- options checked, the session told first, the request built and sent,
-- a link object read back wherever it now lives.
local core = require "vnet.link.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local opts = require "vnet._opts"
local kinds = require "vnet._kinds"
local lobj = require "vnet._linkobj"
local lns = require "vnet._linkns"
local lspec = require "vnet._linkspec"
local generic_spec, feature_hint = lspec.generic_spec, lspec.feature_hint
local resolve, fill, within, tons = lobj.resolve, lobj.fill, lns.within, lns.tons

local M = {}

local function session() return require "vnet.session" end

local set_base = {
  up = "boolean", mtu = "integer", address = "string", name = "string",
  master = { "string", "integer", "table", "userdata" }, nomaster = "boolean",
  txqueuelen = "integer", netns = { "string", "integer", "userdata" },
}

-- l is a link object or anything resolve() takes.
local function set(op, l, o)
  local obj = getmetatable(l) == lobj.Link and l or nil
  local d = obj and obj.kind and kinds.get(obj.kind)
  o = opts.check(op, o, kinds.spec(d, set_base, true))
  local function body()
    local idx, name, eno = resolve(op, l)
    if not idx then return nil, name, eno end
    if o.master ~= nil and o.nomaster then
      raise(op .. " " .. name .. ": options 'master' and 'nomaster' exclude each other")
    end
    if o.netns ~= nil and (o.master ~= nil or o.nomaster) then
      raise(op .. " " .. name .. ": options 'netns' and '" .. (o.nomaster and "nomaster" or "master") ..
        "' cannot go in one request (the kernel refuses it): move the link first, " ..
        "then set its master in its new namespace")
    end
    if o.name ~= nil then opts.ifname(op, o.name) end
    session().changing(obj, idx, name, o)
    local spec, err, cur
    if o.mtu ~= nil then cur = core.get(idx, op, name) end -- its MTU range
    spec, err, eno = generic_spec(op, name, o, cur)
    if not spec then return nil, err, eno end
    if o.nomaster then spec.master = 0 end
    if d then
      spec.kind = d.kind
      spec.data = kinds.encode({ op = op, name = name, o = o,
        resolve = function(v) return (resolve(op, v)) end }, d, o, true)
      if not spec.data then spec.kind = nil end
    end
    local target
    if o.netns ~= nil then
      target, err, eno = tons(op, o.netns)
      if not target then return nil, err, eno end
      spec.netns_fd = target:fileno()
    end
    local ok
    ok, err, eno = core.set(idx, spec, op, name)
    if not ok then return nil, feature_hint(d, o, err, eno), eno end
    return true, target, o.name or name
  end
  local ok, target, newname
  if obj then ok, target, newname = within(obj, op, body)
  else ok, target, newname = body() end
  if not ok then return nil, target, newname end
  if obj then -- read the link back, wherever it now lives
    local t
    if target then
      t = target:run(core.get, newname, op, newname)
      if t then fill(obj, t, target, target:id()) end
    else
      t = within(obj, op, core.get, obj.ifindex, op, newname)
      if t then fill(obj, t, rawget(obj, "netns"), rawget(obj, "_nsino")) end
    end
  end
  session().changed(obj, target, newname)
  return true
end

M.set = set
return M
