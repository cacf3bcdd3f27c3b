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

--- The shared body of link.create and every kind's create.
function S.create(op, d, o)
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
    op = op, name = name, o = o, hold = hold,
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
  local ok
  local held <close> = session().hold() -- until it is in the journal
  ok, err, eno = core.create(spec, op, name)
  if not ok then
    local hint = d and d.hints and d.hints[eno]
    if hint and not err:find("%)$") then err = err .. " (" .. hint .. ")" end
    err = S.feature_hint(d, o, err, eno)
    return kind_error(op, name, kind, err, eno)
  end
  local t, l
  if target then
    t, err, eno = target:run(core.get, name, op, name)
    if t then l = wrap(t, target, target:id()) end
  else
    t, err, eno = core.get(name, op, name)
    if t then l = wrap(t) end
  end
  if not l then return nil, err, eno end
  if d and d.after then -- what one request cannot do (ports, slaves...)
    ok, err, eno = d.after(l, o, op)
    if not ok then
      l:delete()
      return nil, err, eno
    end
  end
  return session().own_link(l, o.persist)
end

return S
