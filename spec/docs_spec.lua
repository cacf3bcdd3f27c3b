-- The documentation's Lua runs as written (issue 16, item 2). Every fenced
-- block in README.md and docs/*.md is found, and:
--
--   ```lua            runs as written, alone, with build/vnet, in a fresh
--                     network namespace made for it (and in a scratch
--                     directory), and must end with status 0. It makes what
--                     it uses: nothing from an earlier block is there.
--   ```lua fragment   a sketch that is not run (it uses a device, a `...`
--                     body, names the text made elsewhere), but must parse.
--   ```text           straight after a ```lua block (only blank lines
--                     between): what that block prints, compared line by
--                     line (trailing blanks ignored). `...` inside a line
--                     stands for any text (an ifindex, a MAC, a time); a
--                     line that is only `...` stands for any number of lines.
--   <!-- doc: needs kind dummy -->   (or `needs qdisc netem`, `needs module
--                     luv`) on the line before a ```lua block: the block is
--                     reported skipped, with the reason, on a kernel without
--                     that link kind or qdisc (as the kind and tc specs are),
--                     or where that Lua module is not installed.
--
-- Shell blocks (```sh and unlabelled ones) are not run: they install, need
-- a terminal, or run scripts other specs run already (examples_spec,
-- rewriters_spec, repl_live_spec, install_spec). A failing block is
-- reported as file:line of its opening fence.
local H = require "spec.helper"

local D = {}

--- The fenced blocks of a markdown file: { file, line, info, code, output }.
function D.blocks(path)
  local lines = {}
  for l in io.lines(path) do lines[#lines + 1] = l end
  local blocks, i = {}, 1
  while i <= #lines do
    local indent, fence, info = lines[i]:match("^(%s*)(```+)%s*(.-)%s*$")
    if fence then
      local b = { file = path, line = i, info = info, lines = {} }
      local prev = lines[i - 1] or ""
      b.needs_what, b.needs = prev:match("^<!%-%- doc: needs (%a+) (%S+) %-%->")
      i = i + 1
      while i <= #lines and not lines[i]:match("^%s*" .. fence .. "%s*$") do
        b.lines[#b.lines + 1] = lines[i]:sub(1, #indent) == indent and lines[i]:sub(#indent + 1) or lines[i]
        i = i + 1
      end
      b.code = table.concat(b.lines, "\n") .. "\n"
      b.last = i
      blocks[#blocks + 1] = b
    end
    i = i + 1
  end
  -- a ```text block straight after a ```lua block is its output
  for k, b in ipairs(blocks) do
    local nxt = blocks[k + 1]
    if b.info == "lua" and nxt and nxt.info == "text" then
      local between = true
      for j = b.last + 1, nxt.line - 1 do
        if not lines[j]:match("^%s*$") then between = false end
      end
      if between then b.output = nxt.lines end
    end
  end
  return blocks
end

-- Does `line` match the expected line `want` (where `...` is any text)?
local function line_matches(want, line)
  local pat = want:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"):gsub("%%%.%%%.%%%.", ".-")
  return line:match("^" .. pat .. "$") ~= nil
end

--- Do the output lines `got` match the expected lines `want`?
function D.matches(want, got, i, j)
  i, j = i or 1, j or 1
  if i > #want then return j > #got end
  if want[i] == "..." then
    for k = j, #got + 1 do
      if D.matches(want, got, i + 1, k) then return true end
    end
    return false
  end
  if j > #got or not line_matches(want[i], got[j]) then return false end
  return D.matches(want, got, i + 1, j + 1)
end

local function trimmed_lines(text)
  local out = {}
  for l in (text .. "\n"):gmatch("(.-)\n") do out[#out + 1] = (l:gsub("%s+$", "")) end
  while #out > 0 and out[#out] == "" do out[#out] = nil end
  return out
end

local function sources()
  local files = { "README.md" }
  for f in H.sh("ls docs/*.md 2>/dev/null"):gmatch("[^\n]+") do files[#files + 1] = f end
  return files
end

local root = H.sh("pwd"):gsub("\n$", "")
local vnet_bin = H.vnet:sub(1, 1) == "/" and H.vnet or root .. "/" .. H.vnet

-- Inside a sandboxed test: skip it when the kernel has no such qdisc
-- (tried on lo, removed again).
local function has_qdisc(kind)
  local out, code = H.sh("tc qdisc add dev lo root " .. kind)
  if code == 0 then H.sh("tc qdisc del dev lo root") return true end
  return not (out:find("nknown", 1, true) or out:find("not supported", 1, true))
end

-- Run one block's code with build/vnet in the current namespace, in a
-- scratch directory; returns output and exit status.
local function run(b)
  local dir = H.sh("mktemp -d"):gsub("\n$", "")
  local f = assert(io.open(dir .. "/block.lua", "w"))
  f:write(b.code)
  f:close()
  local out, code = H.sh(string.format("cd %s && timeout 20 %s block.lua", dir, vnet_bin))
  H.sh("rm -rf " .. dir)
  return out, code
end

-- Can this vnet load module m (a block that needs luv or cqueues)?
local function has_module(m)
  local _, code = H.sh(string.format("%s -e 'require(\"%s\")' >/dev/null 2>&1", vnet_bin, m))
  return code == 0
end

--- Check one block (a ```lua one inside a fresh namespace): nil when it is
-- right, else the failure (naming file:line), or nil, why it was skipped.
function D.check(b)
  local where = b.file .. ":" .. b.line
  local fn, err = load(b.code, "=" .. where)
  if not fn then
    return string.format("%s: the %s does not parse: %s", where,
      b.info == "lua" and "block" or "fragment", tostring(err))
  end
  if b.info ~= "lua" then return nil end
  if b.needs_what == "kind" and not H.kernel_has(b.needs) then
    return nil, where .. " needs link kind '" .. b.needs .. "': this kernel has none"
  elseif b.needs_what == "qdisc" and not has_qdisc(b.needs) then
    return nil, where .. " needs the '" .. b.needs .. "' qdisc: this kernel has none (sch_" ..
      b.needs .. ")"
  elseif b.needs_what == "module" and not has_module(b.needs) then
    return nil, where .. " needs the Lua module '" .. b.needs .. "', not installed here"
  end
  local out, code = run(b)
  if code ~= 0 then
    return string.format("%s: the block ended with status %s:\n%s", where, tostring(code), out)
  end
  if b.output then
    local got = trimmed_lines(out)
    local want = trimmed_lines(table.concat(b.output, "\n"))
    if not D.matches(want, got) then
      return string.format("%s: the block printed\n%s\nbut the text after it shows\n%s", where,
        table.concat(got, "\n"), table.concat(want, "\n"))
    end
  end
end

describe("the docs' code blocks", function()
  H.keeps_host_state(setup, teardown)

  it("are found, and the conventions hold", function()
    assert.is_true(D.matches({ "a ... c", "...", "z" }, { "a b c", "x", "y", "z" }))
    assert.is_false(D.matches({ "a ... c" }, { "a b d" }))
    assert.is_true(D.matches({ "...", "x" }, { "x" }))
    assert.is_false(D.matches({ "x" }, { "x", "y" }))
    local n = 0
    for _, file in ipairs(sources()) do n = n + #D.blocks(file) end
    assert.is_true(n > 40, "only " .. n .. " blocks found")
  end)

  it("name a broken block by file:line, and what it printed or raised", H.sandboxed(function()
    local md = os.tmpname() .. ".md"
    local f = assert(io.open(md, "w"))
    f:write("# t\n\n```lua\nprint(1)\nerror('boom')\n```\n\n```lua\nprint(2)\n```\n\n",
      "```text\n3\n```\n\n```lua fragment\nx = = 1\n```\n")
    f:close()
    local bs = D.blocks(md)
    os.remove(md)
    assert.are.equal(4, #bs)
    local err = D.check(bs[1])
    assert.matches(md:gsub("%p", "%%%0") .. ":3: the block ended with status 1:\n1\n.-boom", err)
    err = D.check(bs[2])
    assert.matches(":8: the block printed\n2\nbut the text after it shows\n3$", err)
    assert.matches(":16: the fragment does not parse: .*:16:1: unexpected symbol near '='", D.check(bs[4]))
  end))

  for _, file in ipairs(sources()) do
    for _, b in ipairs(D.blocks(file)) do
      local where = b.file .. ":" .. b.line
      local info = b.info
      if info == "lua fragment" then
        it(where .. " (a fragment) parses", function()
          local err = D.check(b)
          assert(err == nil, err)
        end)
      elseif info == "lua" then
        it(where .. " runs as written" .. (b.output and " and prints what the text shows" or ""),
          H.sandboxed(function()
            local err, skip = D.check(b)
            if skip then H.skip(skip) end
            assert(err == nil, err)
          end))
      elseif info:match("^lua") then
        it(where .. " has a known label", function()
          error(where .. ": unknown block label '```" .. info ..
            "' (```lua runs, ```lua fragment only parses)")
        end)
      end
    end
  end
end)
