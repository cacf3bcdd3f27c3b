--- vnet.erspan: ERSPAN over IPv4: a GRE tap whose frames carry an ERSPAN
-- header, as switches send mirrored traffic to an analyser (type II,
-- erspan_ver = 1, with an index; type III, erspan_ver = 2, with a
-- direction and a hardware id).
--
--    local e = assert(vnet.erspan.create{ name = "ers0", ["local"] = "10.0.0.1",
--                                         remote = "10.0.0.2", key = 10,
--                                         erspan_ver = 1, erspan_index = 123 })
-- Options, besides link.create's and vnet.gre's: key (required: the
-- session id, 0 to 1023; sequence numbers are always on), erspan_ver (0-2),
-- erspan_index (v1), erspan_dir ("ingress"/"egress", v2), erspan_hwid (v2).
--- erspan.create{name =, local =, remote =, key =, ...} -> link | nil, msg, errno
local gre = require "vnet.gre"
return require("vnet._kinds").define { kind = "erspan", options = gre.erspan_options(gre.options),
  finish = gre.erspan_finish(false),
  lane = { modules = { "ip_gre" },
    probe = "type erspan local 10.99.0.1 remote 10.99.0.2 seq key 10 erspan_ver 1 erspan 7" } }
