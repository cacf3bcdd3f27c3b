-- A kind (and any module) is one file: vnet.modules (lua/vnet/init.lua),
-- the files in lua/vnet/, the rockspec and what the kernel lane loads must
-- agree, and every link kind says what its kernel needs (`lane`). Adding a
-- kind is one file plus its name in vnet.modules; this spec fails when the
-- rockspec, the list, the docs' lists or a spec for it was forgotten, or
-- the file does not end in the one constructor (`return kinds.define{...}`).
local H = require "spec.helper"

local function files()
  local t = {}
  for name in H.sh("ls lua/vnet"):gmatch("([%w_]+)%.lua") do t[name] = true end
  return t
end

-- internal modules other modules load (not in vnet.modules)
local internal = { init = true, dev = true, build = true }
-- what only the vnet host loads (its REPL), never stock lua5.4
local host_only = { _repl = true }

describe("the module list", function()
  it("names every public module in lua/vnet/, and each is a file", function()
    local listed = {}
    for _, name in ipairs(vnet.modules) do
      listed[name] = true
      assert.is_true(files()[name] ~= nil, "vnet.modules names '" .. name .. "' but there is no lua/vnet/" .. name .. ".lua")
      assert.is_table(vnet[name])
    end
    for name in pairs(files()) do
      if not name:find("^_") and not internal[name] then
        assert.is_true(listed[name] ~= nil, "lua/vnet/" .. name .. ".lua is not in vnet.modules (lua/vnet/init.lua)")
      end
    end
  end)

  it("is what the rockspec installs", function()
    local rock = assert(io.open("rocks/vnet-scm-1.rockspec")):read("a")
    for name in pairs(files()) do
      if host_only[name] then goto next end
      local mod = name == "init" and "vnet.init" or "vnet." .. name
      assert.is_truthy(rock:find('["' .. mod .. '"] = "lua/vnet/' .. name .. '.lua"', 1, true),
        "the rockspec does not install lua/vnet/" .. name .. ".lua as " .. mod)
      ::next::
    end
  end)

  it("gives every link kind its kernel modules and a probe for the full-kernel lane", function()
    local kinds = 0
    for _, name in ipairs(vnet.modules) do
      local m = vnet[name]
      local d = m.descriptor or (m.lane and m)
      if d then
        kinds = kinds + 1
        assert.is_table(d.lane, name .. " has no lane = {modules =, probe =}")
        if not d.lane.hardware then
          assert.is_table(d.lane.modules, name .. ": lane.modules")
          for _, k in ipairs(d.lane.modules) do assert.matches("^[%w_]+$", k) end
        end
      end
    end
    assert.is_true(kinds >= 33, "only " .. kinds .. " kinds")
    -- and the lane reads them from there (tools/kinds.lua)
    local out, code = H.sh((os.getenv("VNET_BIN") or "build/vnet") .. " tools/kinds.lua modules")
    assert.are.equal(0, code)
    for _, k in ipairs { "veth", "8021q", "ip6_gre", "hsr", "vcan", "vxcan", "macsec", "netdevsim" } do
      assert.matches("%f[%w_]" .. k .. "%f[^%w_]", out)
    end
  end)

  it("has every kind file end in the one constructor, named in the docs and exercised by a spec", function()
    local specs = H.sh("cat spec/*_spec.lua")
    local readme = assert(io.open("README.md")):read("a"):match("\nKinds: (.-)\n\n")
    local links = assert(io.open("docs/links.md")):read("a")
    assert.is_string(readme, "README.md has no 'Kinds: ...' paragraph")
    local n = 0
    for _, name in ipairs(vnet.modules) do
      local m = vnet[name]
      if type(m) == "table" and m.descriptor then
        n = n + 1
        local src = assert(io.open("lua/vnet/" .. name .. ".lua")):read("a")
        local last = src:match(".*\nreturn ([^\n]*)") or ""
        assert.is_truthy(last:find("^kinds%.define") or last:find('^require%("vnet%._kinds"%)%.define') or
          last:find('^require%("vnet%._hardware"%)%.define'),
          "lua/vnet/" .. name .. ".lua ends in 'return " .. last .. "', not in kinds.define{...}")
        assert.is_truthy(readme:find("`" .. name .. "`", 1, true), "README.md's 'Kinds:' does not name " .. name)
        assert.is_truthy(links:find("`vnet." .. name .. "`", 1, true), "docs/links.md's table has no `vnet." .. name .. "`")
        assert.is_truthy(specs:find('kind = "' .. name .. '"', 1, true) or specs:find("vnet." .. name .. ".", 1, true) or
          specs:find('"' .. name .. '"', 1, true) or specs:find("\n%s*" .. name .. " = "), "no spec makes a " .. name)
      end
    end
    assert.is_true(n >= 33, "only " .. n .. " kinds")
  end)
end)
