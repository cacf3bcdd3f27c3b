--- vnet.veth: virtual Ethernet pairs. What goes in one end comes out of
-- the other; put the ends in two namespaces to join them.
--
--    local a, b = assert(vnet.veth.create("vethA", "vethB"))
--    local a, b = assert(vnet.veth.create("v0", "v1", { peer_netns = ns }))
--    local a, b = assert(vnet.veth.create{ name = "v0", peer = "v1",
--                                          peer_address = "02:00:00:00:00:02" })
--    print(a:peer().name)          --> v1 (found from a's IFLA_LINK, in ns)
--
-- As the seed says, "a veth's peer can be found from its id": a.parent is
-- the peer's ifindex and a.netns_id the id of the peer's namespace when it
-- is elsewhere; `a:peer()` follows them. Deleting either end deletes both.
--
-- Options, besides link.create's (name, mtu, address, up, netns, ...):
--    peer          the other end's name (default: the kernel picks vethN)
--    peer_netns    create the other end straight in this namespace (ns
--                  object, name or pid)
--    peer_address, peer_mtu, peer_up   the other end's MAC, MTU, state
-- create returns both ends: a, b | nil, msg, errno.
local kinds = require "vnet._kinds"

local VETH_INFO_PEER = 1

local M = kinds.define {
  kind = "veth",
  options = {
    peer = { virtual = true, type = "string" },
    peer_netns = { virtual = true, type = { "string", "integer", "userdata" } },
    peer_address = { virtual = true, type = "string" },
    peer_mtu = { virtual = true, type = "integer" },
    peer_up = { virtual = true, type = "boolean" },
  },
  check = function(op, name, o, level)
    if o.peer ~= nil then require("vnet._opts").ifname(op, o.peer, level + 1) end
  end,
  finish = function(ctx, o, items, change)
    if change then return end
    local p = { name = o.peer, mtu = o.peer_mtu }
    if o.peer_address then
      p.address = require("vnet.nl.core").mac(o.peer_address)
      if not p.address then
        error(string.format("%s %s: option 'peer_address': '%s' is not a MAC address " ..
          "(aa:bb:cc:dd:ee:ff)", ctx.op, ctx.name, o.peer_address), ctx.level)
      end
    end
    if o.peer_netns ~= nil then p.netns_fd = ctx.netns(o.peer_netns):fileno() end
    items[#items + 1] = { VETH_INFO_PEER, "ifinfo", p }
  end,
  -- the kernel cannot bring the peer up in the request that makes it
  -- (it has no peer yet at that point: ENOTCONN), so that comes after
  after = function(l, o)
    if not o.peer_up then return true end
    local b, err, eno = l:peer()
    if not b then return nil, err, eno end
    return b:set { up = true }
  end,
}

local create = M.create

--- veth.create(name, peer [, options]) or veth.create{name =, peer =, ...}
-- -> a, b (both ends as link objects) | nil, msg, errno
function M.create(name, peer, o)
  if type(name) ~= "table" then
    if o ~= nil and type(o) ~= "table" then
      error("veth.create: options must be a table (got " .. type(o) .. ")", 2)
    end
    local t = {}
    for k, v in pairs(o or {}) do t[k] = v end
    t.name, t.peer = name, peer
    name = t
  end
  local link = require "vnet.link"
  local a, err, eno = link._create("veth.create", M.descriptor, name, 3)
  if not a then return nil, err, eno end
  local b
  if name.peer and name.peer_netns ~= nil then
    local ns = link._tons("veth.create", name.peer_netns, 2)
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
M._create = create

return M
