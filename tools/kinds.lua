-- tools/kinds.lua: the link kinds as the kernel lane needs them, read from
-- the kind files themselves (each says `lane = {modules =, probe =}` in
-- its description), one line each:
--    kind <TAB> module module ... (or "-") <TAB> ip-link-add arguments (or "-")
-- A kind that needs hardware prints "-" for its probe. Run with build/vnet.
--    build/vnet tools/kinds.lua            every kind
--    build/vnet tools/kinds.lua modules    only the module names, one line
--    build/vnet tools/kinds.lua build      modules to build from the kernel's
--                                          source when the kernel lacks them:
--                                          module <TAB> source dir <TAB> CONFIG_X
local want = arg and arg[1]
local seen, mods = {}, {}
for _, name in ipairs(vnet.modules) do
  local m = vnet[name]
  local d = type(m) == "table" and (m.descriptor or (m.lane and m)) or nil
  if d and d.lane then
    for _, k in ipairs(d.lane.modules or {}) do
      if not seen[k] then seen[k] = true; mods[#mods + 1] = k end
    end
    if want == "build" and d.lane.build then
      -- file: a module of one source file in a big directory (built alone)
      print(string.format("%s\t%s\t%s\t%s", d.lane.modules[1], d.lane.build.dir, d.lane.build.config,
        d.lane.build.file or "-"))
    elseif want == nil then
      local m = table.concat(d.lane.modules or {}, " ")
      print(string.format("%s\t%s\t%s", d.kind, m ~= "" and m or "-", d.lane.probe or "-"))
    end
  end
end
if want == "modules" then print(table.concat(mods, " ")) end
