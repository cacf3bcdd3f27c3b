-- Two sites joined by a VXLAN tunnel between their gateways, over an
-- underlay link with 25 ms of delay and 1% loss each way (netem):
--    a1 -- gw1 ==(vxlan 42 over 172.16.0.0/24)== gw2 -- b1
--    vnet --topo examples/sites.lua         then: a1:ping(b1)
return {
  name = "sites",
  nodes = {
    a1 = { routes = { default = "10.1.0.1" } },
    b1 = { routes = { default = "10.2.0.1" } },
    gw1 = { kind = "router", routes = { ["10.2.0.0/24"] = "10.9.0.2" } },
    gw2 = { kind = "router", routes = { ["10.1.0.0/24"] = "10.9.0.1" } },
  },
  links = {
    { a = { node = "a1", addr = "10.1.0.2/24" }, b = { node = "gw1", addr = "10.1.0.1/24" } },
    { a = { node = "b1", addr = "10.2.0.2/24" }, b = { node = "gw2", addr = "10.2.0.1/24" } },
    -- the underlay
    { a = { node = "gw1", name = "wan", addr = "172.16.0.1/24" },
      b = { node = "gw2", name = "wan", addr = "172.16.0.2/24" },
      tc = { netem = { delay = "25ms", loss = 1 } } },
  },
  tunnels = {
    { kind = "vxlan", id = 42, mtu = 1450, -- room for the 50 bytes VXLAN adds
      a = { node = "gw1", name = "vx42", underlay = "172.16.0.1", addr = "10.9.0.1/24" },
      b = { node = "gw2", name = "vx42", underlay = "172.16.0.2", addr = "10.9.0.2/24" } },
  },
}
