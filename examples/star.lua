-- A star: hosts h1..hN on one switch (a bridge in its own namespace),
-- 10.0.0.0/24. N is 4, or $STAR_HOSTS.
--    vnet --topo examples/star.lua          then: net:pingall()
local n = tonumber(os.getenv("STAR_HOSTS")) or 4
local nodes, links = { s1 = { kind = "switch" } }, {}
for i = 1, n do
  local h = "h" .. i
  nodes[h] = {}
  links[i] = { a = { node = h, addr = string.format("10.0.%d.%d/16", i // 250, i % 250 + 1) }, b = "s1" }
end
return { name = "star", nodes = nodes, links = links }
