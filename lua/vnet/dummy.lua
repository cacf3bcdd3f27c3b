--- vnet.dummy: a link that drops everything sent to it; a place to hang
-- addresses and routes. No options beyond link.create's.
--
--    local d = assert(vnet.dummy.create{ name = "dummy0", up = true })
local K = require("vnet._kinds").define { kind = "dummy" }
--- dummy.create{name =, ...} -> link | nil, msg, errno
return { kind = K.kind, descriptor = K.descriptor, create = K.create }
