--- vnet._json: the JSON encoder vnet.json (vnet.show) uses. Plain Lua,
-- no dependency: keys in a given order (as `ip -j` prints them), arrays
-- that stay arrays when empty, explicit nulls, keys starting with "_" left
-- out (vnet's internal fields).
--
--    J.encode({ b = 1, a = { 1, 2 } })           --> {"a":[1,2],"b":1}
--    J.encode(setmetatable({}, J.array))         --> []
--    J.encode(setmetatable(t, J.object { "z", "a" }))  -- "z" first, then "a"
local J = {}

--- J.null: encodes as null (a key whose value is null, as `"router": null`)
J.null = setmetatable({}, { __name = "vnet.json.null", __tostring = function() return "null" end })

--- J.array: the metatable of a table that is an array even when empty; with
-- an integer field n (table.pack) it has n elements, nils among them
J.array = { __name = "vnet.json.array" }

--- J.object(keys) -> a metatable: tables with it list these keys first, in
-- this order (the others follow, sorted)
function J.object(keys)
  local rank = {}
  for i, k in ipairs(keys) do rank[k] = i end
  return { __name = "vnet.json.object", rank = rank }
end

local function key_sorter(v)
  local mt = getmetatable(v)
  local rank = type(mt) == "table" and rawget(mt, "__name") == "vnet.json.object" and mt.rank or {}
  return function(a, b)
    local x, y = rank[a] or math.huge, rank[b] or math.huge
    if x ~= y then return x < y end
    return a < b
  end
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }
local function escape(c) return ESC[c] or string.format("\\u%04x", c:byte()) end

local function encode(v, out, seen, convert)
  local t = type(v)
  if v == nil or v == J.null then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    out[#out + 1] = (v ~= v or v == math.huge or v == -math.huge) and "null"
      or math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\\127]', escape) .. '"'
  elseif t == "table" and convert and convert(v) then
    encode(convert(v), out, seen, convert)
  elseif t == "table" then
    if seen[v] then error("vnet.json: a table that contains itself", 0) end
    seen[v] = true
    local packed = getmetatable(v) == J.array and math.type(rawget(v, "n")) == "integer"
    local n = packed and v.n or #v
    local keys = {}
    for k in pairs(v) do
      if not (math.type(k) == "integer" and k >= 1 and k <= n) and not (packed and k == "n") then
        if type(k) == "string" then
          if k:sub(1, 1) ~= "_" then keys[#keys + 1] = k end
        else
          keys[#keys + 1] = tostring(k)
        end
      end
    end
    if #keys == 0 and (n > 0 or getmetatable(v) == J.array) then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out, seen, convert)
      end
      out[#out + 1] = "]"
    else
      table.sort(keys, key_sorter(v))
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        encode(k, out, seen, convert)
        out[#out + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        encode(val, out, seen, convert)
      end
      out[#out + 1] = "}"
    end
    seen[v] = nil
  else -- a function, a userdata: what tostring says of it
    encode(tostring(v), out, seen, convert)
  end
end

--- J.encode(v [, convert]) -> JSON text. convert(table) may return another
-- value to encode in its place (vnet.show: a link object -> its ip -j shape).
-- Raises for a table that contains itself.
function J.encode(v, convert)
  local out = {}
  encode(v, out, {}, convert)
  return table.concat(out)
end

return J
