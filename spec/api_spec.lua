-- api_spec.lua: the API reference has one source, lua/meta/vnet/*.lua
-- (LuaLS annotation files; the link kinds' are generated from their own
-- files), and it covers the API exactly: every function, field and method
-- that a module or object exports has an entry, and every entry names
-- something that exists (luv's bindings coverage check is the model).
-- docs/api.md is generated from it and must be current; help() reads it.
--   busted --lua=build/vnet spec/api_spec.lua
local H = require "spec.helper"
local A = require "vnet._api"
local help = require "vnet._help"

local META = "lua/meta/vnet/"

local function read(path)
  local f <close> = io.open(path, "rb")
  return f and f:read("a")
end

-- the source as it is on disk (the host embeds a copy at build time)
local api = A.api(function(name) return read(META .. name .. ".lua"), META .. name .. ".lua" end)

local function public(k) return type(k) == "string" and k:sub(1, 1) ~= "_" end

-- Missing entries, one line each, saying where to add them.
local function report(missing, what)
  assert(#missing == 0, #missing .. " " .. what .. ":\n  " .. table.concat(missing, "\n  "))
end

-- The object classes and their live method tables, from real objects
-- (made inside the sandbox) where one is cheap to make.
local function live_classes()
  local t = {}
  local dev <close> = assert(vnet.tun.open())
  t["vnet.Device"] = help.methods_of(dev)
  local a = assert(vnet.veth.create("api0", "api1"))
  t["vnet.Link"] = help.methods_of(a)
  local ns <close> = assert(vnet.netns.create())
  t["vnet.Namespace"] = help.methods_of(ns)
  t["vnet.Packet"] = help.methods_of(vnet.packet.new(1))
  t["vnet.Nat"] = help.methods_of(vnet.proto.nat {})
  local w, task = vnet.loop.after(10, function() end), vnet.loop.spawn(function() end)
  local watch = assert(vnet.watch.links(function() end))
  t["vnet.Watcher"], t["vnet.Task"], t["vnet.Watch"] = help.methods_of(w), help.methods_of(task), help.methods_of(watch)
  w:stop(); task:cancel(); watch:stop()
  local path = os.tmpname()
  for _, suffix in ipairs { "", ".pcapng" } do
    local wr = assert(vnet.pcap.open(path .. suffix, "w", { linktype = "raw" }))
    local class = "vnet.PcapWriter" .. suffix
    t[class] = help.methods_of(wr)
    wr:close()
    local rd = assert(vnet.pcap.open(path .. suffix))
    t["vnet.PcapReader" .. suffix] = help.methods_of(rd)
    rd:close()
    os.remove(path .. suffix)
  end
  local net <close> = assert(vnet.topo.apply{ name = "apispec", nodes = { a = {} } })
  t["vnet.Topology"] = help.methods_of(net)
  t["vnet.Node"] = help.methods_of(net.a)
  for i = 1, math.huge do -- netdevsim needs its kernel module: its class, read
    local name, v = debug.getupvalue(vnet.netdevsim.create, i)
    if not name then break end
    if name == "Dev" then t["vnet.NetdevsimDevice"] = v end
  end
  for _, m in ipairs(vnet.modules) do
    local d = vnet[m].descriptor
    if d and d.methods then t["vnet." .. m .. ".Link"] = d.methods end
  end
  return t
end

-- classes without methods of their own: described, not checked against objects
local DATA_CLASS = { ["vnet.View"] = true }

describe("the API reference", function()
  it("is current: docs/api.md and the kinds' annotation files are what tools/apidoc.lua makes", function()
    local out, rc = H.sh(H.vnet .. " tools/apidoc.lua --check")
    assert.are.equal(0, rc, out .. "(run `make docs`)")
  end)

  it("is what the host embeds (build/vnet is built from these files)", function()
    for _, name in ipairs(A.files()) do
      assert(read(META .. name .. ".lua") == A.source(name),
        META .. name .. ".lua differs from the copy built into " .. H.vnet .. ": rebuild (make)")
    end
  end)

  it("is installed by the rockspec where help() looks (vnet/meta/)", function()
    local rock = assert(read("rocks/vnet-scm-1.rockspec"))
    for _, name in ipairs(A.files()) do
      assert.is_truthy(rock:find('["vnet.meta.' .. name .. '"] = "' .. META .. name .. '.lua"', 1, true),
        "the rockspec does not install " .. META .. name .. ".lua as vnet.meta." .. name)
    end
  end)

  it("has an annotation file for vnet and every module of vnet.modules", function()
    assert.are.same({}, api.missing)
    for _, name in ipairs(A.files()) do
      local m = name == "init" and "vnet" or "vnet." .. name
      assert.are.equal("module", (api.index[m] or {}).kind, "lua/meta/vnet/" .. name .. ".lua: no ---@class " .. m)
    end
  end)

  it("leads an editor from vnet to every module (---@field tun vnet.tun)", function()
    local want = {}
    for _, m in ipairs(vnet.modules) do want[#want + 1] = m end
    assert.are.same(want, api.index.vnet.submodules, "lua/meta/vnet/init.lua: one ---@field per module, in vnet.modules' order")
  end)

  it("has an entry for every function and field a module exports", function()
    local missing = {}
    local function check(modname, mod, file)
      for k, v in pairs(mod) do
        local name = modname .. "." .. tostring(k)
        if public(k) and not (modname == "vnet" and api.index[name] and api.index[name].kind == "module") then
          local e = api.index[name]
          if not e then
            missing[#missing + 1] = name .. " (" .. type(v) .. "): add it to " .. file
          elseif type(v) == "function" and e.kind ~= "function" then
            missing[#missing + 1] = name .. " is a function, described as a " .. e.kind
          end
        end
      end
    end
    check("vnet", vnet, META .. "init.lua")
    for _, m in ipairs(vnet.modules) do check("vnet." .. m, vnet[m], META .. m .. ".lua") end
    report(missing, "exported names without an entry")
  end)

  it("has an entry for every method of every object class, and no other", H.sandboxed(function()
    local live = live_classes()
    local missing = {}
    for class, methods in pairs(live) do
      local cname = class:gsub("%.pcapng$", "")
      assert.is_table(api.index[cname], "no ---@class " .. cname)
      for k, v in pairs(methods) do
        if public(k) and type(v) == "function" and not api.index[cname .. ":" .. k] then
          missing[#missing + 1] = string.format("%s:%s (of a %s): add it to %s", cname, k, class,
            api.index[cname].file:match("^(.-):%d+$"))
        end
      end
    end
    local extra = missing -- one report: what lacks an entry, and entries of nothing
    for _, c in ipairs(api.classes) do
      if not live[c.name] and #c.methods > 0 then
        extra[#extra + 1] = c.name .. ": a class with methods that no object has (add it to live_classes)"
      end
      for _, e in ipairs(c.methods) do
        local k = e.name:match(":([%w_]+)$")
        local ok = false
        for class, methods in pairs(live) do
          if class:gsub("%.pcapng$", "") == c.name then ok = ok or type(methods[k]) == "function" end
        end
        if not ok then extra[#extra + 1] = e.name .. " (" .. e.file .. "): no such method" end
      end
      if #c.methods == 0 and not live[c.name] and not DATA_CLASS[c.name] and not c.name:find("%.Options$") then
        extra[#extra + 1] = c.name .. " (" .. c.file .. "): a class of nothing"
      end
    end
    report(extra, "methods without an entry, or entries of no method")
  end))

  it("names only what exists: every function and module field entry is there", function()
    local extra = {}
    for _, e in ipairs(api.list) do
      local owner = e.owner and api.index[e.owner]
      if e.kind == "module" then
        if help.value(e.name) == nil then extra[#extra + 1] = e.name .. " (" .. e.file .. "): no such module" end
      elseif owner and owner.kind == "module" then
        local v = help.value(e.name)
        if e.kind == "function" and type(v) ~= "function" then
          extra[#extra + 1] = e.name .. " (" .. e.file .. "): no such function (" .. type(v) .. ")"
        elseif e.kind == "field" and v == nil and e.name ~= "vnet.errno" then
          extra[#extra + 1] = e.name .. " (" .. e.file .. "): no such field"
        end
      end
    end
    assert.is_table(vnet.errno)
    report(extra, "entries that name nothing")
  end)

  it("gives every function and method a paragraph, and parameters that match its arguments", function()
    local bad = {}
    for _, e in ipairs(api.list) do
      if e.kind == "function" or e.kind == "method" then
        if e.doc == "" then bad[#bad + 1] = e.name .. ": no paragraph" end
        if #e.params > 0 then
          local names = {}
          for i, p in ipairs(e.params) do names[i] = p.name end
          if table.concat(names, ", ") ~= table.concat(e.args, ", ") then
            bad[#bad + 1] = string.format("%s: @param %s, but function(%s)", e.name,
              table.concat(names, ", "), table.concat(e.args, ", "))
          end
        end
      end
    end
    report(bad, "entries")
  end)

  it("gives every hand-written function and method an example that is Lua", function()
    local bad = {}
    for _, e in ipairs(api.list) do
      local generated = read(e.file:match("^(.-):%d+$")):find("\n%-%- generated by tools/apidoc.lua")
      if (e.kind == "function" or e.kind == "method") and not generated and not e.example then
        bad[#bad + 1] = e.name .. " (" .. e.file .. "): no Example:"
      end
      if e.example then
        local ok, err = load(e.example, "=" .. e.name)
        if not ok then bad[#bad + 1] = e.name .. " (" .. e.file .. "): example does not parse: " .. err end
      end
    end
    report(bad, "entries")
  end)

  it("shows both return shapes of a failure in LuaLS's terms", function()
    local e = api.index["vnet.tun.open"]
    assert.are.same({ "vnet.Device?", "string?", "integer?" },
      { e.returns[1].type, e.returns[2].type, e.returns[3].type })
    assert.are.equal("vnet.tun.open(opts?) -> dev | nil, err, errno", A.signature(e))
    assert.are.equal("vnet.veth.create(name, peer?, opts?) -> a, b | nil, err, errno",
      A.signature(api.index["vnet.veth.create"]))
  end)
end)

-- ---- the examples are real code: they run ------------------------------

-- What this machine's kernel may lack (see spec/helper.lua H.kernel_has):
-- an example that fails for it is reported, not passed.
local LACKS = { "this kernel has no '", "Specified qdisc kind is unknown", "modprobe " }

-- What an example says it prints: `print(...) --> a  b` (whitespace is any
-- whitespace, `...` any text), as patterns for a line of its output.
local function claims(code)
  local t = {}
  for line in code:gmatch("[^\n]+") do
    local c = line:find("print", 1, true) and line:match("%-%->%s*(.-)%s*$")
    if c then
      local p = c:gsub("%s+", "\1"):gsub("%.%.%.", "\2"):gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")
      t[#t + 1] = { c, "^" .. p:gsub("\1", "%%s+"):gsub("\2", ".-") .. "$" }
    end
  end
  return t
end

describe("the examples", function()
  local lacking, ran = {}, 0

  -- Each hand-written example that is not marked `lua fragment` runs as a
  -- script of its own (a session: what it makes is undone when it ends), in
  -- the test's namespace and a fresh working directory for its files.
  it("run as written, each in a fresh namespace, and print what they say (`--> ...`)", H.sandboxed(function()
    local dir = H.sh("mktemp -d"):gsub("\n$", "")
    local bad = {}
    for _, e in ipairs(api.list) do
      local file = e.file:match("^(.-):%d+$")
      if e.example and not e.fragment and not read(file):find("\n%-%- generated by tools/apidoc.lua") then
        local script = dir .. "/example.lua"
        local f = assert(io.open(script, "w"))
        f:write(e.example, "\n")
        f:close()
        local out, rc = H.sh("cd " .. dir .. " && timeout 30 " .. H.vnet:gsub("^build/", os.getenv("PWD") .. "/build/") ..
          " example.lua </dev/null")
        local lacks
        for _, why in ipairs(LACKS) do lacks = lacks or (rc ~= 0 and out:find(why, 1, true)) end
        if lacks then lacking[#lacking + 1] = e.name
        elseif rc ~= 0 then bad[#bad + 1] = e.name .. " (" .. e.file .. "):\n    " .. out:gsub("\n", "\n    ")
        else
          ran = ran + 1
          for _, c in ipairs(claims(e.example)) do
            local seen = false
            for l in out:gmatch("[^\n]+") do seen = seen or l:match(c[2]) ~= nil end
            if not seen then
              bad[#bad + 1] = string.format("%s (%s): prints no line '%s':\n    %s", e.name, e.file, c[1],
                out:gsub("\n", "\n    "))
            end
          end
        end
      end
    end
    H.sh("rm -rf " .. dir)
    report(bad, "examples that fail")
    assert.is_true(ran > 150, "only " .. ran .. " examples ran")
  end))

  it("that need what this kernel lacks (netem...) are reported, not passed", function()
    assert.is_true(ran > 0, "the examples did not run")
    if #lacking > 0 then
      H.skip(#lacking .. " examples need what this kernel lacks: " .. table.concat(lacking, ", "))
    end
    assert.are.same({}, lacking)
  end)
end)

describe("help", function()
  it("adds no globals", function() H.adds_no_globals("vnet._api", "vnet._help") end)

  it("answers for a function value: signature, paragraph, example", function()
    local text = help.text(vnet.tun.open)
    assert.matches("^vnet%.tun%.open%(opts%?%) %-> dev | nil, err, errno\n\n  Open ", text)
    assert.matches("\n  Example:\n    local dev <close> = assert%(vnet%.tun%.open", text)
    assert.are.equal(text, help.text("vnet.tun.open"))
    assert.are.equal(text, help.text("tun.open"))
  end)

  it("answers for a module's table field by its value", function()
    assert.matches("^vnet%.errno: table<string, integer>\n\n  errno names", help.text(vnet.errno))
    assert.are.equal(help.text("vnet.errno"), help.text(vnet.errno))
  end)

  it("finds a method by its function value and by name", function()
    local text = help.text(vnet.link.methods.set)
    assert.matches("^vnet%.Link:set%(opts%) %-> ok | nil, err, errno\n", text)
    assert.are.equal(text, help.text("vnet.Link:set"))
    assert.are.equal(text, help.text("Link.set"))
    assert.matches("^vnet%.bridge%.Link:add_port%(l, o%)", help.text("vnet.bridge.Link:add_port"))
  end)

  it("summarises a module, and a generated kind module", function()
    local text = help.text(vnet.tun)
    assert.matches("^vnet%.tun %(module%)\n", text)
    assert.matches("\nFunctions:\n  vnet%.tun%.open%(opts%?%) %-> dev | nil, err, errno\n      Open ", text)
    assert.matches("\n  vnet%.Device\n", text)
    text = help.text(vnet.vxlan)
    assert.matches("^vnet%.vxlan %(module%)\n\n  vnet%.vxlan: Virtual eXtensible LAN", text)
    assert.matches("vnet%.vxlan%.create%(opts%) %-> link | nil, err, errno", text)
  end)

  it("lists an object's methods from its metatable", H.sandboxed(function()
    local dev <close> = assert(vnet.tun.open())
    local text = help.text(dev)
    assert.matches("^vnet%.Device %(object%)\n", text)
    assert.matches("\nMethods:\n", text)
    assert.matches("\n  :read%(%) %-> pkt | nil, err, errno\n", text)
    local a = assert(vnet.veth.create("h0", "h1"))
    assert.matches("^vnet%.Link %(object%)\n", help.text(a))
    local p = vnet.packet.new(1)
    assert.matches("^vnet%.Packet %(object%)\n", help.text(p))
    local br = assert(vnet.bridge.create{ name = "hbr0" })
    assert.matches("^vnet%.bridge%.Link %(object%)\n.*\n  :add_port%(l, o%)\n.*\nAnd those of vnet%.Link: help%(\"vnet%.Link\"%)%.$",
      help.text(br))
    local net <close> = assert(vnet.topo.apply{ name = "helptopo", nodes = { n1 = {} } })
    assert.matches("^vnet%.Topology %(object%)\n.*\n  :pingall%(opts%?%) %-> result\n", help.text(net))
    assert.matches("^vnet%.Node %(object%)\n", help.text(net.n1))
  end))

  it("lists a header view's fields", function()
    local p = vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} }
    local text = help.text(p:udp())
    assert.matches("^vnet%.View %(object%)\n", text)
    assert.matches("\n\nFields of this udp view %(vnet%.proto%.fields%.udp%):\n  " ..
      table.concat(vnet.proto.fields.udp, " ") .. "$", text)
  end)

  it("says how to use it, and lists the modules, without an argument", function()
    local text = help.text()
    assert.matches("^help%(x%): ", text)
    assert.matches("help%(vnet%.tun%.open%)", text)
    for _, m in ipairs { "vnet", "vnet.tun", "vnet.veth", "vnet.session" } do
      assert.matches(" " .. m:gsub("%.", "%%.") .. "%f[^%w.]", text)
    end
  end)

  it("says when there is no entry, with the nearest names", function()
    assert.are.equal("help: no entry for 'vnet.tun.opn'; nearest: vnet.tun.open", help.text("vnet.tun.opn"))
    assert.are.equal("help: no entry for 'xyzzy-nothing-like-it'", help.text("xyzzy-nothing-like-it"))
    assert.are.equal("help: no entry for 'this function'", help.text(print))
    assert.are.equal("help: no entry for 'a number'", help.text(42))
  end)

  it("prints from vnet.help in a script", function()
    local out, rc = H.sh(H.vnet .. " -e 'vnet.help(vnet.tun.open)'")
    assert.are.equal(0, rc, out)
    assert.are.equal(help.text(vnet.tun.open) .. "\n", out)
  end)
end)

describe("help at the REPL", function()
  local T = require "spec.support.term"
  local term

  after_each(function()
    if term then term:close() end
    term = nil
  end)

  it("is a global: help(vnet.tun.open) prints the signature", function()
    assert(T.run("command -v tmux"):find("tmux"), "these tests need tmux (tools/deps.sh installs it)")
    term = T.Term.start({ VNET_HISTORY = "" })
    term:wait("\nvnet>%s*$")
    term:line("help(vnet.tun.open)")
    term:wait("vnet> help%(vnet%.tun%.open%)\nvnet%.tun%.open%(opts%?%) %-> dev | nil, err, errno\n\n  Open .-\nvnet>%s*$")
    term:line("help(help)")
    term:wait("vnet> help%(help%)\nvnet%.help%(x%?%)\n\n  Print the API reference .-\nvnet>%s*$")
  end)
end)
