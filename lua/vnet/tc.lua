--- vnet.tc: kernel traffic control through libnl-route: netem (delay,
-- loss, duplication, reordering, corruption, rate), tbf and htb rate
-- limits, and the ingress qdisc with a redirect (mirred) to an ifb device
-- so that ingress traffic can be shaped too.
--
--    local tc = vnet.tc
--    assert(tc.netem("veth0", { delay = "50ms", jitter = "5ms", loss = 1 }))
--    assert(tc.tbf("veth1", { rate = "10mbit", burst = "32kb" }))
--    assert(tc.htb("veth2", { rate = "100mbit", ceil = "200mbit" }))
--    assert(tc.redirect("veth0", "ifb0"))   -- veth0's ingress -> ifb0
--    assert(tc.netem("ifb0", { delay = 20 })) -- ... delayed there
--    for _, q in ipairs(assert(tc.list("veth0"))) do print(q.kind, q.handle) end
--    assert(tc.clear("veth0"))
--
-- Units, as tc(8) writes them: times are milliseconds (a number) or text
-- with a unit ("50ms", "1.5s", "200us"); probabilities are percent (1 is
-- 1%, or "1%"); rates are bits per second (a number) or text ("10mbit",
-- "1gbit", "100kbit", "1mbps" is bytes); sizes are bytes or text ("32kb",
-- "1mb", "1500b"). Read back (tc.list), times are ms, probabilities
-- percent, rates bits per second, sizes bytes.
--
-- netem, tbf and htb replace what was at the root (as `tc qdisc replace`):
-- applying the same settings twice changes nothing. A device is a name, an
-- ifindex or a link object. System failures return nil, msg, errno with
-- the kernel's reason ("tc.netem veth0: No such file or directory
-- (Specified qdisc kind is unknown)"); misuse raises at the caller's line.
local core = require "vnet.tc.core"
local raise = require("vnet._caller").raise

local M = {}

local ROOT, INGRESS_PARENT, INGRESS = 0xffffffff, 0xfffffff1, 0xffff0000
local U32MAX = 0xffffffff

local units = require "vnet._tcunits"
local UNIT, KINDS = units.UNIT, units.KINDS
M.options = KINDS -- read by vnet.topo to check a description

-- ---- handles -------------------------------------------------------------

--- tc.handle("1:10") -> 0x10010; "root", "ingress", "none" and integers too.
function M.handle(v, op, key)
  if math.type(v) == "integer" and v >= 0 and v <= U32MAX then return v end
  if v == "root" then return ROOT elseif v == "ingress" then return INGRESS_PARENT
  elseif v == "none" then return 0 end
  if type(v) == "string" then
    local maj, min = v:match("^(%x*):(%x*)$")
    if maj and #maj <= 4 and #min <= 4 and (maj ~= "" or min ~= "") then
      return (tonumber(maj ~= "" and maj or "0", 16) << 16) | tonumber(min ~= "" and min or "0", 16)
    end
  end
  raise("%s: option '%s': '%s' is not a tc handle (\"1:\", \"1:10\", \"root\")",
    op or "tc.handle", key or "handle", tostring(v))
end

--- tc.handle_text(0x10010) -> "1:10" (as tc prints handles)
function M.handle_text(h)
  if h == ROOT then return "root" elseif h == INGRESS_PARENT then return "ingress" end
  local maj, min = h >> 16, h & 0xffff
  return min == 0 and string.format("%x:", maj) or string.format("%x:%x", maj, min)
end

-- ---- devices --------------------------------------------------------------

local function device(op, dev)
  local link = require "vnet.link"
  local t = type(dev)
  if math.type(dev) == "integer" or t == "string" or
     ((t == "table" or t == "userdata") and math.type(dev.ifindex) == "integer") then
    local l, err, eno = link.get(link.is(dev) and dev.name or dev)
    if not l then return nil, err and (err:gsub("^link%.get", op)), eno end
    return l.ifindex, l.name
  end
  raise("%s: expected a device name, ifindex or link object (got %s)", op, t)
end

local function convert(op, o, spec, extra)
  if o == nil then o = {} end
  if type(o) ~= "table" then raise("%s: options must be a table (got %s)", op, type(o)) end
  local out = {}
  for k, v in pairs(o) do
    local s = spec[k]
    if s then out[s[1]] = UNIT[s[2]].to(op, k, v)
    elseif not (extra and extra[k]) then
      local known = {}
      for name in pairs(spec) do known[#known + 1] = name end
      for name in pairs(extra or {}) do known[#known + 1] = name end
      table.sort(known)
      raise("%s: unknown option '%s' (known: %s)", op, tostring(k), table.concat(known, ", "))
    end
  end
  return out
end

local PLACE = { parent = true, handle = true }

-- For vnet.topo's diff: options as tc.list reads them back (user units,
-- after the round trip through the kernel's).
function M._normalize(kind, o)
  local spec = KINDS[kind == "htb" and "htb_class" or kind]
  local out = {}
  for k, v in pairs(o) do
    local s = spec[k]
    if s then out[k] = UNIT[s[2]].from(UNIT[s[2]].to("tc", k, v)) end
  end
  return out
end

-- For vnet.topo's checker: raise as netem/tbf/htb would on these options.
function M._convert(op, o, kind)
  if (kind == "tbf" or kind == "htb") and o.rate == nil then raise("%s: option 'rate' is required", op) end
  return convert(op, o, KINDS[kind == "htb" and "htb_class" or kind], kind ~= "htb" and PLACE or nil)
end

local function place(op, o, out, handle)
  out.parent = o.parent ~= nil and M.handle(o.parent, op, "parent") or ROOT
  out.handle = o.handle ~= nil and M.handle(o.handle, op, "handle") or handle
  return out
end

local function qdisc(op, kind, dev, o, handle)
  local out = place(op, o or {}, convert(op, o, KINDS[kind], PLACE), handle)
  out.kind = kind
  local idx, name, eno = device(op, dev)
  if not idx then return nil, name, eno end
  return core.qdisc("replace", idx, out, op, name)
end

--- tc.netem(dev, {delay =, jitter =, delay_correlation =, loss =,
-- loss_correlation =, duplicate =, duplicate_correlation =, reorder =,
-- reorder_correlation =, gap =, corrupt =, corrupt_correlation =, rate =,
-- limit =, parent =, handle =}) -> true | nil, msg, errno
-- Replaces the root qdisc (or the one at parent) with netem. reorder needs
-- a delay (the packets not reordered are the delayed ones).
function M.netem(dev, o)
  return qdisc("tc.netem", "netem", dev, o)
end

--- tc.tbf(dev, {rate =, burst =, latency = | limit =, peakrate =, mtu =,
-- parent =, handle =}) -> true | nil, msg, errno
-- A token bucket: rate is required; burst defaults to 10 ms of rate (at
-- least 1600 bytes), latency to 50 ms.
function M.tbf(dev, o)
  local op = "tc.tbf"
  if type(o) ~= "table" or o.rate == nil then raise("%s: option 'rate' is required", op) end
  local t = {}
  for k, v in pairs(o) do t[k] = v end
  if t.burst == nil then
    local bytes = UNIT.rate.to(op, "rate", o.rate)
    if bytes > 0x7fffffff then raise("%s: option 'rate' is out of range (at most 17gbit)", op) end
    t.burst = math.max(1600, math.floor(bytes / 100))
  end
  return qdisc(op, "tbf", dev, t)
end

--- tc.htb(dev, {rate =, ceil =, burst =, cburst =, prio =}) -> true | nil, msg, errno
-- A root htb qdisc (handle 1:) whose traffic all goes to one class 1:1
-- limited to rate (borrowing up to ceil).
function M.htb(dev, o)
  local op = "tc.htb"
  if type(o) ~= "table" or o.rate == nil then raise("%s: option 'rate' is required", op) end
  local c = convert(op, o, KINDS.htb_class)
  local idx, name, eno = device(op, dev)
  if not idx then return nil, name, eno end
  local ok, err, have = nil, nil, false
  -- htb cannot change in place, and a root of another kind cannot be
  -- replaced by one with a handle: keep our htb 1:, remove anything else
  for _, q in ipairs(core.list("qdisc", idx, 0, op, name) or {}) do
    if q.parent == ROOT and q.handle ~= 0 then
      if q.kind == "htb" and q.handle == 0x10000 and q.default == 1 then have = true
      else core.qdisc("del", idx, { parent = ROOT }, op, name) end
    end
  end
  if not have then
    ok, err, eno = core.qdisc("replace", idx, { kind = "htb", parent = ROOT, handle = 0x10000, default = 1 }, op, name)
    if not ok then return nil, err, eno end
  end
  c.parent, c.classid = 0x10000, 0x10001
  return core.class("replace", idx, c, op, name)
end

--- tc.qdisc(dev, {kind =, parent =, handle =, ...the kind's options})
-- -> true | nil, msg, errno: a qdisc of a kind vnet knows how to describe
-- (netem, tbf, htb, pfifo, bfifo), replacing. pfifo and bfifo need their
-- limit (packets, bytes): libnl cannot send them without one.
function M.qdisc(dev, o)
  if type(o) ~= "table" or type(o.kind) ~= "string" then
    raise("tc.qdisc: option 'kind' is required (a qdisc kind: \"netem\", \"tbf\", ...)")
  end
  if not KINDS[o.kind] or o.kind == "htb_class" then
    raise("tc.qdisc: kind '%s' is not supported (known: bfifo, htb, netem, pfifo, tbf)", o.kind)
  end
  if (o.kind == "pfifo" or o.kind == "bfifo") and o.limit == nil then
    raise("tc.qdisc: kind '%s' needs option 'limit' (%s)", o.kind, o.kind == "pfifo" and "packets" or "bytes")
  end
  local t = {}
  for k, v in pairs(o) do if k ~= "kind" then t[k] = v end end
  return qdisc("tc.qdisc", o.kind, dev, t)
end
KINDS.pfifo, KINDS.bfifo = { limit = { "limit", "count" } }, { limit = { "limit", "size" } }

--- tc.class(dev, {parent =, classid =, rate =, ceil =, burst =, cburst =, prio =})
-- -> true | nil, msg, errno: an htb class
function M.class(dev, o)
  local op = "tc.class"
  local c = convert(op, o, KINDS.htb_class, { parent = true, classid = true })
  c.parent = M.handle(o.parent or "1:", op, "parent")
  c.classid = M.handle(o.classid or "1:1", op, "classid")
  local idx, name, eno = device(op, dev)
  if not idx then return nil, name, eno end
  return core.class("replace", idx, c, op, name)
end

--- tc.ingress(dev) -> true | nil, msg, errno: the ingress qdisc (ffff:)
function M.ingress(dev)
  local idx, name, eno = device("tc.ingress", dev)
  if not idx then return nil, name, eno end
  return core.qdisc("replace", idx, { kind = "ingress", parent = INGRESS_PARENT, handle = INGRESS },
    "tc.ingress", name)
end

--- tc.filters(dev [, parent]) -> { {kind =, prio =, action =, to = ifindex}, ... }
-- The filters with an action at parent (default: the ingress qdisc).
function M.filters(dev, parent)
  local op = "tc.filters"
  local p = parent == nil and INGRESS or M.handle(parent, op, "parent")
  local idx, name, eno = device(op, dev)
  if not idx then return nil, name, eno end
  local all, err
  all, err, eno = core.list("filter", idx, p, op, name)
  if not all then return nil, err, eno end
  local out = {}
  for _, f in ipairs(all) do
    if f.action then
      f.handle, f.parent, f.info = M.handle_text(f.handle), M.handle_text(f.parent), nil
      out[#out + 1] = f
    end
  end
  return out
end

--- tc.redirect(dev, to [, {mirror = true, prio =}]) -> true | nil, msg, errno
-- Everything arriving on dev goes to `to` (an ifb device, typically) via
-- the ingress qdisc and a u32 filter with a mirred action; mirror = true
-- copies instead. Nothing is added when dev already redirects to `to`.
function M.redirect(dev, to, o)
  local op = "tc.redirect"
  o = o or {}
  if type(o) ~= "table" then raise("%s: options must be a table (got %s)", op, type(o)) end
  for k in pairs(o) do
    if k ~= "mirror" and k ~= "prio" then raise("%s: unknown option '%s' (known: mirror, prio)", op, tostring(k)) end
  end
  local idx, name, eno = device(op, dev)
  if not idx then return nil, name, eno end
  local tidx, tname, teno = device(op, to)
  if not tidx then return nil, tname, teno end
  local ok, err
  ok, err, eno = core.qdisc("replace", idx, { kind = "ingress", parent = INGRESS_PARENT, handle = INGRESS }, op, name)
  if not ok then return nil, err, eno end
  local have = M.filters(idx)
  for _, f in ipairs(have or {}) do
    if f.to == tidx and f.action == (o.mirror and "mirror" or "redirect") then return true end
  end
  return core.redirect("add", idx, { to = tidx, mirror = o.mirror and true or false,
    prio = o.prio or 49152 }, op, name .. " to " .. tname)
end

local ENOENT, EINVAL = 2, 22

--- tc.remove(dev [, "root" | "ingress" | handle]) -> true | nil, msg, errno
-- Removes that qdisc (default the root one) and what hangs below it.
function M.remove(dev, which)
  local op = "tc.remove"
  which = which or "root"
  local spec
  if which == "ingress" then spec = { parent = INGRESS_PARENT, handle = INGRESS, kind = "ingress" }
  elseif which == "root" then spec = { parent = ROOT }
  else spec = { parent = ROOT, handle = M.handle(which, op, "handle") } end
  local idx, name, eno = device(op, dev)
  if not idx then return nil, name, eno end
  return core.qdisc("del", idx, spec, op, name)
end

--- tc.clear(dev) -> true | nil, msg, errno: remove the root and ingress
-- qdiscs (the device falls back to its default); nothing there is fine.
function M.clear(dev)
  local idx, name, eno = device("tc.clear", dev)
  if not idx then return nil, name, eno end
  for _, spec in ipairs { { parent = ROOT }, { parent = INGRESS_PARENT, handle = INGRESS, kind = "ingress" } } do
    local ok, err, e = core.qdisc("del", idx, spec, "tc.clear", name)
    if not ok and e ~= ENOENT and e ~= EINVAL then return nil, err, e end
  end
  return true
end

local function readable(kind, t)
  local spec = KINDS[kind == "htb" and t.classid and "htb_class" or kind]
  if spec then
    for user, s in pairs(spec) do
      local v = t[s[1]]
      if v ~= nil then t[s[1]] = nil; t[user] = UNIT[s[2]].from(v) end
    end
  end
  return t
end

--- tc.list([dev]) -> { qdisc, ... } | nil, msg, errno
-- Each qdisc: dev (name), ifindex, kind, handle ("8001:"), parent
-- ("root", "ingress", "1:1"), root (true at the root), and its options in
-- the units above (netem: delay, jitter, loss, ...; tbf: rate, burst,
-- limit; htb: default). Without dev: every device's.
function M.list(dev)
  local op = "tc.list"
  local idx, name, eno = 0, nil, nil
  if dev ~= nil then
    idx, name, eno = device(op, dev)
    if not idx then return nil, name, eno end
  end
  local all, err
  all, err, eno = core.list("qdisc", idx, 0, op, name or "")
  if not all then return nil, err, eno end
  local link = require "vnet.link"
  local names = {}
  for _, q in ipairs(all) do
    names[q.ifindex] = names[q.ifindex] or name or (link.get(q.ifindex) or {}).name or ("#" .. q.ifindex)
    q.dev, q.root = names[q.ifindex], q.parent == ROOT or nil
    q.handle, q.parent, q.info = M.handle_text(q.handle), M.handle_text(q.parent), nil
    readable(q.kind, q)
  end
  return all
end

--- tc.classes(dev) -> { {kind =, classid = "1:1", parent =, rate =, ceil =, ...}, ... }
function M.classes(dev)
  local op = "tc.classes"
  local idx, name, eno = device(op, dev)
  if not idx then return nil, name, eno end
  local all, err
  all, err, eno = core.list("class", idx, 0, op, name)
  if not all then return nil, err, eno end
  for _, c in ipairs(all) do
    c.classid, c.handle = M.handle_text(c.handle), nil
    c.parent, c.info, c.dev = M.handle_text(c.parent), nil, name
    readable(c.kind, c)
  end
  return all
end

return M
