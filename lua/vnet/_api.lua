--- vnet._api: the API reference read from its one source, the LuaLS
-- annotation files (lua/meta/vnet/*.lua, `---@meta`), for help()
-- (vnet._help) and tools/apidoc.lua (docs/api.md).
--
--    local api = require("vnet._api").api() -- api.index["vnet.tun.open"]
--    print(require("vnet._api").signature(api.index["vnet.tun.open"]))
--
-- The annotation files are found embedded in the vnet host (package.preload
-- "meta.vnet.<module>", which returns the file's text), else next to this
-- file: <dir>/meta/<module>.lua when installed (make install), or
-- <dir>/../meta/vnet/<module>.lua in the source tree. They are read once,
-- on the first call.
local M = {}

local concat, sort, format = table.concat, table.sort, string.format

-- ---- parsing one annotation file ---------------------------------------

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- A LuaLS type at the start of s (`table<string, integer>`, `{a?: number}`,
-- `fun(x: T): U`...: spaces inside brackets belong to it), and the rest.
local function split_type(s)
  local depth, i = 0, 1
  while i <= #s do
    local c = s:sub(i, i)
    if c == "<" or c == "(" or c == "{" or c == "[" then depth = depth + 1
    elseif c == ">" or c == ")" or c == "}" or c == "]" then depth = depth - 1
    elseif c:match("%s") and depth <= 0 then
      -- `fun(...): T` and `A | B` go on past a space
      if not (s:sub(i - 1, i - 1) == ":" or s:sub(i - 1, i - 1) == "|" or s:sub(i + 1, i + 1) == "|") then break end
    end
    i = i + 1
  end
  return s:sub(1, i - 1), (s:sub(i):gsub("^%s+", ""))
end

-- A `---` block: its text (paragraph, example) and its tags.
local function read_block(lines)
  local b = { text = {}, params = {}, returns = {}, fields = {}, overloads = {} }
  local i, n = 1, #lines
  while i <= n do
    local l = lines[i]
    local tag, rest = l:match("^%s*@(%w+)%s*(.-)%s*$")
    if l:match("^%s*Example:%s*$") and (lines[i + 1] or ""):match("^%s*```") then
      local code = {}
      i = i + 2
      while i <= n and not lines[i]:match("^%s*```") do
        code[#code + 1] = lines[i]; i = i + 1
      end
      b.example = concat(code, "\n")
      b.fragment = lines[i - #code - 1]:find("fragment", 1, true) ~= nil
    elseif tag == "param" then
      local pname, opt, after = rest:match("^([%w_.]+)(%??)%s*(.*)$")
      local ptype, pdesc = split_type(after or "")
      if ptype == "" then ptype = nil end
      b.params[#b.params + 1] = { name = pname, optional = opt == "?" or (ptype or ""):sub(-1) == "?",
        type = ptype or "any", desc = pdesc or "" }
    elseif tag == "return" then
      local ty, after = split_type(rest)
      local name, desc = after:match("^([%w_]*)%s*(.*)$")
      b.returns[#b.returns + 1] = { type = ty, name = name ~= "" and name or nil, desc = desc }
    elseif tag == "field" then
      local name, after = rest:match("^([%w_]+%??)%s+(.*)$")
      local ty, desc = split_type(after or "")
      if name then b.fields[#b.fields + 1] = { name = name:gsub("%?$", ""), type = ty, desc = desc } end
    elseif tag == "class" then
      b.class, b.parent = rest:match("^([%w_.]+)%s*:?%s*([%w_.]*)")
    elseif tag == "meta" then
      b.meta = rest ~= "" and rest or true
    elseif tag == "overload" then
      b.overloads[#b.overloads + 1] = rest
    elseif tag == "type" then
      b.type = split_type(rest)
    elseif not tag then
      b.text[#b.text + 1] = l:gsub("^ ", "", 1)
    end -- other tags (@see, @nodiscard, @alias...) are for the editor
    i = i + 1
  end
  while b.text[#b.text] and b.text[#b.text]:match("^%s*$") do b.text[#b.text] = nil end
  b.doc = trim(concat(b.text, "\n"))
  return b
end

-- The first sentence of a paragraph (for one-line lists).
local function summary(doc)
  local s = (doc or ""):gsub("\n", " ")
  local from = 1
  while true do -- a period and a space, not in "..." nor "e.g."
    local i = s:find("[^.%s]%.%s", from)
    if not i then return s end
    if not s:sub(i - 2, i):find("e%.g$") then return s:sub(1, i + 1) end
    from = i + 2
  end
end

local function add(api, e)
  e.summary = summary(e.doc)
  if api.index[e.name] then error("apidoc: " .. e.name .. " is described twice (" .. e.file .. ")", 0) end
  api.index[e.name] = e
  api.list[#api.list + 1] = e
end

--- parse(text, file, api): add the entries of one annotation file to api
-- ({list = {}, index = {}, classes = {}, modules = {}}).
function M.parse(text, file, api)
  local locals, block, lineno = {}, {}, 0
  local module
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    lineno = lineno + 1
    local c = line:match("^%-%-%-(.*)$")
    if c then
      block[#block + 1] = c
    else
      local b = #block > 0 and read_block(block) or nil
      block = {}
      local where = file .. ":" .. lineno
      if b and b.meta then
        module = type(b.meta) == "string" and b.meta or nil
      end
      if b and b.class then
        local var = line:match("^local%s+([%w_]+)%s*=")
        if var then locals[var] = b.class end
        local e = { name = b.class, kind = b.class == module and "module" or "class",
          module = module, doc = b.doc, example = b.example, file = where, fields = {}, methods = {},
          parent = b.parent ~= "" and b.parent or nil }
        add(api, e)
        if e.kind == "class" then api.classes[#api.classes + 1] = e else api.modules[#api.modules + 1] = e end
        e.submodules = {}
        for _, f in ipairs(b.fields) do
          -- `---@field tun vnet.tun` in vnet's class: the way to a module
          -- (for the editor), not an entry of its own
          if f.type == b.class .. "." .. f.name then
            e.submodules[#e.submodules + 1] = f.name
            goto next
          end
          local fe = { name = b.class .. "." .. f.name, kind = "field", type = f.type, doc = f.desc, tagged = true,
            owner = b.class, module = module, file = where }
          add(api, fe)
          e.fields[#e.fields + 1] = fe
          ::next::
        end
      elseif b and not b.meta then
        local var, sep, fname, args = line:match("^function%s+([%w_]+)([.:])([%w_]+)%s*%((.-)%)")
        local fvar, field = line:match("^([%w_]+)%.([%w_]+)%s*=")
        local owner = locals[var or fvar]
        if not owner then error(format("apidoc: %s: a description of nothing known: %s", where, line), 0) end
        local e = { owner = owner, module = module, doc = b.doc, example = b.example, file = where,
          fragment = b.fragment,
          params = b.params, returns = b.returns, overloads = b.overloads }
        if var then
          e.name, e.kind = owner .. sep .. fname, sep == ":" and "method" or "function"
          e.args = {}
          for a in args:gmatch("[%w_.]+") do e.args[#e.args + 1] = a end
        else
          e.name, e.kind, e.type = owner .. "." .. field, "field", b.type
        end
        add(api, e)
        local o = api.index[owner]
        if o and e.kind ~= "field" then o.methods[#o.methods + 1] = e
        elseif o then o.fields[#o.fields + 1] = e end
      end
    end
  end
  return api
end

-- ---- signatures ------------------------------------------------------

local function is_err(r, name, ty)
  return r and (r.name == name or r.type == ty)
end

--- The signature of a function entry: `vnet.tun.open(opts?) -> dev | nil, err, errno`.
function M.signature(e)
  if e.kind == "field" then return e.name .. (e.type and (": " .. e.type) or "") end
  if e.kind ~= "function" and e.kind ~= "method" then return e.name end
  local ps = {}
  for i, p in ipairs(e.params or {}) do
    if not (e.kind == "method" and i == 1 and p.name == "self") then
      ps[#ps + 1] = p.name .. (p.optional and "?" or "")
    end
  end
  if #ps == 0 then ps = { table.unpack(e.args or {}) } end
  local s = e.name .. "(" .. concat(ps, ", ") .. ")"
  local r = e.returns or {}
  if #r == 0 then return s end
  local n = #r
  local names = {}
  -- nil, err, errno on failure: the last two are (string? err, integer? errno),
  -- or (T|string, integer? errno) when the second result is err on failure
  local errs = n >= 3 and is_err(r[n], "errno", "integer?") and
    (is_err(r[n - 1], "err", "string?") or r[n - 1].type:find("|string$"))
  if errs and not is_err(r[n - 1], "err", "string?") then
    names[1] = r[n - 1].name
  end
  local last = errs and n - 2 or n
  for i = last, 1, -1 do table.insert(names, 1, r[i].name or r[i].type) end
  local ok = concat(names, ", ")
  if errs then ok = (ok ~= "" and ok .. " | " or "") .. "nil, err, errno" end
  return s .. " -> " .. ok
end

-- ---- the whole API, found and read once -----------------------------

local api_cache

local function here()
  local src = debug.getinfo(1, "S").source
  return src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/[^/]*$") or "."
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- The text of one annotation file (module "init" is vnet itself), and where it came from.
function M.source(name)
  local pre = package.preload["meta.vnet." .. name]
  if pre then return pre("meta.vnet." .. name), "lua/meta/vnet/" .. name .. ".lua" end
  local dir = here()
  for _, p in ipairs { dir .. "/meta/" .. name .. ".lua", dir .. "/../meta/vnet/" .. name .. ".lua" } do
    local s = read_file(p)
    if s then return s, p end
  end
  return nil
end

--- The names of the annotation files: init (vnet) and every module of vnet.modules.
function M.files()
  local t = { "init" }
  for _, m in ipairs(require("vnet").modules) do t[#t + 1] = m end
  return t
end

--- api([source]) -> {list, index, classes, modules, missing}: every entry,
-- read once. source(name) -> text, path reads one file (default M.source;
-- tools/apidoc.lua passes its own, and nothing is cached then).
function M.api(source)
  if api_cache and not source then return api_cache end
  local api = { list = {}, index = {}, classes = {}, modules = {}, missing = {} }
  for _, name in ipairs(M.files()) do
    local text, path = (source or M.source)(name)
    if text then M.parse(text, path, api) else api.missing[#api.missing + 1] = name end
  end
  if not source then api_cache = api end
  return api
end

return M
