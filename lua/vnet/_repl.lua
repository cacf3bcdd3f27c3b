--- vnet._repl: the Lua half of the interactive vnet (core/host/repl.c holds the
-- readline glue). Two pure functions, testable on their own:
--
--    local repl = require "vnet._repl"
--    repl.complete("string.for")     --> {"string.format"}, "("
--    repl.pretty({b = 1, a = {true}}) --> '{ a = { true }, b = 1 }'
--
-- Completion only looks: it reads raw fields, the metatable's __index when
-- that is a table, and metatable.methods (where vnet objects keep their
-- methods). It never calls an __index, __pairs or __tostring function, so
-- pressing Tab cannot run code with side effects.
local M = {}

local G = _ENV -- the globals the REPL evaluates in
local getmetatable = debug.getmetatable -- sees past __metatable
local rawget, next, type, tostring, pcall = rawget, next, type, tostring, pcall
local sort, concat = table.sort, table.concat
local format, rep = string.format, string.rep
local math_type = math.type

local KEYWORDS = {
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
  "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
  "true", "until", "while",
}
local is_keyword = {}
for _, k in ipairs(KEYWORDS) do is_keyword[k] = true end

-- a string usable after a dot: `t.name`
local function is_name(k)
  return type(k) == "string" and not is_keyword[k] and k:find("^[%a_][%w_]*$") ~= nil
end

local MAX_HOPS = 8 -- __index chains followed; stops loops of metatables

-- The metatable's __index (if a table) and methods tables of v.
local function meta_tables(v)
  local mt = getmetatable(v)
  if type(mt) ~= "table" then return nil, nil end
  local index, methods = rawget(mt, "__index"), rawget(mt, "methods")
  if type(index) ~= "table" then index = nil end
  if type(methods) ~= "table" or methods == index then methods = nil end
  return index, methods
end

-- The value v.k as far as it can be known without running code.
local function lookup(v, k, hops)
  hops = hops or 0
  if hops > MAX_HOPS then return nil end
  if type(v) == "table" then
    local x = rawget(v, k)
    if x ~= nil then return x end
  end
  local index, methods = meta_tables(v)
  local x = index and lookup(index, k, hops + 1)
  if x == nil and methods then x = lookup(methods, k, hops + 1) end
  return x
end

-- Every name reachable from v the way lookup reaches it, into out[name].
local function collect(v, out, hops)
  if hops > MAX_HOPS then return end
  if type(v) == "table" then
    for k, x in next, v do -- next, not pairs: no __pairs
      if out[k] == nil and is_name(k) then out[k] = x end
    end
  end
  local index, methods = meta_tables(v)
  if index then collect(index, out, hops + 1) end
  if methods then collect(methods, out, hops + 1) end
end

local function callable(x)
  if type(x) == "function" then return true end
  local mt = getmetatable(x)
  return type(mt) == "table" and rawget(mt, "__call") ~= nil
end

local function indexable(x)
  if type(x) == "table" then return true end
  local index, methods = meta_tables(x)
  if index or methods then return true end
  local mt = getmetatable(x)
  return type(mt) == "table" and type(rawget(mt, "__index")) == "function"
end

local KEYWORD = {} -- marks a keyword candidate

--- complete(text [, env]) -> candidates, append
-- The completions of `text`, the word before the cursor: a name, or a
-- path of names joined by "." with an optional last ":" (`vnet.tun.op`,
-- `dev:re`, `string.fo`). Each candidate is the whole replacement for text
-- (`vnet.tun.open`), and the list is sorted. Names starting with "_" are
-- left out unless the word being completed starts with "_". After ":"
-- only callable fields are offered. A bare word also matches keywords.
-- When there is exactly one candidate, `append` is what should follow it:
-- "" after a table or object (to go on with "." or ":"), "(" after a
-- function, " " after anything else; with none or several it is nil.
-- env defaults to the globals; nothing in it is called or modified.
function M.complete(text, env)
  env = env or G
  if type(text) ~= "string" then return {} end
  local head, sep, word = text:match("^(.-)([.:])([%w_]*)$")
  local base = env
  if head then
    for name in (head .. "."):gmatch("(.-)%.") do
      if not is_name(name) then return {} end
      base = lookup(base, name)
      if base == nil then return {} end
    end
  elseif text:find("^[%w_]*$") then
    word = text
  else
    return {}
  end
  if word:find("^%d") then return {} end

  local found = {}
  collect(base, found, 0)
  if not head then
    for _, k in ipairs(KEYWORDS) do found[k] = KEYWORD end
  end
  local hidden = word:sub(1, 1) ~= "_"
  local names = {}
  for k, x in next, found do
    if k:sub(1, #word) == word and not (hidden and k:sub(1, 1) == "_")
        and (sep ~= ":" or callable(x)) then
      names[#names + 1] = k
    end
  end
  sort(names)

  local append
  if #names == 1 then
    local x = found[names[1]]
    if x == KEYWORD then append = " "
    elseif callable(x) then append = "("
    elseif indexable(x) then append = ""
    else append = " " end
  end
  local prefix = head and head .. sep or ""
  for i, k in ipairs(names) do names[i] = prefix .. k end
  return names, append
end

-- ---- pretty ------------------------------------------------------------

local DEFAULTS = { depth = 4, items = 40, width = 72 }

local function quote(s)
  return (format("%q", s):gsub("\\\n", "\\n"))
end

local function safe_tostring(v)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then return s end
  return format("%s: %p (__tostring failed)", type(v), v)
end

local function scalar(v)
  if type(v) == "string" then return quote(v) end
  return safe_tostring(v)
end

local RANK = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    return (RANK[ta] or 4) < (RANK[tb] or 4) or
      ((RANK[ta] or 4) == (RANK[tb] or 4) and ta < tb)
  end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return not a and b end
  return safe_tostring(a) < safe_tostring(b)
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

local render

-- t at nesting level `indent`, starting in column `col`.
local function render_table(t, o, indent, col, depth, active)
  if active[t] then return "<cycle>" end
  if next(t) == nil then return "{}" end
  if depth > o.depth then return "{...}" end
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local keys = {}
  for k in next, t do
    if not (math_type(k) == "integer" and k >= 1 and k <= n) then
      keys[#keys + 1] = k
    end
  end
  sort(keys, key_less)

  active[t] = true
  local items, total = {}, n + #keys
  local shown = total < o.items and total or o.items
  for i = 1, shown do
    local k, label = i <= n and i or keys[i - n], ""
    if i > n then
      label = (is_name(k) and k or "[" .. scalar(k) .. "]") .. " = "
    end
    local c = 2 * (indent + 1) + #label
    items[i] = label .. render(rawget(t, k), o, indent + 1, c, depth + 1, active)
  end
  active[t] = nil
  local more = total > shown and format("... (%d more)", total - shown)

  local line = "{ " .. concat(items, ", ") .. (more and ", " .. more or "") .. " }"
  if col + #line + 1 <= o.width and not line:find("\n", 1, true) then
    return line
  end
  local pad = rep("  ", indent + 1)
  local out = { "{" }
  for i, item in ipairs(items) do out[i + 1] = pad .. item .. "," end
  if more then out[#out + 1] = pad .. more end
  out[#out + 1] = rep("  ", indent) .. "}"
  return concat(out, "\n")
end

function render(v, o, indent, col, depth, active)
  if type(v) == "table" and not has_tostring(v) then
    return render_table(v, o, indent, col, depth, active)
  end
  return scalar(v)
end

--- pretty(v [, options]) -> string
-- v as the REPL shows it. Strings are quoted (%q, with "\n" for a newline);
-- tables list their sequence part, then the other keys sorted (numbers,
-- strings, booleans, then the rest), on one line when that fits in
-- `width` columns, else one item a line indented by two spaces. Tables
-- nested deeper than `depth` show as {...}, a table inside itself as
-- <cycle>, and past `items` entries the rest is "... (N more)". Objects,
-- and tables with __tostring, show as tostring gives them.
-- options: depth (4), items (40), width (72).
function M.pretty(v, options)
  local o = {}
  for k, d in next, DEFAULTS do
    local x = options and options[k]
    o[k] = type(x) == "number" and x or d
  end
  return render(v, o, 0, 0, 1, {})
end

-- Results shown, as IPython's Out: `_` is the last one, `__` and `___`
-- the ones before, Out[n] the n-th (the last OUT_KEEP of them). A device
-- (any userdata) shown is also held until the REPL ends, so nothing made
-- at the prompt vanishes by garbage collection.
local OUT_KEEP, count, held = 20, 0, {}
local function remember(...)
  if select("#", ...) == 0 then return end
  local v = (...)
  count = count + 1
  local out = rawget(G, "Out")
  if type(out) ~= "table" then out = {}; rawset(G, "Out", out) end
  out[count], out[count - OUT_KEEP] = v, nil
  rawset(G, "___", rawget(G, "__"))
  rawset(G, "__", rawget(G, "_"))
  rawset(G, "_", v)
  for i = 1, select("#", ...) do
    local x = select(i, ...)
    if type(x) == "userdata" then held[x] = true end
  end
end

--- show(...) -> string: every value pretty-printed, separated by tabs
-- (what the REPL prints for the results of an expression); the first is
-- kept in `_` and `Out`.
function M.show(...)
  remember(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = M.pretty((select(i, ...))) end
  return concat(out, "\t")
end

-- ---- the live prompt -------------------------------------------------

--- patch_output(before): call before() ahead of every write to stdout or
-- stderr made with print, io.write or file:write. The REPL passes the
-- function that takes its prompt off the screen while a callback prints
-- (it does nothing while a typed line runs).
function M.patch_output(before)
  local print, io_write = G.print, G.io.write
  local stdout, stderr = G.io.stdout, G.io.stderr
  G.print = function(...)
    before()
    return print(...)
  end
  G.io.write = function(...)
    before()
    return io_write(...)
  end
  local methods = rawget(getmetatable(stdout), "__index")
  local file_write = methods.write
  methods.write = function(f, ...)
    if f == stdout or f == stderr then before() end
    return file_write(f, ...)
  end
end

--- reload(path) -> what the file returns: run the file again at the
-- REPL. A file written for it keeps what it opens in globals (`dev = dev
-- or assert(vnet.tun.open{...})`) and sets its handlers with
-- dev:on_packet(fn), which swaps the running handler: editing a handler
-- and reloading its file swaps every handler it sets, with no packet lost.
-- Without path, the file reloaded last.
local last_path
function M.reload(path)
  path = path or last_path
  if type(path) ~= "string" then
    error("reload: expected a file name (got " .. type(path) .. ")", 2)
  end
  local chunk, err = loadfile(path)
  if not chunk then error("reload: " .. err, 2) end
  last_path = path
  return chunk()
end

--- help([x]): the REPL's global help (vnet._help): the API reference of a
-- function, object, module or name; help() says how to use it.
function M.help(...)
  return require("vnet._help").help(...)
end

return M
