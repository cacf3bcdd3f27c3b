--- util.lua: what the benchmark scripts share.
local U = {}

--- Run a shell command; its output (stdout and stderr) and exit status.
function U.sh(cmd)
  local f = assert(io.popen("(" .. cmd .. ") 2>&1"))
  local out = f:read("a")
  local _, _, code = f:close()
  return out, code
end

--- As sh, raising when the command fails.
function U.must(cmd)
  local out, code = U.sh(cmd)
  if code ~= 0 then error(cmd .. " failed (" .. tostring(code) .. "): " .. out, 2) end
  return out
end

function U.sleep(s) os.execute("sleep " .. s) end

--- Wall-clock seconds, to the microsecond.
function U.now()
  local f = assert(io.open("/proc/uptime"))
  local t = f:read("n")
  f:close()
  return t
end

function U.median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  if #s == 0 then return nil end
  if #s % 2 == 1 then return s[(#s + 1) // 2] end
  return (s[#s // 2] + s[#s // 2 + 1]) / 2
end

--- (max - min) / median, in percent: how noisy the repeats were.
function U.spread(t)
  local m = U.median(t)
  if not m or m == 0 then return 0 end
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(t) do lo = math.min(lo, v); hi = math.max(hi, v) end
  return (hi - lo) / m * 100
end

return U
