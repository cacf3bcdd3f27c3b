--- vnet.gretap: a GRE tunnel over IPv4 carrying Ethernet frames (a link
-- that can join a bridge). Options as vnet.gre.
local gre = require "vnet.gre"
local K = require("vnet._kinds").define { kind = "gretap", options = gre.options, finish = gre.finish }
--- gretap.create{name =, local =, remote =, ...} -> link | nil, msg, errno
return { kind = K.kind, descriptor = K.descriptor, create = K.create }
