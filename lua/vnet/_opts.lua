--- vnet._opts: checking of option tables and names, shared by every module.
-- Misuse raises (wrong types, unknown keys, bad names), naming the
-- operation and the offending key, at the caller's level.
local M = {}

local function typeof(v)
  if math.type(v) == "integer" then return "integer" end
  return type(v)
end

local function accepts(want, v)
  local t = typeof(v)
  if type(want) == "table" then
    for _, w in ipairs(want) do
      if w == t or (w == "number" and type(v) == "number") then return true end
    end
    return false
  end
  return want == t or (want == "number" and type(v) == "number")
end

local function wanted(want)
  return type(want) == "table" and table.concat(want, " or ") or want
end

--- Check an option table against spec {key = "type" | {"type", ...}}.
-- @param op the operation, for messages ("tun.open")
-- @param t the options (nil means none)
-- @param spec allowed keys and their types
-- @param level error level of the user's call (default 3)
-- @return t, or an empty table when t is nil
function M.check(op, t, spec, level)
  level = level or 3
  if t == nil then return {} end
  if type(t) ~= "table" then
    error(string.format("%s: options must be a table (got %s)", op, type(t)), level)
  end
  for k, v in pairs(t) do
    local want = spec[k]
    if want == nil then
      local known = {}
      for name in pairs(spec) do known[#known + 1] = name end
      table.sort(known)
      error(string.format("%s: unknown option '%s' (known: %s)", op,
        tostring(k), table.concat(known, ", ")), level)
    end
    if not accepts(want, v) then
      error(string.format("%s: option '%s' must be %s (got %s)", op, k,
        wanted(want), typeof(v)), level)
    end
  end
  return t
end

--- Check an interface name as the kernel does (dev_valid_name): 1 to 15
-- bytes, not "." or "..", no '/', ':' or white space.
function M.ifname(op, name, level)
  level = level or 3
  if type(name) ~= "string" then
    error(string.format("%s: name must be a string (got %s)", op, type(name)), level)
  end
  if #name == 0 or #name > 15 then
    error(string.format("%s: name '%s' is %d bytes; interface names are 1 to 15 bytes",
      op, name, #name), level)
  end
  if name == "." or name == ".." or name:find("[/:%s]") then
    error(string.format("%s: name '%s' is not a valid interface name " ..
      "(no '/', ':' or white space, not '.' or '..')", op, name), level)
  end
  return name
end

return M
