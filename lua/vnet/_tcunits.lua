--- vnet._tcunits: tc's units (times, percentages, rates, sizes) and the
-- options each qdisc kind takes: one table that tc.lua, its read-back and
-- vnet.topo's checker all read. Misuse raises at the caller's line.
local raise = require("vnet._caller").raise
local U32MAX = 0xffffffff
local M = {}

-- ---- units ---------------------------------------------------------------

local TIME = { s = 1e6, sec = 1e6, ms = 1e3, msec = 1e3, us = 1, usec = 1 }
local RATE = { bit = 1, kbit = 1e3, mbit = 1e6, gbit = 1e9, tbit = 1e12,
  bps = 8, kbps = 8e3, mbps = 8e6, gbps = 8e9 }
local SIZE = { b = 1, k = 1024, kb = 1024, m = 1048576, mb = 1048576, g = 1073741824,
  gb = 1073741824, kbit = 128, mbit = 131072, gbit = 134217728 }

local function number_and_unit(op, key, v, units, default_scale, what)
  local n, scale
  if type(v) == "number" then
    n, scale = v, default_scale
  elseif type(v) == "string" then
    local num, unit = v:match("^%s*([%d%.]+)%s*(%a*)%s*$")
    n = tonumber(num)
    scale = unit and (unit == "" and default_scale or units[unit:lower()])
    if not n or not scale then
      raise("%s: option '%s': '%s' is not %s", op, key, v, what)
    end
  else
    raise("%s: option '%s' must be a number or a string (got %s)", op, key, type(v))
  end
  if n ~= n or n < 0 or n == math.huge then
    raise("%s: option '%s': %s is not %s", op, key, tostring(v), what)
  end
  return n * scale
end

local function ranged(op, key, v, max)
  v = math.floor(v + 0.5)
  if v > max then raise("%s: option '%s' is out of range (at most %d)", op, key, max) end
  return v
end

-- Each unit: to the kernel's integer (to) and back to the user's (from).
local UNIT = {
  time = { -- microseconds; user: ms
    to = function(op, k, v)
      return ranged(op, k, number_and_unit(op, k, v, TIME, 1e3, "a time (50, \"50ms\", \"1s\")"), 0x7fffffff)
    end,
    from = function(v) return v / 1e3 end },
  percent = { -- 32-bit fraction; user: percent
    to = function(op, k, v)
      if type(v) == "string" then
        local n = tonumber(v:match("^%s*([%d%.]+)%s*%%?%s*$"))
        if not n then raise("%s: option '%s': '%s' is not a percentage (1, \"1%%\")", op, k, v) end
        v = n
      elseif type(v) ~= "number" then
        raise("%s: option '%s' must be a number or a string (got %s)", op, k, type(v))
      end
      if v ~= v or v < 0 or v > 100 then
        raise("%s: option '%s': %s is not a percentage from 0 to 100", op, k, tostring(v))
      end
      return math.floor(v / 100 * U32MAX + 0.5)
    end,
    from = function(v) return math.floor(v / U32MAX * 1e6 + 0.5) / 1e4 end },
  rate = { -- bytes per second; user: bits per second
    to = function(op, k, v)
      local bits = number_and_unit(op, k, v, RATE, 1, "a rate (1000000, \"10mbit\", \"1gbit\")")
      return ranged(op, k, bits / 8, math.maxinteger)
    end,
    from = function(v) return v * 8 end },
  size = { -- bytes
    to = function(op, k, v)
      return ranged(op, k, number_and_unit(op, k, v, SIZE, 1, "a size (1500, \"32kb\", \"1mb\")"), 0x7fffffff)
    end,
    from = function(v) return v end },
  count = {
    to = function(op, k, v)
      if math.type(v) ~= "integer" or v < 0 or v > 0x7fffffff then
        raise("%s: option '%s' must be an integer from 0 to %d (got %s)", op, k, 0x7fffffff, tostring(v))
      end
      return v
    end,
    from = function(v) return v end },
}

-- ---- what each kind takes: option = { core key, unit } -------------------

local KINDS = {
  netem = {
    delay = { "delay", "time" }, jitter = { "jitter", "time" },
    delay_correlation = { "delay_corr", "percent" },
    loss = { "loss", "percent" }, loss_correlation = { "loss_corr", "percent" },
    duplicate = { "duplicate", "percent" }, duplicate_correlation = { "duplicate_corr", "percent" },
    reorder = { "reorder", "percent" }, reorder_correlation = { "reorder_corr", "percent" },
    gap = { "gap", "count" },
    corrupt = { "corrupt", "percent" }, corrupt_correlation = { "corrupt_corr", "percent" },
    rate = { "rate", "rate" }, limit = { "limit", "count" },
  },
  tbf = {
    rate = { "rate", "rate" }, burst = { "burst", "size" }, limit = { "limit", "size" },
    latency = { "latency", "time" }, peakrate = { "peakrate", "rate" }, mtu = { "mtu", "size" },
  },
  htb = { default = { "default", "count" } },
  htb_class = {
    rate = { "rate", "rate" }, ceil = { "ceil", "rate" }, burst = { "burst", "size" },
    cburst = { "cburst", "size" }, prio = { "prio", "count" },
  },
}
M.UNIT, M.KINDS = UNIT, KINDS
return M
