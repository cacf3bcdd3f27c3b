--- vnet.ipoib: an IP-over-InfiniBand child link (a partition) on an
-- InfiniBand port. The parent must be an InfiniBand link (from an HCA's
-- driver, or rdma_rxe/siw); on a parent of any other type, create says so
-- (nil, "... needs an InfiniBand link ...", 19).
--
--    local p = assert(vnet.ipoib.create{ name = "ib0.8001", link = "ib0", pkey = 0x8001 })
-- Options, besides link.create's: pkey (the partition key), mode
-- ("datagram" or "connected"), umcast (allow user multicast).
--- ipoib.create{name =, link =, pkey =, ...} -> link | nil, msg, errno
return require("vnet._hardware").define { kind = "ipoib", needs = { "infiniband" },
  what = "an InfiniBand link (an HCA's port, or one made by rdma_rxe)",
  options = {
    pkey = { attr = 1, fmt = "u16" },
    mode = { attr = 2, fmt = "u16", enum = { datagram = 0, connected = 1 }, change = true },
    umcast = { attr = 3, fmt = "u16", change = true, type = "boolean",
      encode = function(_, v) return { { 3, "u16", v and 1 or 0 } } end,
      decode = function(info, p) info.umcast = string.unpack("=I2", p) ~= 0 end },
  } }
