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
-- writer:write(p | string [, time | sec, nsec]) -> true | nil, msg, errno
-- writer:flush(), writer:close(); fields count, linktype, nanosecond,
-- snaplen, closed. `<close>` and garbage collection close it too.
--
-- pcap.open(path [, "r"]) -> reader | nil, msg, errno. Microsecond and
-- nanosecond files in either byte order; not pcapng.
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

local M = { has_capture_hook = core.has_capture_hook }

local LINKTYPES = { raw = core.RAW, ethernet = core.ETHERNET, eth = core.ETHERNET }

local function writer(path, o)
  o = opts.check("pcap.open", o, { linktype = { "string", "integer" },
    nanosecond = "boolean", snaplen = "integer" })
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

--- pcap.open(path [, mode [, opts]]): mode "r" (the default) or "w".
function M.open(path, mode, o)
  if type(path) ~= "string" then
    raise(string.format("pcap.open: path must be a string (got %s)", type(path)))
  end
  mode = mode or "r"
  if mode == "r" then
    if o ~= nil then raise("pcap.open: a reader takes no options") end
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
      copy.linktype = dev.kind == "tap" and "ethernet" or "raw"
      o = copy
    end
    w, err, eno = writer(target, o)
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
