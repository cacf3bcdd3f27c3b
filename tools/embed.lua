-- embed.lua: write a C file holding the Lua modules given on the command
-- line, for core/host/preload.c.  lua5.4 tools/embed.lua out.c lua/vnet/*.lua
-- An annotation file (lua/meta/vnet/tun.lua) becomes module meta.vnet.tun
-- whose chunk returns the file's text: vnet._api reads it for help().
local out = assert(io.open(arg[1], "w"))
local mods = {}
for i = 2, #arg do
  local path = arg[i]
  local f = assert(io.open(path, "rb"))
  local src = f:read("a")
  f:close()
  assert(load(src, "@" .. path)) -- a syntax error fails the build here
  if path:find("^lua/meta/") then src = "return " .. string.format("%q", src) end
  local name = path:match("^lua/(.-)%.lua$"):gsub("/", "."):gsub("%.init$", "")
  local bytes = {}
  for k = 1, #src do bytes[#bytes + 1] = string.byte(src, k) end
  local id = "m" .. (i - 1)
  out:write("static const char ", id, "[] = {")
  for k = 1, #bytes, 24 do
    out:write("\n  ", table.concat(bytes, ",", k, math.min(k + 23, #bytes)), ",")
  end
  out:write("0};\n")
  mods[#mods + 1] = { name = name, path = path, id = id, len = #src }
end
table.sort(mods, function(a, b) return a.name < b.name end)
out:write([[
#include <stddef.h>
struct embedded { const char *name, *chunk, *src; size_t len; };
const struct embedded vnet_embedded[] = {
]])
for _, m in ipairs(mods) do
  out:write(string.format('  {"%s", "@%s", %s, %d},\n', m.name, m.path, m.id, m.len))
end
out:write("  {NULL, NULL, NULL, 0}\n};\n")
out:close()
