--- fuzz/driver.lua: what the libFuzzer target (fuzz/fuzz_proto.c) does with
-- one input, written in Lua so that it goes through the same methods a
-- script calls: p:ipv4(), ip.src = ..., p:fix_checksums() and the rest,
-- all of them C (core/packet/parse.c, field.c, csum.c, proto.c, describe.c).
--
-- Input layout (fuzz/make-corpus.lua writes seeds in it):
--   byte 0   bits 0-1 link type: 0 guessed, 1 "raw", 2 "eth", 3 guessed
--            bit 2    byte 1 is an explicit network-header offset (l3off)
--            bits 3-7 number of operations (0-31)
--   byte 1   l3off
--   4 bytes per operation
--   the rest: the packet
-- Shorter inputs are taken as a packet alone.
--
-- Errors raised by a method (a value out of range, a stale view) are
-- expected: the API raises on misuse. What must never happen, besides a
-- sanitizer report, is checked here and reported with fail(), which
-- aborts the process so libFuzzer keeps the input:
--   * tostring(p) and p:dump() raise;
--   * a view just taken raises when a field is read;
--   * p:fix_checksums() says true but p:checksums_ok() disagrees;
--   * setting a field that does not change where headers are (addresses,
--     ports, TTL, ids, flags, window...), through a view just taken
--     without an explicit offset, on a packet whose link type is set (a
--     guess may change with the bytes) and whose checksums were
--     right leaves one wrong, or differs from a full recomputation when
--     the packet's checksums were byte for byte the recomputed ones;
--   * p:swap() twice is not the identity (link type set);
--   * p:echo_reply() breaks checksums that were right.
local fail = ... -- function(msg): abort with msg
local packet = require "vnet.packet.core"
require "vnet.proto"

local new = packet.new
local KINDS = { "eth", "arp", "ipv4", "ipv6", "ip", "icmp", "icmp6", "udp", "tcp" }
local FIELDS = require("vnet.proto.core").fields

-- Fields whose setting keeps every checksum right and changes no header
-- position or length (docs/packets.md, "Checksums"): the `keep` mark of
-- the views' own field table (core/packet/field.c, proto.core.layout).
local SAFE = {}
for kind, layout in pairs(require("vnet.proto.core").layout) do
  SAFE[kind] = {}
  for _, f in ipairs(layout.fields) do SAFE[kind][f.name] = f.keep or nil end
end

local MACS = { "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00", "02-aa-bb-cc-dd-ee",
  "not a mac", "02:00:00:00:00:0" }
local V4 = { "10.0.0.1", "255.255.255.255", "0.0.0.0", "192.168.1.254", "1.2.3", "10.0.0.256" }
local V6 = { "fe80::1", "::", "2001:db8::ffff:1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
  "::ffff:10.0.0.1", "fe80::1::2" }

local function check(cond, fmt, ...)
  if not cond then fail(string.format(fmt, ...)) end
end

-- A value for field `name` of a view, of the type its current value has.
local function value(cur, b, c, d)
  local t = type(cur)
  if t == "boolean" then return d & 1 == 1 end
  if t == "string" then
    local list = cur:find(":", 1, true) and #cur == 17 and MACS
      or cur:find(":", 1, true) and V6 or V4
    if b & 0x40 ~= 0 and list == V4 then return (c << 24 | d << 16 | b << 8 | c) end
    return list[d % #list + 1]
  end
  if b == 0xff then return -1 - d end            -- out of range: raises
  if b == 0xfe then return c * 0x1000000 + d * 0x10000 end
  if b == 0xfd then return "x" end               -- not an integer: raises
  return (c << 8 | d)
end

local function readall(v, kind)
  local _ = tostring(v)
  -- an unknown field raises, read or set, naming it
  local okr, er = pcall(function() return v.no_such_field end)
  check(not okr and tostring(er):find("no_such_field", 1, true), "%s: reading an unknown field did not raise", kind)
  pcall(function() v.no_such_field = 1 end)
  for _, f in ipairs(FIELDS[kind]) do _ = v[f] end
  if kind == "eth" then
    for i = 0, (v.tags or 0) + 1 do v:tag(i) end
  end
end

local function describe(p, where)
  local ok, s = pcall(tostring, p)
  check(ok and type(s) == "string", "%s: tostring raised: %s", where, tostring(s))
  local ok2, d = pcall(p.dump, p)
  check(ok2 and type(d) == "string", "%s: dump raised: %s", where, tostring(d))
end

-- Fresh views of every kind: taking one returns a view or nil, reason,
-- and reading a fresh view's fields never raises.
local function views(p, off)
  for _, kind in ipairs(KINDS) do
    local v, why = p[kind](p, off)
    if v then
      local k = kind == "ip" and (v.family == 4 and "ipv4" or "ipv6") or kind
      local ok, err = pcall(readall, v, k)
      check(ok, "reading a fresh %s view raised: %s", k, tostring(err))
    else
      check(type(why) == "string" and #why > 0, "p:%s() gave nil without a reason", kind)
    end
  end
end

local function exact(p, off)
  local q = p:copy()
  return q:fix_checksums(off) == true and q == p
end

return function(data)
  local flags, l3, ops, body = 0, nil, {}, data
  if #data >= 2 then
    flags = data:byte(1)
    local n = flags >> 3
    if #data >= 2 + 4 * n then
      if flags & 4 ~= 0 then l3 = data:byte(2) end
      for i = 0, n - 1 do ops[#ops + 1] = { data:byte(3 + 4 * i, 6 + 4 * i) } end
      body = data:sub(3 + 4 * n)
    else
      flags = 0
    end
  end
  local p = new(body)
  local lt = flags & 3
  local set = lt == 1 or lt == 2
  if set then p:linktype(lt == 1 and "raw" or "eth") end

  -- the packet as it came
  describe(p, "input")
  views(p, nil)
  if l3 then views(p, l3) end
  for _, off in ipairs { false, l3 or false } do
    off = off or nil
    local q = p:copy()
    if q:fix_checksums(off) == true then
      local ok, why = q:checksums_ok(off)
      check(ok == true, "fix_checksums(%s) then checksums_ok: %s", tostring(off), tostring(why))
    end
    if set then
      q = p:copy()
      if q:swap(off) then
        check(q:swap(off) == true and q == p, "swap twice is not the identity")
      end
    end
    q = p:copy()
    local was = q:checksums_ok(off)
    if q:echo_reply(off) and was == true then
      local ok, why = q:checksums_ok(off)
      check(ok == true, "echo_reply broke the checksums: %s", tostring(why))
    end
  end

  -- the operations
  local cur, curkind, fresh, curoff
  for _, op in ipairs(ops) do
    local a, b, c, d = op[1], op[2], op[3], op[4]
    local code = a % 12
    if code == 0 then
      local kind = KINDS[b % #KINDS + 1]
      curoff = (l3 and b & 0x80 ~= 0) and l3 or nil
      cur = p[kind](p, curoff)
      curkind = cur and (kind == "ip" and (cur.family == 4 and "ipv4" or "ipv6") or kind)
      fresh = cur ~= nil
      if fresh then
        local ok, err = pcall(readall, cur, curkind)
        check(ok, "reading a fresh %s view raised: %s", curkind, tostring(err))
      end
    elseif code == 1 and cur then
      local list = FIELDS[curkind]
      local name = list[c % #list + 1]
      local okr, old = pcall(function() return cur[name] end)
      local guessed = select(2, p:linktype())
      local safe = fresh and not curoff and not guessed and SAFE[curkind][name] and old ~= nil
      local before = safe and p:checksums_ok() == true
      local wasexact = before and exact(p)
      local ok = pcall(function() cur[name] = value(okr and old, b, c, d) end)
      if not (safe and okr) then fresh = false end
      if ok and before then
        local after, why = p:checksums_ok()
        check(after == true, "setting %s.%s broke the checksums: %s", curkind, name, tostring(why))
        if wasexact then
          check(exact(p), "setting %s.%s: incremental checksums differ from a full "
            .. "recomputation", curkind, name)
        end
      end
    elseif code == 2 and cur then
      local ok, err = pcall(readall, cur, curkind)
      check(ok or not fresh, "reading a fresh %s view raised: %s", curkind, tostring(err))
    elseif code == 3 then
      local off = b & 1 == 1 and l3 or nil
      if p:fix_checksums(off) == true then
        local ok, why = p:checksums_ok(off)
        check(ok == true, "fix_checksums then checksums_ok: %s", tostring(why))
      end
      fresh = false
    elseif code == 4 then
      p:checksums_ok(b & 1 == 1 and l3 or nil)
    elseif code == 5 then
      p:swap(b & 1 == 1 and l3 or nil)
      fresh = false
    elseif code == 6 then
      p:echo_reply(b & 1 == 1 and l3 or nil)
      fresh = false
    elseif code == 7 then
      pcall(p.arp_reply, p, MACS[d % #MACS + 1], b & 1 == 1 and l3 or nil)
      fresh = false
    elseif code == 8 then
      describe(p, "after operations")
    elseif code == 9 then
      pcall(p.resize, p, (b << 8 | c) % (#p + 64))
      fresh = false
      if cur then pcall(readall, cur, curkind) end -- stale: may raise, never overflow
    elseif code == 10 then
      pcall(p.put, p, (b << 8 | c) % (#p + 8), string.char(d, b, c))
      fresh = false
    elseif code == 11 then
      if b % 4 == 3 then
        -- an offload packet's partial checksum, where the packet has
        -- virtio-net header fields (p.needs_csum); else this raises
        pcall(function() p.needs_csum = not p.needs_csum end)
      else
        p:linktype(({ "raw", "eth", "auto" })[b % 4 + 1])
      end
      fresh = false
    end
  end
  describe(p, "at the end")
end
