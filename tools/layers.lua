-- layers.lua: check core/'s layering on the built objects' symbol tables.
--
--   lua5.4 tools/layers.lua [OBJDIR [COREDIR]]     (build/obj, core)
--
-- Every core/LAYER/NAME.c is a unit, its object OBJDIR/LAYER/NAME.o. A unit
-- uses another when it references (nm: undefined) a symbol the other
-- defines. Two rules, both from docs/design.md:
--   1. no cycle: no unit uses a unit that uses it back, however long the
--      way round (every strongly connected component has one unit);
--   2. one way: a unit uses only units of its own layer or of the layers
--      listed below for its layer.
-- Prints each violation with the symbols that make it and exits 1; prints
-- "layers: N units, M uses, no cycle" and exits 0 otherwise.

-- what each layer may use besides itself (the layers below it)
local BELOW = {
  util = {},
  packet = { "util" },
  io = { "packet", "util" },
  netlink = { "util" },
  host = { "io", "netlink", "packet", "util" },
}
-- objects that are not built from core/ but belong to a layer
local EXTRA = { host = { "embed" } }

local objdir, coredir = arg[1] or "build/obj", arg[2] or "core"

local function lines(cmd)
  local f = assert(io.popen(cmd))
  local t = {}
  for l in f:lines() do t[#t + 1] = l end
  local ok, _, code = f:close()
  if not ok then
    io.stderr:write("layers: `", cmd, "` failed (", tostring(code), ")\n")
    os.exit(2)
  end
  return t
end

local function sq(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- units: name "layer/unit" -> object path
local units, order = {}, {}
for l in pairs(BELOW) do
  local names = {}
  for _, p in ipairs(lines("ls " .. sq(coredir .. "/" .. l) .. " 2>/dev/null || true")) do
    local n = p:match("^(.+)%.c$")
    if n then names[#names + 1] = n end
  end
  for _, n in ipairs(EXTRA[l] or {}) do names[#names + 1] = n end
  for _, n in ipairs(names) do
    local u = l .. "/" .. n
    local o = (EXTRA[l] and n == EXTRA[l][1]) and (objdir .. "/" .. n .. ".o")
      or (objdir .. "/" .. u .. ".o")
    local f = io.open(o)
    if f then
      f:close()
      units[u] = o
      order[#order + 1] = u
    elseif not (EXTRA[l] and n == EXTRA[l][1]) then
      io.stderr:write("layers: ", o, " is not built (make first)\n")
      os.exit(2)
    end
  end
end
table.sort(order)
do -- a folder of core/ that is no layer is a mistake too
  for _, d in ipairs(lines("ls " .. sq(coredir))) do
    if not BELOW[d] then
      io.stderr:write("layers: core/", d, " is not a layer (tools/layers.lua BELOW)\n")
      os.exit(1)
    end
  end
end

-- who defines what
local definer = {}
for _, u in ipairs(order) do
  for _, l in ipairs(lines("nm -g --defined-only " .. sq(units[u]))) do
    local sym = l:match("^%x*%s+%a%s+(%S+)$")
    if sym then definer[sym] = u end
  end
end
-- uses: edges[u][v] = { symbols }
local edges, nedges = {}, 0
for _, u in ipairs(order) do
  edges[u] = {}
  for _, l in ipairs(lines("nm -u " .. sq(units[u]))) do
    local sym = l:match("^%s*U%s+(%S+)$")
    local v = sym and definer[sym]
    if v and v ~= u then
      if not edges[u][v] then nedges = nedges + 1; edges[u][v] = {} end
      table.insert(edges[u][v], sym)
    end
  end
end

local bad = 0
local function complain(...)
  bad = bad + 1
  io.write(...)
  io.write("\n")
end
local function syms(u, v)
  table.sort(edges[u][v])
  return table.concat(edges[u][v], " ")
end

-- rule 2: one way
for _, u in ipairs(order) do
  local lu = u:match("^[^/]+")
  local ok = { [lu] = true }
  for _, l in ipairs(BELOW[lu]) do ok[l] = true end
  for v in pairs(edges[u]) do
    local lv = v:match("^[^/]+")
    if not ok[lv] then
      complain("layer: ", u, " uses ", v, " (", lu, " may not use ", lv, "): ", syms(u, v))
    end
  end
end

-- rule 1: Tarjan's strongly connected components
local index, low, onstack, stack, n = {}, {}, {}, {}, 0
local function connect(u)
  n = n + 1
  index[u], low[u] = n, n
  stack[#stack + 1] = u
  onstack[u] = true
  local succ = {}
  for v in pairs(edges[u]) do succ[#succ + 1] = v end
  table.sort(succ)
  for _, v in ipairs(succ) do
    if not index[v] then
      connect(v)
      low[u] = math.min(low[u], low[v])
    elseif onstack[v] then
      low[u] = math.min(low[u], index[v])
    end
  end
  if low[u] == index[u] then
    local comp = {}
    repeat
      local v = table.remove(stack)
      onstack[v] = nil
      comp[#comp + 1] = v
    until v == u
    if #comp > 1 then
      table.sort(comp)
      local inside = {}
      for _, c in ipairs(comp) do inside[c] = true end
      local uses = {}
      for _, a in ipairs(comp) do
        for b in pairs(edges[a]) do
          if inside[b] then uses[#uses + 1] = "  " .. a .. " -> " .. b .. ": " .. syms(a, b) end
        end
      end
      table.sort(uses)
      complain("cycle: ", table.concat(comp, " "), "\n", table.concat(uses, "\n"))
    end
  end
end
for _, u in ipairs(order) do
  if not index[u] then connect(u) end
end

if bad > 0 then
  io.write("layers: ", bad, " violation(s)\n")
  os.exit(1)
end
io.write("layers: ", #order, " units, ", nedges, " uses, no cycle, one way\n")
