--- vnet.pcap: read and write pcap files, and capture a device's traffic.
--
--    local w <close> = assert(pcap.open("out.pcap", "w", { linktype = "raw" }))
--    w:write(p)                    -- time stamp: now
--    w:write(p, 1700000000.25)     -- or seconds (float)
--    w:write(p, 1700000000, 250)   -- or seconds and nanoseconds
--
--    local r <close> = assert(pcap.open("in.pcap"))
--    for p, t in r:packets() do print(t, p) end
--
--    local cap <close> = assert(dev:capture("dev.pcap"))  -- every packet
--    ...                                                   -- read or written
--    dev:capture(false)                                    -- stop
--
-- pcap.open(path, "w" [, opts]) -> writer | nil, msg, errno. opts:
--   linktype   "raw" (IP packets, as on a TUN), "ethernet" (frames, as on
--              a TAP), or a LINKTYPE_ number. Without it the first packet
--              written decides (its p:linktype()).
--   nanosecond true: nanosecond time stamps (magic 0xa1b23c4d)
--   snaplen    bytes kept of each packet (262144)
-- A path ending in ".pcapng" gets a pcapng writer (core/io/pcapng.c):
-- nanosecond time stamps, and one interface per link type met, so that
-- Ethernet frames and raw IP packets share a file each with its own type;
-- linktype and nanosecond are then not needed. dev:capture writes pcap.
-- writer:write(p | string [, time | sec, nsec]) -> true | nil, msg, errno
-- writer:flush(), writer:close(); fields count, linktype, nanosecond,
-- snaplen, closed. `<close>` and garbage collection close it too.
--
-- pcap.open(path [, "r" [, {filter = expr}]]) -> reader | nil, msg, errno.
-- Classic pcap (microsecond and nanosecond, either byte order) and pcapng
-- (tshark's default), with a tcpdump filter (compiled by libpcap) if
-- asked. Filtered classic files go through libpcap, unfiltered ones
-- through vnet's own reader (core/io/pcap.c), whose diagnostics name the bad
-- record; pcapng is read by core/io/pcapfile.c, each packet with its own
-- interface's link type and time resolution (libpcap 1.10 refuses files
-- that mix link types, which vnet's pcapng writer makes). A pcapng reader
-- has format "pcapng", linktypes (of the interfaces described so far),
-- linktype only while they share one, and nanosecond nil.
-- reader:read() -> p, time, sec, nsec, orig_len | nil (end) | nil, msg
-- reader:packets() -> iterator of the same (raises on a corrupt file).
-- The packet is one reused object per reader (a larger one replaces it when
-- a record needs more: memory follows the records, not the snaplen the file
-- claims), with p:linktype() set from the file's link type: p:copy() to
-- keep it. Fields linktype, nanosecond,
-- snaplen, swapped, closed.
--
-- dev:capture(path [, opts]) -> writer | nil, msg, errno: record every
-- packet the device reads or writes (also those of on_packet) into a new
-- file, linktype "raw" for a TUN and "ethernet" for a TAP unless opts
-- say otherwise; dev:capture(writer) shares an open writer (several
-- devices into one file); dev:capture(false) stops, closing the file if
-- capture opened it. The writer is buffered: close it (or :flush()) before
-- reading the file.
local core = require "vnet.pcap.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local opts = require "vnet._opts"

local M = {}

local LINKTYPES = { raw = core.RAW, ethernet = core.ETHERNET, eth = core.ETHERNET }

local function writer(path, o, classic)
  o = opts.check("pcap.open", o, { linktype = { "string", "integer" },
    nanosecond = "boolean", snaplen = "integer" })
  if not classic and path:find("%.pcapng$") then
    if o.snaplen and (o.snaplen < 1 or o.snaplen > 0x7fffffff) then
      raise(string.format("pcap.open: snaplen %d out of range (1 to 2147483647)", o.snaplen))
    end
    return require("vnet.pcapng.core").writer(path, o.snaplen)
  end
  local lt = o.linktype
  if type(lt) == "string" then
    lt = LINKTYPES[lt]
    if not lt then
      raise(string.format("pcap.open: linktype '%s' (known: raw, ethernet, or a number)",
        o.linktype))
    end
  end
  if lt and (lt < 0 or lt > 0xffff) then
    raise(string.format("pcap.open: linktype %d out of range 0..65535", lt))
  end
  if o.snaplen and (o.snaplen < 1 or o.snaplen > 0x7fffffff) then
    raise(string.format("pcap.open: snaplen %d out of range", o.snaplen))
  end
  return core.writer(path, lt or -1, o.nanosecond, o.snaplen)
end

-- pcapng files and filtered reads go through core/io/pcapfile.c.
local function is_pcapng(path)
  local f = io.open(path, "rb")
  if not f then return false end
  local magic = f:read(4)
  f:close()
  return magic == "\x0a\x0d\x0d\x0a"
end

--- pcap.open(path [, mode [, opts]]): mode "r" (the default) or "w".
function M.open(path, mode, o)
  if type(path) ~= "string" then
    raise(string.format("pcap.open: path must be a string (got %s)", type(path)))
  end
  mode = mode or "r"
  if mode == "r" then
    o = opts.check("pcap.open", o, { filter = "string" })
    if o.filter or is_pcapng(path) then
      return require("vnet.pcapfile.core").open(path, o.filter)
    end
    return core.reader(path)
  elseif mode == "w" then
    return writer(path, o)
  end
  raise(string.format("pcap.open: mode must be 'r' or 'w' (got %s)", tostring(mode)))
end

-- dev:capture, on every packet device
local devmethods = require("vnet.tun.core").methods
local owned = setmetatable({}, { __mode = "k" }) -- writers capture opened

local function stop(dev)
  local w = core.capturing(dev)
  core.capture(dev, nil)
  if w and owned[w] then
    owned[w] = nil
    return w:close()
  end
  return true
end

--- dev:capture(path [, opts]) | dev:capture(writer) | dev:capture(false)
function devmethods.capture(dev, target, o)
  if target == nil or target == false then return stop(dev) end
  local w, err, eno = target, nil, nil
  if type(target) == "string" then
    o = o or {}
    if type(o) == "table" and o.linktype == nil then
      local copy = {}
      for k, v in pairs(o) do copy[k] = v end
      copy.linktype = dev.kind == "psock" and dev.linktype -- its link's type
        or dev.kind == "tap" and "ethernet" or "raw"
      o = copy
    end
    w, err, eno = writer(target, o, true)
    if not w then return nil, err, eno end
  elseif (getmetatable(target) or {}).__name ~= "vnet.pcap.writer" then
    raise("dev:capture: path, pcap writer or false expected (got " .. type(target) .. ")")
  end
  stop(dev)
  core.capture(dev, w)
  if type(target) == "string" then owned[w] = true end
  return w
end

return M
