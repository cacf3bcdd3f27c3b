--- vnet.sit: a tunnel carrying IPv6 (and optionally IPv4) over IPv4.
-- Options as vnet.ipip, plus mode: "ip6ip" (IPv6 in IPv4, the default),
-- "ipip" or "any".
--    local s = assert(vnet.sit.create{ name = "sit1", remote = "10.0.0.2", ttl = 64 })
local ipip = require "vnet.ipip"
local options = { mode = { attr = 9, fmt = "u8", enum = { ip6ip = 41, ipip = 4, any = 0 } } }
for k, v in pairs(ipip.options) do options[k] = v end
--- sit.create{name =, local =, remote =, mode =, ...} -> link | nil, msg, errno
return require("vnet._kinds").define { kind = "sit", options = options,
  lane = { modules = { "sit" }, probe = "type sit local 10.99.0.1 remote 10.99.0.2" } }
