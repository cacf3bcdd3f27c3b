--- vnet.ip6erspan: ERSPAN over IPv6 (see vnet.erspan). Options as
-- vnet.ip6gre's plus key (required, 0 to 1023), erspan_ver, erspan_index,
-- erspan_dir, erspan_hwid.
--- ip6erspan.create{name =, local =, remote =, key =, ...} -> link | nil, msg, errno
local gre = require "vnet.gre"
return require("vnet._kinds").define { kind = "ip6erspan", options = gre.erspan_options(gre.options6),
  finish = gre.erspan_finish(true),
  lane = { modules = { "ip6_gre" },
    probe = "type ip6erspan local fd99::1 remote fd99::2 seq key 10 erspan_ver 2 erspan_dir egress erspan_hwid 3" } }
