--- vnet._pair: what the kinds made as two ends share (veth, vxcan, netkit):
-- the peer's options, the nested ifinfomsg the kernel takes for the peer,
-- bringing the peer up after creation, and a create that returns both ends.
--
-- A pair kind's description uses
--    options = pair.options(own)   the kind's own options plus peer,
--                                  peer_netns, peer_address, peer_mtu, peer_up
--    check = pair.check, finish = pair.finish(ATTR[, more]), after = pair.after
-- and its module's create is pair.create(M, "kind.create"):
--    create(name, peer [, options]) or create{name =, peer =, ...}
--    -> a, b (both ends as link objects) | nil, msg, errno
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local P = {}

local peer_options = {
  peer = { virtual = true, type = "string" },
  peer_netns = { virtual = true, type = { "string", "integer", "userdata" } },
  peer_address = { virtual = true, type = "string" },
  peer_mtu = { virtual = true, type = "integer" },
  peer_up = { virtual = true, type = "boolean" },
}

function P.options(own)
  local t = {}
  for k, v in pairs(peer_options) do t[k] = v end
  for k, v in pairs(own or {}) do t[k] = v end
  return t
end

function P.check(op, name, o)
  if o.peer ~= nil then require("vnet._opts").ifname(op, o.peer) end
end

--- finish(attr [, more [, queues]]) -> a kind's finish: the peer's
-- ifinfomsg under attr, then more(ctx, o, items, change) for the kind's own
-- rules. queues: both ends get numtxqueues and numrxqueues (default 1).
function P.finish(attr, more, queues)
  return function(ctx, o, items, change)
    if more then more(ctx, o, items, change) end
    if change then return end
    require("vnet.link")._check_mtu(ctx.op, ctx.name, "peer_mtu", o.peer_mtu)
    local p = { name = o.peer, mtu = o.peer_mtu }
    if queues then
      -- the kernel gives a veth one queue per CPU, then trims the real
      -- count to 1, which waits for an RCU grace period per end: ask
      -- for the queues that will be used (1) unless told otherwise
      ctx.spec.numtxqueues = o.numtxqueues or 1
      ctx.spec.numrxqueues = o.numrxqueues or 1
      p.numtxqueues, p.numrxqueues = ctx.spec.numtxqueues, ctx.spec.numrxqueues
    end
    if o.peer_address then
      p.address = require("vnet.nl.core").mac(o.peer_address)
      if not p.address then
        raise(string.format("%s %s: option 'peer_address': '%s' is not a MAC address " ..
          "(aa:bb:cc:dd:ee:ff)", ctx.op, ctx.name, o.peer_address))
      end
    end
    if o.peer_netns ~= nil then
      local ns = ctx.netns(o.peer_netns) -- (nil: the failure is returned after encoding)
      p.netns_fd = ns and ns:fileno()
    end
    items[#items + 1] = { attr, "ifinfo", p }
  end
end

-- The kernel cannot bring the peer up in the request that makes it (it
-- has no peer yet at that point: ENOTCONN), so that comes after.
function P.after(l, o)
  if not o.peer_up then return true end
  local b, err, eno = l:peer()
  if not b then return nil, err, eno end
  return b:set { up = true }
end

--- create(M, op) -> function(name, peer [, o]) | function{...}: both ends
function P.create(M, op)
  local d = M.descriptor
  return function(name, peer, o)
    if type(name) ~= "table" then
      if o ~= nil and type(o) ~= "table" then
        raise(op .. ": options must be a table (got " .. type(o) .. ")")
      end
      local t = {}
      for k, v in pairs(o or {}) do t[k] = v end
      t.name, t.peer = name, peer
      name = t
    end
    local link = require "vnet.link"
    local a, err, eno = link._create(op, d, name)
    if not a then return nil, err, eno end
    local b
    if name.peer and name.peer_netns ~= nil then
      local ns = link._tons(op, name.peer_netns)
      b, err, eno = ns:run(link.get, name.peer)
      if b then b.netns, b._nsino = ns, ns:id() end
    else
      b, err, eno = a:peer()
    end
    if b then require("vnet.session").own_link(b, name.persist, a) end
    if not b then
      a:delete()
      return nil, err, eno
    end
    return a, b
  end
end

return P
