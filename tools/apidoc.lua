-- tools/apidoc.lua: the API reference, generated from its one source.
--    build/vnet tools/apidoc.lua           write lua/meta/vnet/<kind>.lua for
--                                          every link kind, and docs/api.md
--    build/vnet tools/apidoc.lua --check   write nothing; list what is not
--                                          current, exit 1 if anything is
-- and, from the same files (tools/kindfiles.lua), lua/vnet/_kindlist.lua and
-- the generated regions of the rockspec, README.md and docs/links.md.
-- `make docs` runs the first. Stock lua5.4 runs it too, given the paths:
--    LUA_PATH='lua/?.lua;lua/?/init.lua;;' LUA_CPATH='build/lib/?.so;;' lua5.4 tools/apidoc.lua The hand-written annotation files
-- (lua/meta/vnet/*.lua, LuaLS `---@meta`) describe the modules and objects;
-- a link kind is described once, as data, in its own file (lua/vnet/veth.lua:
-- `kinds.define{...}` and its header comment), so its annotation file is
-- made from that: the header's paragraph and first code block, its create()
-- with the options of the description (type, range, enum, changeable), and
-- the doc comment above each other thing the kind module exports.
local vnet = rawget(_G, "vnet") or require "vnet" -- the host's global, or stock lua5.4
local A = require "vnet._api"
local K = require "vnet._kinds"

local check = arg and arg[1] == "--check"
local concat, format = table.concat, string.format
local META, DOC = "lua/meta/vnet/", "docs/api.md"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function lines_of(s)
  local t = {}
  for l in (s .. "\n"):gmatch("(.-)\r?\n") do t[#t + 1] = l end
  return t
end

-- ---- a kind's annotation file -------------------------------------------

-- The header comment of a kind file: paragraph lines and the first code
-- block (lines indented by 4 after "-- ") when it is Lua.
local function header(src)
  local text, code, state = {}, {}, "text"
  for _, l in ipairs(lines_of(src)) do
    local c = l:match("^%-%-%-?(.*)$")
    if not c then break end
    if state == "text" and #code == 0 and c:match("^     *%S") then state = "code" end
    if state == "code" and (c:match("^    ") or c:match("^%s*$") and false) then
      code[#code + 1] = c:sub(5)
    else
      if state == "code" then state = "done" end
      text[#text + 1] = (c:gsub("^ ", "", 1))
    end
  end
  local ex = concat(code, "\n")
  if #code == 0 or not load(ex) then
    for _, l in ipairs(code) do text[#text + 1] = "   " .. l end
    ex = nil
  end
  local out = {}
  for _, l in ipairs(text) do
    if not (l:match("^%s*$") and (#out == 0 or out[#out]:match("^%s*$"))) then out[#out + 1] = l end
  end
  while out[#out] and out[#out]:match("^%s*$") do out[#out] = nil end
  return out, ex
end

-- The doc comment just above where `key` is defined in src.
local function doc_above(src, key, tbl)
  local ls = lines_of(src)
  local pats = { "^%s*function%s+" .. tbl .. "%." .. key .. "%f[^%w_]",
    "^%s*" .. tbl .. "%." .. key .. "%s*=", "^%s*" .. key .. "%s*=", "^%s*local%s+" .. key .. "%s*=",
    "^%s*local%s+function%s+" .. key .. "%f[^%w_]", "^%s*M%.[%w_, M.]*%f[%w_]" .. key .. "%f[^%w_][^=]*=" }
  for i, l in ipairs(ls) do
    for _, p in ipairs(pats) do
      if l:match(p) then
        local j, out = i - 1, {}
        while j >= 1 and ls[j]:match("^%s*%-%-") do table.insert(out, 1, (ls[j]:gsub("^%s*%-%-%-? ?", ""))); j = j - 1 end
        if #out > 0 and ls[j + 1]:match("^%s*%-%-%-") then return out end
      end
    end
  end
end

local function params_of(f)
  local ps = {}
  if type(f) ~= "function" then return ps end
  local info = debug.getinfo(f, "u")
  for i = 1, info.nparams do ps[#ps + 1] = debug.getlocal(f, i) end
  if info.isvararg then ps[#ps + 1] = "..." end
  return ps
end

local function luatype(o)
  local t = K.luatype(o)
  if type(t) == "table" then t = concat(t, "|") end
  return t
end

local RANGES = { u8 = 0xff, u16 = 0xffff, u32 = 0xffffffff, be16 = 0xffff, be32 = 0xffffffff }

local function option_doc(o)
  local parts = {}
  if o.doc then parts[#parts + 1] = o.doc end
  if o.enum then
    local names = {}
    for n in pairs(o.enum) do names[#names + 1] = format("%q", n) end
    table.sort(names)
    parts[#parts + 1] = "one of " .. concat(names, ", ")
  elseif RANGES[o.fmt] or o.min or o.max then
    parts[#parts + 1] = format("%d to %d", o.min or 0, o.max or RANGES[o.fmt] or 0)
  elseif o.fmt == "ip" or o.fmt == "ip4" or o.fmt == "ip6" then
    parts[#parts + 1] = ({ ip = "an IPv4 or IPv6 address", ip4 = "an IPv4 address", ip6 = "an IPv6 address" })[o.fmt]
  elseif o.fmt == "mac" then parts[#parts + 1] = "a MAC address"
  elseif o.fmt == "link" then parts[#parts + 1] = "a link (name, ifindex or object)" end
  if o.change then parts[#parts + 1] = "changeable with l:set{}" end
  return concat(parts, "; ")
end

local function sorted_keys(t)
  local k = {}
  for n in pairs(t or {}) do if type(n) == "string" then k[#k + 1] = n end end
  table.sort(k)
  return k
end

local function comment(out, text)
  for _, l in ipairs(type(text) == "table" and text or lines_of(text)) do out[#out + 1] = "---" .. l end
end

local function example(out, code)
  if not code then return end
  out[#out + 1] = "---"; out[#out + 1] = "---Example:"; out[#out + 1] = "---```lua"
  comment(out, code)
  out[#out + 1] = "---```"
end

local function kind_meta(name, m)
  local d = m.descriptor
  local src = assert(read("lua/vnet/" .. name .. ".lua"), "no lua/vnet/" .. name .. ".lua")
  local text, ex = header(src)
  local v = name:gsub("%W", "_")
  local out = { "---@meta vnet." .. name, "-- generated by tools/apidoc.lua from lua/vnet/" .. name ..
    ".lua (its header comment and kinds.define{...}): edit that, then `make docs`", "" }
  comment(out, text); example(out, ex)
  out[#out + 1] = "---@class vnet." .. name; out[#out + 1] = "local " .. v .. " = {}"; out[#out + 1] = ""

  out[#out + 1] = "---The options of " .. name .. ".create: link.create's and these."
  out[#out + 1] = "---@class vnet." .. name .. ".Options: vnet.link.Options"
  for _, k in ipairs(sorted_keys(d.options)) do
    local o = d.options[k]
    if not o.readonly then
      local doc = option_doc(o)
      out[#out + 1] = format("---@field %s? %s%s", k, luatype(o), doc ~= "" and " " .. doc or "")
    end
  end
  out[#out + 1] = ""

  local pair = m._create ~= nil
  local cdoc = doc_above(src, "create", "M")
  comment(out, cdoc or { "Create a " .. name .. " link (link.create with kind = \"" .. name .. "\");",
    "read back, the options are fields of the link object." })
  example(out, ex)
  if pair then
    out[#out + 1] = "---@param name string|vnet." .. name .. ".Options one end's name, or every option"
    out[#out + 1] = "---@param peer? string the other end's name"
    out[#out + 1] = "---@param opts? vnet." .. name .. ".Options"
    out[#out + 1] = "---@return vnet.Link? a"
    out[#out + 1] = "---@return vnet.Link|string b"
    out[#out + 1] = "---@return integer? errno"
    out[#out + 1] = "function " .. v .. ".create(name, peer, opts) end"
  else
    out[#out + 1] = "---@param opts vnet." .. name .. ".Options"
    out[#out + 1] = "---@return vnet.Link? link"
    out[#out + 1] = "---@return string? err"
    out[#out + 1] = "---@return integer? errno"
    out[#out + 1] = "function " .. v .. ".create(opts) end"
  end
  if m.create_many then out[#out + 1] = ""
  out[#out + 1] = "---Create many " .. name .. (pair and " pairs" or " links") .. " in one batch (a few sends, the"
  out[#out + 1] = "---kernel's echo instead of a read-back each), all or none: when request k"
  out[#out + 1] = "---fails, what the batch made is deleted, and the fourth result is k."
  out[#out + 1] = "---@param list vnet." .. name .. ".Options[]"
  if pair then
    out[#out + 1] = "---@return vnet.Link[]? as the first ends"
    out[#out + 1] = "---@return vnet.Link[]|string bs the other ends, or the error"
  else
    out[#out + 1] = "---@return vnet.Link[]? links"
    out[#out + 1] = "---@return string? err"
  end
  out[#out + 1] = "---@return integer? errno"
  out[#out + 1] = "---@return integer? k the request that failed"
  out[#out + 1] = "function " .. v .. ".create_many(list) end" end
  out[#out + 1] = ""
  out[#out + 1] = "---The kind's name, \"" .. d.kind .. "\"."
  out[#out + 1] = "---@type string"
  out[#out + 1] = v .. ".kind = nil"
  out[#out + 1] = ""
  out[#out + 1] = "---The kind's description (vnet._kinds): options, encoders, decoders."
  out[#out + 1] = "---@type table"
  out[#out + 1] = v .. ".descriptor = nil"

  local missing = {}
  for _, k in ipairs(sorted_keys(m)) do
    if k ~= "create" and k ~= "create_many" and k ~= "kind" and k ~= "descriptor" and k:sub(1, 1) ~= "_" then
      local doc = doc_above(src, k, "M")
      if not doc then missing[#missing + 1] = "vnet." .. name .. "." .. k end
      out[#out + 1] = ""
      comment(out, doc or { "(no doc comment above its definition in lua/vnet/" .. name .. ".lua)" })
      if type(m[k]) == "function" then
        out[#out + 1] = format("function %s.%s(%s) end", v, k, concat(params_of(m[k]), ", "))
      else
        out[#out + 1] = "---@type " .. (math.type(m[k]) or type(m[k]))
        out[#out + 1] = v .. "." .. k .. " = nil"
      end
    end
  end
  local methods = sorted_keys(d.methods)
  if #methods > 0 then
    local cls = "vnet." .. name .. ".Link"
    out[#out + 1] = ""
    out[#out + 1] = "---A " .. name .. " link object: a vnet.Link with these methods too."
    out[#out + 1] = "---@class " .. cls .. ": vnet.Link"
    out[#out + 1] = "local " .. v .. "_link = {}"
    for _, k in ipairs(methods) do
      -- where the method is defined: its own file, or the kind it comes from
      local at = debug.getinfo(d.methods[k], "S").source:match("^@(.*)$")
      local other = at and at ~= "lua/vnet/" .. name .. ".lua" and read(at)
      local doc = doc_above(src, k, "methods") or doc_above(src, k, "M")
        or (other and (doc_above(other, k, "methods") or doc_above(other, k, "M")))
      if not doc then missing[#missing + 1] = cls .. ":" .. k end
      out[#out + 1] = ""
      comment(out, doc or { "(no doc comment above its definition in lua/vnet/" .. name .. ".lua)" })
      local ps = params_of(d.methods[k])
      table.remove(ps, 1) -- self
      out[#out + 1] = format("function %s_link:%s(%s) end", v, k, concat(ps, ", "))
    end
  end
  out[#out + 1] = ""
  out[#out + 1] = "return " .. v
  return concat(out, "\n") .. "\n", missing
end

-- ---- docs/api.md ------------------------------------------------------

local api_index = {} -- the entries by name, for links (set before markdown())
local function anchor(name) return (name:lower():gsub("[^%w_%- ]", ""):gsub(" ", "-")) end

local function heading(e)
  if e.kind ~= "class" then return e.name end
  return e.name .. (e.name:find("%.Options$") and " (options)" or " (object)")
end

-- A paragraph for markdown: runs of indented lines (option tables) fenced.
local function md_text(doc)
  local out, code = {}, false
  for _, l in ipairs(lines_of(doc)) do
    local ind = l:match("^  ") ~= nil
    if ind ~= code then out[#out + 1] = "```"; code = ind end
    out[#out + 1] = l
  end
  if code then out[#out + 1] = "```" end
  return concat(out, "\n")
end

local function md_entry(out, e, level)
  out[#out + 1] = level .. " " .. heading(e)
  out[#out + 1] = ""
  if e.kind == "function" or e.kind == "method" or (e.kind == "field" and e.type) then
    out[#out + 1] = "```"
    out[#out + 1] = A.signature(e)
    for _, o in ipairs(e.overloads or {}) do out[#out + 1] = "also: " .. o end
    out[#out + 1] = "```"
    out[#out + 1] = ""
  end
  if e.doc ~= "" then out[#out + 1] = md_text(e.doc); out[#out + 1] = "" end
  local ps = {}
  for _, p in ipairs(e.params or {}) do
    if p.desc ~= "" or p.type ~= "any" then
      local ty = p.type:gsub("[%w_.]+", function(t)
        local c = api_index[t]
        return c and c.kind == "class" and format("[%s](#%s)", t, anchor(heading(c))) or t
      end)
      ps[#ps + 1] = format("- `%s%s` (%s)%s", p.name, p.optional and "?" or "", ty,
        p.desc ~= "" and ": " .. p.desc or "")
    end
  end
  if #ps > 0 then out[#out + 1] = concat(ps, "\n"); out[#out + 1] = "" end
  if e.example then
    out[#out + 1] = "```lua fragment"; out[#out + 1] = e.example; out[#out + 1] = "```"; out[#out + 1] = ""
  end
  for _, f in ipairs(e.kind ~= "function" and e.fields or {}) do
    if f.tagged then
      out[#out + 1] = format("- `%s`%s%s", f.name:match("[^.]+$"), f.type and " (" .. f.type .. ")" or "",
        f.doc ~= "" and ": " .. f.doc:gsub("\n", " ") or "")
    end
  end
  if e.kind ~= "function" and e.fields and e.fields[1] and e.fields[1].tagged then out[#out + 1] = "" end
end

local function markdown(api)
  local out = { "# vnet API reference", "",
    "Generated by `tools/apidoc.lua` (`make docs`) from the annotation files in",
    "`lua/meta/vnet/` (LuaLS `---@meta`: point your editor's Lua language server",
    "at `lua/meta` for completion and type checks) and, for the link kinds, from",
    "each kind's own file. Do not edit: a spec fails when it is not current.",
    "At the REPL, `help(x)` shows the same entries.", "",
    "Failures of the system return `nil, err, errno`; misuse raises at the caller's line.", "",
    "## Contents", "" }
  local groups = {}
  for _, m in ipairs(api.modules) do
    local cls = {}
    for _, c in ipairs(api.classes) do if c.module == m.name then cls[#cls + 1] = c end end
    groups[#groups + 1] = { m = m, classes = cls }
    local sub = {}
    for _, c in ipairs(cls) do sub[#sub + 1] = format("[%s](#%s)", c.name, anchor(heading(c))) end
    out[#out + 1] = format("- [%s](#%s)%s", m.name, anchor(m.name), #sub > 0 and ": " .. concat(sub, ", ") or "")
  end
  out[#out + 1] = ""
  for _, g in ipairs(groups) do
    md_entry(out, g.m, "##")
    for _, f in ipairs(g.m.methods) do md_entry(out, f, "####") end
    for _, f in ipairs(g.m.fields) do if f.doc ~= "" and f.type then md_entry(out, f, "####") end end
    for _, c in ipairs(g.classes) do
      md_entry(out, c, "###")
      for _, f in ipairs(c.methods) do md_entry(out, f, "####") end
    end
  end
  return (concat(out, "\n"):gsub("\n\n+$", "\n"))
end

-- ---- main ---------------------------------------------------------------

local stale, missing_all, generated = {}, {}, {}
local function put(path, text)
  if read(path) == text then return end
  if check then stale[#stale + 1] = path; return end
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  print("wrote " .. path)
end

-- A kind whose annotation file is hand-written (it has classes of its own,
-- e.g. netdevsim's device) keeps it: only files without the first line
-- below, or that carry the "generated by" line, are written from the kind.
local function hand_written(path)
  local t = read(path)
  return t ~= nil and not t:find("\n%-%- generated by tools/apidoc%.lua")
end

-- the kinds as the files say (a new kind file is not in vnet.modules until
-- lua/vnet/_kindlist.lua, written below, names it)
local KF = dofile("tools/kindfiles.lua")
local kinds, descr = KF.kinds(), {}
for _, name in ipairs(kinds) do
  local m = require("vnet." .. name)
  descr[name] = m
  if not hand_written(META .. name .. ".lua") then
    local text, missing = kind_meta(name, m)
    generated[name] = text
    for _, x in ipairs(missing) do missing_all[#missing_all + 1] = x end
    put(META .. name .. ".lua", text)
  end
end

-- the kind list, the rockspec's rows, README's "Kinds:", docs/links.md's
-- table and vnet's ---@field lines (lua/meta/vnet/init.lua)
local derived = KF.outputs(vnet.modules, kinds, descr, generated)

local api = A.api(function(name)
  if generated[name] then return generated[name], META .. name .. ".lua" end
  if derived[META .. name .. ".lua"] then return derived[META .. name .. ".lua"], META .. name .. ".lua" end
  return read(META .. name .. ".lua"), META .. name .. ".lua"
end)
for _, n in ipairs(api.missing) do missing_all[#missing_all + 1] = "no annotation file " .. META .. n .. ".lua" end
api_index = api.index
put(DOC, markdown(api) .. "\n")
local paths = {}
for path in pairs(derived) do paths[#paths + 1] = path end
table.sort(paths)
for _, path in ipairs(paths) do put(path, derived[path]) end

if #missing_all > 0 then
  io.stderr:write("apidoc: without a description:\n  " .. concat(missing_all, "\n  ") .. "\n")
end
if #stale > 0 then
  io.stderr:write("apidoc: not current (run `make docs`): " .. concat(stale, " ") .. "\n")
end
if #stale > 0 or #missing_all > 0 then os.exit(1) end
