--- vnet._help: help() at the REPL and vnet.help in scripts: the entry of
-- vnet's API reference (vnet._api, read from lua/meta/vnet/*.lua) for a
-- function, object, module or name.
--
--    local H = require "vnet._help"
--    H.help(vnet.tun.open)          -- prints signature, paragraph, example
--    print(H.text("vnet.Link:set")) -- the same as a string
local A = require "vnet._api"
local M = {}
local concat, sort, format = table.concat, table.sort, string.format
M.api, M.signature = A.api, A.signature

-- ---- from a value to its entry ----------------------------------------

local getmetatable, rawget = debug.getmetatable, rawget

-- The public function names of a method table.
local function method_names(t)
  local out = {}
  for k, v in next, t do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and type(v) == "function" then out[#out + 1] = k end
  end
  return out
end

--- The method table of an object (its metatable's `methods` or table __index).
function M.methods_of(v)
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil end
  local t = rawget(mt, "methods")
  if type(t) ~= "table" then t = rawget(mt, "__index") end
  return type(t) == "table" and t or nil
end

--- The class entry whose methods best cover method table t, or nil.
function M.class_of(t)
  local api, names = M.api(), method_names(t)
  local best, hits_best = nil, 0
  for _, c in ipairs(api.classes) do
    local hits = 0
    for _, k in ipairs(names) do if api.index[c.name .. ":" .. k] then hits = hits + 1 end end
    if hits > hits_best or (hits == hits_best and best and hits > 0 and #c.methods < #best.methods) then
      best, hits_best = c, hits
    end
  end
  if best and hits_best * 2 >= #names then return best end
  return nil
end

-- The live value an entry names, walking from vnet ("vnet.tun.open").
function M.value(name)
  local v = require "vnet"
  if name == "vnet" then return v end
  for part in name:gsub("^vnet%.", ""):gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    v = rawget(v, part)
  end
  return v
end

-- Every method table the loaded vnet modules can reach.
function M.live_method_tables()
  local out, seen = {}, {}
  local function take(t) if type(t) == "table" and not seen[t] then seen[t] = true; out[#out + 1] = t end end
  for k, mt in next, debug.getregistry() do
    if type(k) == "string" and k:find("^vnet%.") and type(mt) == "table" then
      take(rawget(mt, "methods") or (type(rawget(mt, "__index")) == "table" and rawget(mt, "__index") or nil))
    end
  end
  local vnet = require "vnet"
  for _, m in ipairs(vnet.modules) do
    for k, t in next, vnet[m] do
      if type(k) == "string" and k:find("methods$") then take(t) end
    end
  end
  return out
end

local byvalue
local function entry_of_value(v, again)
  if not byvalue then
    byvalue = {}
    local api = M.api()
    for _, e in ipairs(api.list) do
      if e.kind == "function" or e.kind == "module" or (e.kind == "field" and api.index[e.owner].kind == "module") then
        local x = M.value(e.name)
        if (type(x) == "function" or type(x) == "table") and byvalue[x] == nil then byvalue[x] = e end
      end
    end
    -- the REPL's global help is vnet.help
    local repl = package.loaded["vnet._repl"]
    if type(repl) == "table" and repl.help then byvalue[repl.help] = api.index["vnet.help"] end
    for _, t in ipairs(M.live_method_tables()) do
      local c = M.class_of(t)
      for _, k in ipairs(c and method_names(t) or {}) do
        local e = api.index[c.name .. ":" .. k]
        if e and byvalue[t[k]] == nil then byvalue[t[k]] = e end
      end
    end
  end
  local e = byvalue[v]
  if e then return e end
  -- a function of a class first met since the map was made (a pcapng writer's)
  if type(v) == "function" and not again then byvalue = nil; return entry_of_value(v, true) end
  if type(v) == "table" or type(v) == "userdata" then
    local t = M.methods_of(v)
    local c = t and M.class_of(t)
    -- a link of a kind with methods of its own: that kind's class
    if c and c.name == "vnet.Link" then
      local ok, kind = pcall(function() return v.kind end)
      local k = ok and type(kind) == "string" and M.api().index["vnet." .. kind .. ".Link"]
      if k then return k end
    end
    if c then return c end
    -- a header view (p:ipv4()): its kind is its metatable's name
    local mt = getmetatable(v)
    local kind = type(mt) == "table" and tostring(rawget(mt, "__name")):match("^vnet%.(%w+)$")
    if kind and type(require("vnet.proto").fields[kind]) == "table" then
      return M.api().index["vnet.View"], kind
    end
  end
end

-- ---- nearest names, for "no entry" --------------------------------

local function distance(a, b)
  if #a > #b then a, b = b, a end
  local prev = {}
  for j = 0, #a do prev[j] = j end
  for i = 1, #b do
    local cur = { [0] = i }
    for j = 1, #a do
      local cost = a:byte(j) == b:byte(i) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#a]
end

--- The (at most 3) entry names nearest to q: those at the least edit
-- distance, of the whole name or (farther) of its last part.
function M.nearest(q)
  local best, out = math.huge, {}
  local tail = q:match("[%w_]+$") or q
  for _, e in ipairs(M.api().list) do
    local d = math.min(distance(q, e.name), distance("vnet." .. q, e.name))
    local score = d <= math.max(2, #q // 4) and d or nil
    if not score then
      local dt = distance(tail, e.name:match("[%w_]+$") or e.name)
      score = dt <= #tail // 3 and dt + 2 or nil
    end
    if score and score < best then best, out = score, { e.name }
    elseif score and score == best then out[#out + 1] = e.name end
  end
  sort(out)
  return { table.unpack(out, 1, math.min(3, #out)) }
end

--- The entry a name means: "vnet.tun.open", "tun.open", "Link:set", "vnet.Link.set".
function M.lookup(name)
  local idx = M.api().index
  for _, n in ipairs { name, "vnet." .. name } do
    if idx[n] then return idx[n] end
    local c, m = n:match("^(.*)%.([%w_]+)$")
    if c and idx[c] and idx[c].kind == "class" and idx[c .. ":" .. m] then return idx[c .. ":" .. m] end
  end
end

-- ---- the text --------------------------------------------------------

local function indent(s, pad) return pad .. s:gsub("\n", "\n" .. pad) end

-- text filled into lines of at most width columns, each starting with pad
local function wrap(text, pad, width)
  local lines, line = {}, pad
  for word in text:gmatch("%S+") do
    if #line > #pad and #line + 1 + #word > width then lines[#lines + 1] = line; line = pad end
    line = line .. (#line > #pad and " " or "") .. word
  end
  lines[#lines + 1] = line
  return concat(lines, "\n")
end

-- The options tables (---@class X.Options) a function's parameters take.
local function options_text(out, e)
  local idx = M.api().index
  for _, p in ipairs(e.params or {}) do
    for ty in p.type:gsub("%?$", ""):gmatch("[^|]+") do
      local c = idx[ty]
      if c and c.kind == "class" and c.fields[1] and c.fields[1].tagged then
        out[#out + 1] = ""
        out[#out + 1] = format("  %s: %s%s", p.name, c.name,
          c.parent and format(" (and those of %s)", c.parent) or "")
        for _, f in ipairs(c.fields) do
          out[#out + 1] = format("    %-18s %s%s", f.name:match("[^.]+$"), f.type or "",
            f.doc ~= "" and "  " .. f.doc or "")
        end
      end
    end
  end
end

local function entry_text(e)
  local out = { M.signature(e) }
  for _, o in ipairs(e.overloads or {}) do out[#out + 1] = "  also: " .. o end
  if e.doc ~= "" then out[#out + 1] = ""; out[#out + 1] = indent(e.doc, "  ") end
  options_text(out, e)
  if e.example then
    out[#out + 1] = ""; out[#out + 1] = "  Example:"; out[#out + 1] = indent(e.example, "    ")
  end
  return concat(out, "\n")
end

local function list_text(out, title, entries, short)
  if #entries == 0 then return end
  out[#out + 1] = ""; out[#out + 1] = title
  for _, m in ipairs(entries) do
    local sig = M.signature(m)
    if short then sig = sig:gsub("^" .. short:gsub("%p", "%%%0"), "") end
    out[#out + 1] = "  " .. sig .. (m.summary ~= "" and "\n" .. wrap(m.summary, "      ", 78) or "")
  end
end

local function owner_text(e)
  local api = M.api()
  local out = { e.name .. (e.kind == "class" and " (object)" or " (module)") }
  if e.doc ~= "" then out[#out + 1] = ""; out[#out + 1] = indent(e.doc, "  ") end
  if e.example then out[#out + 1] = ""; out[#out + 1] = "  Example:"; out[#out + 1] = indent(e.example, "    ") end
  list_text(out, "Fields:", e.fields)
  list_text(out, e.kind == "class" and "Methods:" or "Functions:", e.methods, e.kind == "class" and e.name)
  if e.parent then
    out[#out + 1] = ""
    out[#out + 1] = format("And those of %s: help(\"%s\").", e.parent, e.parent)
  end
  if e.kind == "module" then
    local cls = {}
    for _, c in ipairs(api.classes) do
      if c.module == e.name and not (#c.methods == 0 and c.name:find("%.Options$")) then cls[#cls + 1] = c end
    end
    list_text(out, "Objects (help(\"<name>\") for their methods):", cls)
  end
  return concat(out, "\n")
end

local INTRO = [[
help(x): the API reference, from vnet's annotation files (docs/api.md is the same).
  help(vnet.tun.open)     a function: signature, what it does, an example
  help("vnet.tun.open")   the same, by name ("tun.open", "vnet.Link:set" too)
  help(vnet.tun)          a module: what it is, and its functions
  help(dev)               an object: its class and methods
Modules:]]

--- text([x]) -> string: what help(x) prints.
function M.text(...)
  local api = M.api()
  if select("#", ...) == 0 then
    local names = {}
    for _, m in ipairs(api.modules) do names[#names + 1] = m.name end
    local lines, line = { INTRO }, " "
    for _, n in ipairs(names) do
      if #line + #n > 76 then lines[#lines + 1] = line; line = " " end
      line = line .. " " .. n
    end
    lines[#lines + 1] = line
    return concat(lines, "\n")
  end
  local x = ...
  local e, view
  if type(x) == "string" then e = M.lookup(x) else e, view = entry_of_value(x) end
  if not e then
    local what = type(x) == "string" and x or (type(x) == "function" and "this function") or
      format("a %s", (getmetatable(x) and rawget(getmetatable(x), "__name")) or type(x))
    local near = type(x) == "string" and M.nearest(x) or {}
    return format("help: no entry for '%s'%s", what,
      #near > 0 and ("; nearest: " .. concat(near, ", ")) or "")
  end
  if view then
    return owner_text(e) .. "\n\nFields of this " .. view .. " view (vnet.proto.fields." .. view .. "):\n" ..
      wrap(concat(require("vnet.proto").fields[view], " "), "  ", 78)
  end
  if e.kind == "module" or e.kind == "class" then return owner_text(e) end
  return entry_text(e)
end

--- help([x]): print the reference for x (a function, object, module or a
-- name); help() says how to use it.
function M.help(...)
  print(M.text(...))
end

return M

