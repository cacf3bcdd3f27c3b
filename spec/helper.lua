-- helper.lua: what the specs share (require "spec.helper"). The specs run
-- inside the vnet host, so `vnet` is a global here.
--
-- Every spec that touches the network wraps its body in `sandboxed(fn)`: the
-- body runs inside a fresh network namespace made for it (loopback up) and
-- the namespace, with everything made in it, goes away afterwards.
local json = require "dkjson"
local H = {}

--- Run a shell command (in the caller's current namespace); returns its
-- output (stdout and stderr) and exit status.
function H.sh(cmd)
  local f = assert(io.popen("(" .. cmd .. ") 2>&1", "r"))
  local out = f:read("a")
  local _, _, code = f:close()
  return out, code
end

--- `ip -j -d <args>` decoded, from iproute2: the independent witness.
function H.ip(args)
  local out, code = H.sh("ip -j -d " .. args)
  if code ~= 0 then return nil, out end
  return json.decode(out)
end

--- The link of that name as iproute2 sees it, or nil.
function H.iplink(name)
  local t = H.ip("link show dev " .. name)
  return t and t[1]
end

function H.has_flag(l, flag)
  for _, f in ipairs(l.flags or {}) do if f == flag then return true end end
  return false
end

--- Wrap a spec body so it runs in a fresh network namespace with lo up.
function H.sandboxed(fn)
  return function(...)
    local ns <close> = assert(vnet.netns.create())
    return ns:run(function(...)
      assert(vnet.link.set("lo", { up = true }))
      return fn(ns, ...)
    end, ...)
  end
end

--- The machine's own links and named namespaces, to prove a spec left
-- nothing behind.
function H.host_state()
  local links = {}
  for _, l in ipairs(H.ip("link show") or {}) do links[#links + 1] = l.ifname end
  table.sort(links)
  local ns = H.sh("ip netns list")
  return table.concat(links, " ") .. " | " .. ns
end

--- Run `cmd` in the background (in the current namespace); returns a
-- handle whose :wait() returns the output and exit status.
function H.spawn(cmd)
  local f = assert(io.popen("(" .. cmd .. ") 2>&1", "r"))
  return {
    file = f,
    wait = function()
      local out = f:read("a")
      local _, _, code = f:close()
      return out, code
    end,
  }
end

--- Path of the vnet binary under test.
H.vnet = os.getenv("VNET_BIN") or "build/vnet"

return H
