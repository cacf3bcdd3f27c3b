---@meta vnet.pcap

---vnet.pcap: read and write pcap and pcapng files, and capture a device's
---traffic (`dev:capture(path)`). A path ending in ".pcapng" gets a pcapng
---writer (one interface per link type met). Readers take classic pcap
---(either resolution and byte order) and pcapng, with an optional tcpdump
---filter.
---
---Example:
---```lua
---local path = "capture.pcap"
---local w <close> = assert(vnet.pcap.open(path, "w", { linktype = "raw" }))
---w:write(vnet.packet.build{ ipv4 = { src = "10.0.0.1", dst = "10.0.0.2" }, udp = {} })
---```
---@class vnet.pcap
local pcap = {}

---Open a capture file: mode "r" (the default: a reader) or "w" (a
---writer). Writer options: linktype ("raw", "ethernet" or a LINKTYPE_
---number; default: the first packet decides), nanosecond, snaplen
---(262144). Reader option: filter (a tcpdump expression).
---
---Example:
---```lua
---local path = "capture.pcap"
---assert(vnet.pcap.open(path, "w", { linktype = "ethernet" })):close()
---local r <close> = assert(vnet.pcap.open(path))
---for p, t in r:packets() do print(t, p) end
---```
---@param path string
---@param mode? "r"|"w"
---@param opts? {linktype?: string|integer, nanosecond?: boolean, snaplen?: integer, filter?: string}
---@return vnet.PcapWriter|vnet.PcapReader|nil file
---@return string? err
---@return integer? errno
function pcap.open(path, mode, opts) end

---A pcap or pcapng writer: fields count, linktype, nanosecond, snaplen,
---closed. Buffered: close or flush it before reading the file.
---@class vnet.PcapWriter
---@field count integer packets written
---@field closed boolean
local PcapWriter = {}

---Write one packet, time stamped now, at time (seconds, a float), or at
---sec and nsec.
---
---Example:
---```lua
---local w <close> = assert(vnet.pcap.open("out.pcap", "w", { linktype = "raw" }))
---assert(w:write("\x45\0\0\20\0\0\0\0\64\17\0\0\10\0\0\1\10\0\0\2", 1700000000, 250))
---```
---@param pkt vnet.Packet|string
---@param time? number seconds, or whole seconds when nsec follows
---@param nsec? integer
---@return true? ok
---@return string? err
---@return integer? errno
function PcapWriter:write(pkt, time, nsec) end

---Write what is buffered to the file.
---
---Example:
---```lua
---local w <close> = assert(vnet.pcap.open("out.pcap", "w")); assert(w:flush())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function PcapWriter:flush() end

---Flush and close (safe twice; also `<close>` and garbage collection).
---
---Example:
---```lua
---local w = assert(vnet.pcap.open("out.pcap", "w")); w:close()
---```
function PcapWriter:close() end

---A pcap or pcapng reader: fields linktype, nanosecond, snaplen, swapped,
---closed (pcapng: format, linktypes). The packet it returns is one reused
---object with p:linktype() set from the file: copy() keeps it.
---@class vnet.PcapReader
---@field linktype? integer
---@field closed boolean
local PcapReader = {}

---The next record: p, time, sec, nsec, orig_len; nil at the end; nil, msg
---on a corrupt file.
---
---Example:
---```lua
---local path = "capture.pcap"; assert(vnet.pcap.open(path, "w", { linktype = "raw" })):close()
---local r <close> = assert(vnet.pcap.open(path)); print(r:read())   --> nil
---```
---@return vnet.Packet? pkt
---@return number|string|nil time
---@return integer? sec
---@return integer? nsec
---@return integer? orig_len
function PcapReader:read() end

---An iterator over the records (p, time, sec, nsec, orig_len); raises on
---a corrupt file.
---
---Example:
---```lua
---local path = "capture.pcap"; assert(vnet.pcap.open(path, "w", { linktype = "raw" })):close()
---for p, t in assert(vnet.pcap.open(path)):packets() do print(t, #p) end
---```
---@return fun(): vnet.Packet, number, integer, integer, integer
function PcapReader:packets() end

---Close the file (safe twice; also `<close>` and garbage collection).
---
---Example:
---```lua
---local path = "capture.pcap"; assert(vnet.pcap.open(path, "w", { linktype = "raw" })):close()
---assert(vnet.pcap.open(path)):close()
---```
function PcapReader:close() end

return pcap
