-- A routed chain: h1 - r1 - r2 - h2, routers forwarding, static routes,
-- 20 ms of delay on the middle link (each way).
--    vnet --topo examples/routed.lua
return {
  name = "routed",
  nodes = {
    h1 = { routes = { default = "10.0.1.1" } },
    r1 = { kind = "router", routes = { ["10.0.2.0/24"] = "10.0.12.2" } },
    r2 = { kind = "router", routes = { ["10.0.1.0/24"] = "10.0.12.1" } },
    h2 = { routes = { default = "10.0.2.1" } },
  },
  links = {
    { a = { node = "h1", addr = "10.0.1.2/24" }, b = { node = "r1", addr = "10.0.1.1/24" } },
    { a = { node = "r1", addr = "10.0.12.1/24" }, b = { node = "r2", addr = "10.0.12.2/24" },
      tc = { tbf = { rate = "100mbit" } } },
    { a = { node = "r2", addr = "10.0.2.1/24" }, b = { node = "h2", addr = "10.0.2.2/24" } },
  },
}
