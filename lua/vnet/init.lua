--- vnet: Lua-scriptable Linux virtual network devices.
-- require "vnet" loads every module; in the vnet host it is the global
-- `vnet`. `vnet.modules` names them all, in this order; a spec checks that
-- it, the files in lua/vnet/ and the rockspec agree (the kinds and the
-- rockspec's rows are generated from the files). vnet.errno names the errno values.
local vnet = { version = "0.1.0" }
vnet.modules = {
  -- packets, devices, the loop, links and namespaces
  "packet", "loop", "link", "netns", "tun", "tap", "proto", "pcap", "psock",
  -- addresses, routes, neighbours, link events
  "addr", "route", "neigh", "watch",
  -- the link kinds, one file each (lua/vnet/_kinds.lua), listed in the
  -- generated lua/vnet/_kindlist.lua (`make docs` writes it from the files)
  require "vnet._kindlist",
  -- traffic control and topologies
  "tc", "topo",
  -- what a session owns, and undoes when it ends
  "session",
  -- text and JSON (`ip -br`, `ip -j`) of links, addresses, routes...
  "show",
}
do -- the kinds' list, in its place
  local flat = {}
  for _, x in ipairs(vnet.modules) do
    if type(x) == "table" then table.move(x, 1, #x, #flat + 1, flat) else flat[#flat + 1] = x end
  end
  vnet.modules = flat
end
for _, name in ipairs(vnet.modules) do
  vnet[name] = require("vnet." .. name)
end
--- vnet.errno: errno names -> numbers (vnet.errno.EEXIST == 17), for
-- comparing the third result of a failure: `if eno == vnet.errno.EEXIST`.
vnet.errno = require("vnet.nl.core").errno
--- vnet.json(x) -> JSON text: links, addresses, routes, neighbours and
-- namespace lists shaped as `ip -j` prints them (vnet.show.json).
vnet.json = vnet.show.json
--- vnet.help([x]): the API reference of x (a function, object, module or a
-- name like "vnet.tun.open"), from lua/meta/vnet/ (the REPL's global help).
function vnet.help(...) return require("vnet._help").help(...) end
return vnet
