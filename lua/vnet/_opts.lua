--- vnet._opts: checking of option tables and names, shared by every module.
-- Misuse raises (wrong types, unknown keys, bad names), naming the
-- operation and the offending key, at the user's line (nl.raise).
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
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
-- @return t, or an empty table when t is nil
function M.check(op, t, spec)
  if t == nil then return {} end
  if type(t) ~= "table" then
    raise(string.format("%s: options must be a table (got %s)", op, type(t)))
  end
  for k, v in pairs(t) do
    local want = spec[k]
    if want == nil then
      local known = {}
      for name in pairs(spec) do known[#known + 1] = name end
      table.sort(known)
      raise(string.format("%s: unknown option '%s' (known: %s)", op,
        tostring(k), table.concat(known, ", ")))
    end
    local iv = math.type(v) == "float" and math.tointeger(v)
    if iv and not accepts(want, v) and accepts(want, iv) then
      t[k], v = iv, iv -- 2^10 is the integer 1024 to the kernel too
    end
    if not accepts(want, v) then
      raise(string.format("%s: option '%s' must be %s (got %s)", op, k,
        wanted(want), math.type(v) == "float" and tostring(v) or typeof(v)))
    end
  end
  return t
end

--- Check an interface name as the kernel does (dev_valid_name): 1 to 15
-- bytes, not "." or "..", no '/', ':', white space or NUL. A '%' is
-- refused too, unless pattern is true (tun.open reads back the name the
-- kernel made of "tun%d"): over rtnetlink the kernel would make "x0" while
-- vnet looks for "x%d", and leave the device behind.
function M.ifname(op, name, pattern)
  if type(name) ~= "string" then
    raise(string.format("%s: name must be a string (got %s)", op, type(name)))
  end
  if name:find("%z") then
    raise(string.format("%s: name '%s' contains a NUL byte", op, (name:gsub("%z", "\\0"))))
  end
  if #name == 0 or #name > 15 then
    raise(string.format("%s: name '%s' is %d bytes; interface names are 1 to 15 bytes",
      op, name, #name))
  end
  if name == "." or name == ".." or name:find("[/:%s]") then
    raise(string.format("%s: name '%s' is not a valid interface name " ..
      "(no '/', ':' or white space, not '.' or '..')", op, name))
  end
  if not pattern and name:find("%", 1, true) then
    raise(string.format("%s: name '%s' has a '%%': the kernel would choose the " ..
      "name; give the name itself", op, name))
  end
  return name
end

return M
