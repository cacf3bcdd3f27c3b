--- vnet._linkspec: what link.create, link.set and every kind's create share:
-- the generic options (name, mtu, address, txqueuelen, up, link, master,
-- netns, numtxqueues, numrxqueues) turned into the spec core/netlink/link.c sends,
-- their ranges, and the body of create. Misuse raises at the user's line.
local core = require "vnet.link.core"
local nl = require "vnet.nl.core"
local raise = nl.raise
local E = nl.errno
local opts = require "vnet._opts"
local kinds = require "vnet._kinds"

local S = {}
local function link() return require "vnet.link" end
local function resolve(...) return link()._resolve(...) end
local function tons(...) return link()._tons(...) end
local function wrap(...) return link()._wrap(...) end
local function session() return require "vnet.session" end

local generic = {
  kind = "string", name = "string", mtu = "integer", address = "string",
  txqueuelen = "integer", up = "boolean", link = { "string", "integer", "table", "userdata" },
  master = { "string", "integer", "table", "userdata" },
  netns = { "string", "integer", "userdata" },
  numtxqueues = "integer", numrxqueues = "integer", persist = "boolean",
}


-- The MTU range of a new link (Ethernet's ETH_MIN_MTU to ETH_MAX_MTU), or
-- of link table t as the kernel reports it (min_mtu, max_mtu; 0: no bound).
local function mtu_range(t)
  if not t then return 68, 65535 end
  local hi = t.max_mtu
  return t.min_mtu or 0, (hi and hi > 0) and hi or 0x7fffffff
end

local function check_mtu(op, name, key, mtu, lo, hi)
  if mtu ~= nil and (mtu < lo or mtu > hi) then
    raise(string.format("%s %s: option '%s' %d out of range (%d to %d)", op, name, key,
      mtu, lo, hi))
  end
end
-- a new link's MTU option (veth's peer_mtu)
function S.check_new_mtu(op, name, key, mtu) check_mtu(op, name, key, mtu, mtu_range()) end

-- What every create/set shares: generic options -> spec fields. cur: the
-- link's table as the kernel reports it (set), nil when creating.
-- Returns spec, or nil, msg, errno (a named link that does not exist).
function S.generic_spec(op, name, o, cur)
  local spec = { name = o.name, mtu = o.mtu, txqueuelen = o.txqueuelen, up = o.up,
    numtxqueues = o.numtxqueues, numrxqueues = o.numrxqueues }
  check_mtu(op, name, "mtu", o.mtu, mtu_range(cur))
  if o.address then
    spec.address = nl.mac(o.address)
    if not spec.address then
      raise(string.format("%s %s: option 'address': '%s' is not a MAC address " ..
        "(aa:bb:cc:dd:ee:ff)", op, name, o.address))
    end
  end
  for _, f in ipairs { { "link", "parent" }, { "master", "master" } } do
    local v = o[f[1]]
    if v ~= nil then
      local idx, err, eno = resolve(op, v)
      if not idx then
        return nil, string.format("%s %s: %s (%s '%s')", op, name, err:match(": (.*)$"),
          f[1] == "link" and "parent" or f[1], tostring(type(v) == "table" and v.name or v)), eno
      end
      spec[f[2]] = idx
    end
  end
  return spec
end

-- A refusal the kernel gives without saying why (EOPNOTSUPP, no extended
-- ack): name the options of kind d in o that a kernel may lack (marked
-- `feature` in the kind's description, saying what they need).
function S.feature_hint(d, o, err, eno)
  if eno ~= E.EOPNOTSUPP or not d or err:find("%)$") then return err end
  local named = {}
  for key, od in pairs(d.options or {}) do
    if od.feature and o[key] ~= nil then named[#named + 1] = key end
  end
  if #named == 0 then return err end
  table.sort(named)
  local od = d.options[named[1]]
  return string.format("%s (option%s '%s': %s)", err, #named > 1 and "s" or "",
    table.concat(named, "', '"), od.feature)
end

-- "this kernel has no 'ipvlan' support" for an unknown device type.
local function kind_error(op, name, kind, err, eno)
  if eno == E.EOPNOTSUPP and err and err:find("(Unknown device type)", 1, true) then
    return nil, string.format("%s %s: this kernel has no '%s' support (Unknown device type)",
      op, name, kind), eno
  end
  return nil, err, eno
end

--- What a create sends, checked: S.prepare(op, d, o) -> p | nil, msg,
-- errno. p = {op, d, o, name, kind, spec, hold, target}: spec for
-- core.create, hold the namespace objects that must stay open until it is
-- sent, target the namespace the link is made in (o.netns). Misuse raises.
function S.prepare(op, d, o)
  if type(o) ~= "table" then
    raise(string.format("%s: options must be a table (got %s)", op, type(o)))
  end
  local kind = o.kind or (d and d.kind)
  if type(kind) ~= "string" then raise(op .. ": option 'kind' is required (a string)") end
  if kind == "tun" or kind == "tap" then
    raise(string.format("%s: %s devices are made with vnet.%s.open (the kernel " ..
      "does not create them over rtnetlink)", op, kind, kind))
  end
  d = d or kinds.get(kind)
  if d and d.create == false then d = nil end
  opts.check(op, o, kinds.spec(d, generic))
  if o.name == nil then raise(op .. ": option 'name' is required") end
  opts.ifname(op, o.name)
  if d and d.kind ~= kind then
    raise(string.format("%s: option 'kind' is '%s', not '%s'", op, kind, d.kind))
  end
  local name = o.name
  if d and d.parent == "required" and o.link == nil then
    raise(string.format("%s %s: option 'link' is required (the parent device)", op, name))
  end
  if d and d.check then d.check(op, name, o) end
  local spec, err, eno = S.generic_spec(op, name, o)
  if not spec then return nil, err, eno end
  if d and d.before then -- what must hold before the kernel is asked
    local okb, berr, beno = d.before(op, name, o)
    if not okb then return nil, berr, beno end
  end
  spec.kind, spec.group = kind, session().group(o.persist)
  local hold = {} -- namespace objects kept open until the request is sent
  local ctx = {
    op = op, name = name, o = o, hold = hold, spec = spec,
    resolve = function(v, key)
      local idx, rerr = resolve(op, v)
      if not idx then
        raise(string.format("%s %s: option '%s': %s", op, name, key, rerr:match(": (.*)$")))
      end
      return idx
    end,
    -- a namespace option: the ns object, or nil with the failure kept in
    -- ctx.failed (returned once encoding is done)
    netns = function(v)
      local ns, nerr, neno = tons(op, v)
      if not ns then
        hold.failed = hold.failed or { nerr, neno }
        return nil
      end
      hold[#hold + 1] = ns
      return ns
    end,
  }
  if d then
    spec.data = kinds.encode(ctx, d, o, false)
    if hold.failed then return nil, hold.failed[1], hold.failed[2] end
  end
  local target
  if o.netns ~= nil then
    local ns, nerr, neno = tons(op, o.netns)
    if not ns then return nil, nerr, neno end
    target = ns
    spec.netns_fd = ns:fileno()
  end
  return { op = op, d = d, o = o, name = name, kind = kind, spec = spec, hold = hold,
    target = target }
end

--- S.refused(p, err, eno) -> nil, msg, errno: the kernel's refusal of p,
-- with the kind's hints.
function S.refused(p, err, eno)
  local d = p.d
  local hint = d and d.hints and d.hints[eno]
  if hint and not err:find("%)$") then err = err .. " (" .. hint .. ")" end
  err = S.feature_hint(d, p.o, err, eno)
  return kind_error(p.op, p.name, p.kind, err, eno)
end

--- S.made(p [, t [, ns, ino]]) -> link | nil, msg, errno: the link p made,
-- as an object (t: its table when the kernel echoed it, read in namespace
-- ns/ino), before the kind's `after` and the journal.
function S.made(p, t, ns, ino)
  local op, name, err, eno = p.op, p.name, nil, nil
  if p.target then
    t, err, eno = p.target:run(core.get, name, op, name)
    if t then return wrap(t, p.target, p.target:id()) end
    return nil, err, eno
  end
  if type(t) ~= "table" then
    t, err, eno = core.get(name, op, name)
    if not t then return nil, err, eno end
  end
  return wrap(t, ns, ino)
end

--- S.after(p, l) -> true | nil, msg, errno: the kind's `after` (what one
-- request cannot do: ports, slaves...)
function S.after(p, l)
  if p.d and p.d.after then return p.d.after(l, p.o, p.op) end
  return true
end

--- The shared body of link.create and every kind's create.
function S.create(op, d, o)
  local p, err, eno = S.prepare(op, d, o)
  if not p then return nil, err, eno end
  local held <close> = session().hold() -- until it is in the journal
  local ok
  ok, err, eno = core.create(p.spec, op, p.name)
  if not ok then return S.refused(p, err, eno) end
  local l
  l, err, eno = S.made(p)
  if not l then return nil, err, eno end
  ok, err, eno = S.after(p, l)
  if not ok then
    l:delete()
    return nil, err, eno
  end
  return session().own_link(l, o.persist)
end

return S
