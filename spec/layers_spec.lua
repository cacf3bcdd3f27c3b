-- layers_spec.lua: core/'s layers (docs/design.md), checked on the built
-- objects by tools/layers.lua: no C unit uses one that uses it back, and
-- each layer uses only the layers below it. The checker itself is shown to
-- catch a cycle and a use upwards on small objects made here with cc, and
-- the rockspec's source list is held to the folders.
-- (Named "the rockspec ..." so the kernel lane, which has no cc or nm,
-- leaves it out with the rockspec spec; lane 1 runs it.)
local H = require "spec.helper"

-- a throwaway core/ and its objects: files = { ["util/a.c"] = "C text" }
local function fake_core(files)
  local dir = os.tmpname()
  os.remove(dir)
  for path, text in pairs(files) do
    local layer = path:match("^([^/]+)/")
    assert(H.sh("mkdir -p " .. dir .. "/core/" .. layer .. " " .. dir .. "/obj/" .. layer))
    local f = assert(io.open(dir .. "/core/" .. path, "w"))
    f:write(text)
    f:close()
    local _, rc = H.sh("cc -c -o " .. dir .. "/obj/" .. path:gsub("%.c$", ".o") .. " " ..
      dir .. "/core/" .. path)
    assert.are.equal(0, rc)
  end
  return dir
end

local function layers(objdir, coredir)
  return H.sh("lua5.4 tools/layers.lua " .. objdir .. " " .. coredir)
end
-- the objects of the host under test (build/vnet: build/obj)
local OBJ = (H.vnet:match("^(.*)/vnet$") or "build") .. "/obj"

describe("the rockspec and core's layers", function()
  it("core/ has no cycle and every layer uses only the layers below it", function()
    local out, rc = layers(OBJ, "core")
    assert.are.equal(0, rc, out)
    assert.matches("^layers: %d+ units, %d+ uses, no cycle, one way\n$", out)
  end)

  it("the checker fails on a cycle and names it with its symbols", function()
    local dir = fake_core {
      ["util/a.c"] = "int b(void); int a(void) { return b(); }\n",
      ["util/b.c"] = "int c(void); int b(void) { return c(); }\n",
      ["util/c.c"] = "int a(void); int c(void) { return a(); }\n",
      ["util/d.c"] = "int a(void); int d(void) { return a(); }\n",
    }
    local out, rc = layers(dir .. "/obj", dir .. "/core")
    H.sh("rm -rf " .. dir)
    assert.are_not.equal(0, rc)
    assert.are.equal("cycle: util/a util/b util/c\n" ..
      "  util/a -> util/b: b\n  util/b -> util/c: c\n  util/c -> util/a: a\n" ..
      "layers: 1 violation(s)\n", out)
  end)

  it("the checker fails on a use upwards (packet -> io) and between io and netlink", function()
    local dir = fake_core {
      ["io/dev.c"] = "int dev_write(void) { return 1; }\n",
      ["packet/gso.c"] = "int dev_write(void); int gso(void) { return dev_write(); }\n",
      ["netlink/nl.c"] = "int dev_write(void); int nl(void) { return dev_write(); }\n",
      ["util/util.c"] = "int util(void) { return 0; }\n",
      ["host/main.c"] = "int nl(void); int main(void) { return nl(); }\n",
    }
    local out, rc = layers(dir .. "/obj", dir .. "/core")
    H.sh("rm -rf " .. dir)
    assert.are_not.equal(0, rc)
    assert.matches("layer: packet/gso uses io/dev %(packet may not use io%): dev_write\n", out)
    assert.matches("layer: netlink/nl uses io/dev %(netlink may not use io%): dev_write\n", out)
    assert.not_matches("host/main", out)
    assert.matches("layers: 2 violation%(s%)\n$", out)
  end)

  it("lists every .c of the library layers in the rockspec, and nothing else", function()
    local f = assert(io.open("rocks/vnet-scm-1.rockspec"))
    local text = f:read("a")
    f:close()
    local listed = {}
    for path in text:gmatch('"(core/[^"]+%.c)"') do listed[#listed + 1] = path end
    table.sort(listed)
    local files = {}
    local ls = H.sh("ls core/util/*.c core/packet/*.c core/io/*.c core/netlink/*.c")
    for path in ls:gmatch("%S+") do files[#files + 1] = path end
    table.sort(files)
    assert.are.same(files, listed)
  end)
end)
