---@meta vnet.tun

---vnet.tun: TUN devices (layer 3: IP packets); vnet.tap is the same for
---TAP devices (layer 2: Ethernet frames). Closing the device (dev:close(),
---a `<close>` variable, or garbage collection) removes it unless persist
---was set. docs/offload.md tells of offload, segments and coalescing.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open{ name = "tun-demo" })
---assert(dev:addr_add("10.9.0.1/24"))
---assert(dev:up())
---```
---@class vnet.tun
local tun = {}

---The options of tun.open and tap.open (all optional).
---@class vnet.tun.Options
---@field name? string interface name, at most 15 bytes; may hold "%d" (default: the kernel picks tun0, ...)
---@field pi? boolean keep the 4-byte packet-information header (pi_flags, pi_proto)
---@field vnet_hdr? boolean IFF_VNET_HDR
---@field multi_queue? boolean allow several opens of one name, one fd per queue
---@field persist? boolean the device outlives the fd (remove it with delete)
---@field owner? integer|string user allowed to open a persistent device
---@field group? integer|string group allowed to open a persistent device
---@field offload? boolean checksum/TSO/UFO offload: reads carry superpackets (docs/offload.md)
---@field segments? boolean with offload (default true): Lua sees segments, not superpackets
---@field coalesce? boolean with offload (default true): runs of TCP segments and same-sized UDP datagrams of one flow written in a loop round leave as one superpacket (UDP: Linux 6.2+)
---@field filter? string TAP only: a tcpdump expression; the kernel drops frames that do not match

---Open (create, or attach to a persistent) TUN device: a name or an
---options table. Failures name the device and what to do:
---`nil, "tun.open NAME: reason (hint)", errno`.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open{ name = "tun%d" })
---print(dev.name, dev.ifindex, dev.kind)   --> tun0  ...  tun
---```
---@param opts? vnet.tun.Options|string options, or just the name
---@return vnet.Device? dev
---@return string? err
---@return integer? errno
function tun.open(opts) end

---Remove a persistent device that no process holds open.
---
---Example:
---```lua
---local dev = assert(vnet.tun.open{ name = "ptun0", persist = true }); dev:close()
---assert(vnet.tun.delete("ptun0"))
---```
---@param name string
---@return true? ok
---@return string? err
---@return integer? errno
function tun.delete(name) end

---The IFF_* flags this kernel's tun driver supports (TUNGETFEATURES).
---
---Example:
---```lua
---local f = assert(vnet.tun.features())
---print(f & 0x0100 ~= 0)   -- IFF_MULTI_QUEUE
---```
---@return integer? flags
---@return string? err
---@return integer? errno
function tun.features() end

---How the loop's drains read and its rounds write every TUN/TAP: one
---io_uring call for many packets ("io_uring"), or a system call each
---("read/write"). false turns batching off for the process, true tries it
---again. reason says why io_uring is not in use when the kernel refused it
---(seccomp, an old kernel, kernel.io_uring_disabled; `VNET_NO_URING=1` in
---the environment turns it off from the start). calls and ops count the
---io_uring calls made so far and the reads and writes they carried;
---registered, how many open devices are registered with the ring (their
---fd and buffers: reads and writes then skip the kernel's per-operation
---lookups; `VNET_URING_FIXED=0` turns that off).
---
---Example:
---```lua
---local mode, why, calls, ops, registered = vnet.tun.io_batching()
---print(mode, why, calls, ops, registered)   -- e.g. io_uring nil 0 0 0
---```
---@param on? boolean
---@return string mode "io_uring" or "read/write"
---@return string? reason
---@return integer calls
---@return integer ops
---@return integer registered
function tun.io_batching(on) end

---A packet device: a TUN or TAP (vnet.tun, vnet.tap), a macvtap/ipvtap
---character device (`l:open()`), or a packet socket (vnet.psock). Fields:
---name, ifindex, kind ("tun", "tap", "psock", ...), closed, pi, vnet_hdr,
---multi_queue, persist, filter, offload, coalesce, rx_packets, tx_packets,
---tx_dropped, io. Any method on a closed device raises "attempt to use a
---closed tun".
---@class vnet.Device
---@field name string
---@field ifindex integer
---@field kind string "tun", "tap", "macvtap", "ipvtap", "psock"
---@field closed boolean
---@field rx_packets integer packets read
---@field tx_packets integer writes to the kernel (a coalesced superpacket is one)
---@field coalesce boolean writes are coalesced into superpackets (offload devices; option coalesce)
---@field tx_dropped integer batched or coalesced writes the kernel refused (dev:last_error() says why)
---@field io string what the loop reads and writes it with: "io_uring" or "read/write" (vnet.tun.io_batching)
local Device = {}

---The next waiting packet (the device's reused packet: copy() keeps it),
---nil when none waits, or nil, msg, errno.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open())
---local p = dev:read()   -- nil: nothing yet
---```
---@return vnet.Packet? pkt
---@return string? err
---@return integer? errno
function Device:read() end

---Write one packet (a packet or a string): the bytes written. Inside a
---loop callback the write may be queued to leave with the round's others
---(io_uring batching) or coalesced (offload devices): it then returns the
---bytes at once, and a refusal by the kernel later counts in
---`dev.tx_dropped` with its reason in `dev:last_error()`.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); assert(dev:up())
---dev:write(vnet.packet.build{ ipv4 = { src = "10.9.0.2", dst = "10.9.0.1" }, udp = {} })
---```
---@param pkt vnet.Packet|string
---@return integer? bytes
---@return string? err
---@return integer? errno
function Device:write(pkt) end

---The device's file descriptor, for another event loop (luv, cqueues).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); print(dev:fileno())
---```
---@return integer fd
function Device:fileno() end

---The same fd as fileno, for cqueues' polling protocol (`cqueues.poll(dev)`).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); print(dev:pollfd() == dev:fileno())   --> true
---```
---@return integer fd
function Device:pollfd() end

---"r": what to poll the fd for (cqueues' polling protocol).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); print(dev:events())   --> r
---```
---@return string events
function Device:events() end

---nil: a device has no timeout of its own (cqueues' polling protocol).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); print(dev:timeout())   --> nil
---```
---@return nil
function Device:timeout() end

---Close the device (safe twice); it is removed unless persistent. Also
---what `<close>` and garbage collection do.
---
---Example:
---```lua
---local dev = assert(vnet.tun.open()); dev:close()
---```
function Device:close() end

---Call fn(pkt, dev) from vnet.loop for each packet read; on a device that
---has a handler, swap it (nothing lost). pkt is the reused packet.
---With `{to = dev2}` the loop writes the packet after fn returns, and fn's
---result is a verdict: nil or true, on to dev2; false, dropped (counted in
---handler_drops); a device, to that one instead. A write the kernel
---refuses counts in that device's tx_dropped and last_error. A swap keeps
---`to` unless opts name it (`to = false`: none); a handler that waited
---(loop.sleep...) owns its packet and no verdict is read.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open())
---local w = dev:on_packet(function(pkt, dev) print(pkt) end)
---local other <close> = assert(vnet.tun.open())
---dev:on_packet(function(pkt) if #pkt > 1400 then return false end end, { to = other })
---w:stop()
---```
---@param fn fun(pkt: vnet.Packet, dev: vnet.Device): (boolean|vnet.Device)?
---@param opts? { to: vnet.Device|false } where the packets fn passes go
---@return vnet.Watcher watcher
function Device:on_packet(fn, opts) end

---In a task: the next packet read, or nil, "timeout" | "closed" (see
---vnet.loop.wait_packet).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open())
---vnet.loop.spawn(function() print(dev:wait_packet(1)) end)
---```
---@param timeout? number seconds
---@return vnet.Packet? pkt
---@return string? why
function Device:wait_packet(timeout) end

---Set the link up.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); assert(dev:up())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function Device:up() end

---Set the link down.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); assert(dev:down())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function Device:down() end

---The MTU, or set it to n.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); assert(dev:mtu(1400)); print(dev:mtu())
---```
---@param n? integer
---@return integer|true|nil mtu
---@return string? err
---@return integer? errno
function Device:mtu(n) end

---Add an address (see vnet.addr.add for the options: peer, ...).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); assert(dev:addr_add("10.9.0.1/24"))
---```
---@param cidr string "a.b.c.d/len" or "v6/len"
---@param opts? table
---@return true? ok
---@return string? err
---@return integer? errno
function Device:addr_add(cidr, opts) end

---Remove an address.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); dev:addr_add("10.9.0.1/24"); assert(dev:addr_del("10.9.0.1/24"))
---```
---@param cidr string
---@param opts? table
---@return true? ok
---@return string? err
---@return integer? errno
function Device:addr_del(cidr, opts) end

---The device's addresses (tables as vnet.addr.list gives them).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); for _, a in ipairs(dev:addrs()) do print(a.cidr) end
---```
---@return table[]? addrs
---@return string? err
---@return integer? errno
function Device:addrs() end

---The device as a vnet.Link object (kind, flags, stats, :set{...}).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); print(assert(dev:link()).kind)   --> tun
---```
---@return vnet.Link? link
---@return string? err
---@return integer? errno
function Device:link() end

---Counters: rx_packets, rx_bytes, tx_packets, tx_bytes, tx_dropped,
---handler_calls, handler_errors, handler_drops (verdict false),
---handler_time (s in on_packet), kept.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); print(dev:counters().rx_packets)
---```
---@return table counters
function Device:counters() end

---Keep copies of the last n packets read (0: off), each cut at snaplen
---bytes (2048); `dev:recent()` returns them.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); dev:keep(10)
---```
---@param n integer
---@param snaplen? integer
function Device:keep(n, snaplen) end

---The packets kept by `keep`, oldest first: `{ {packet =, time =, len =}, ... }`.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); dev:keep(10); print(#dev:recent())   --> 0
---```
---@return table[] recent
function Device:recent() end

---Record every packet read or written into a pcap file (vnet.pcap): a
---path (a new file), an open writer (shared), or false to stop.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open())
---local w <close> = assert(dev:capture("tun.pcap"))
---```
---@param target string|vnet.PcapWriter|false
---@param opts? table pcap.open's options
---@return vnet.PcapWriter|true|nil writer
---@return string? err
---@return integer? errno
function Device:capture(target, opts) end

---Replace the kernel filter: a tcpdump expression, or nil for none. On a
---TAP the driver drops what does not match; on a packet socket it is what
---the socket sees. A TUN takes none.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tap.open()); assert(dev:set_filter("arp"))
---```
---@param expr? string
---@return true? ok
---@return string? err
---@return integer? errno
function Device:set_filter(expr) end

---Of the last packet read on a packet socket: time, sec, nsec, wire_len,
---pkttype.
---
---Example:
---```lua
---local s <close> = assert(vnet.psock.open("lo")); print(s:info())
---```
---@return number time
---@return integer sec
---@return integer nsec
---@return integer wire_len
---@return integer pkttype
function Device:info() end

---Offload devices: take GSO writes (true), or split superpackets here
---(false), as vnet does by itself when the kernel refuses one.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open{ offload = true }); dev:set_gso_writes(false)
---```
---@param on boolean
function Device:set_gso_writes(on) end

---Offload devices (coalesce): write what the coalescer holds now.
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open{ offload = true }); assert(dev:flush())
---```
---@return true? ok
---@return string? err
---@return integer? errno
function Device:flush() end

---Why the kernel refused the last write that failed, as
---`"write tun0: Invalid argument", 22`, or nil when none failed since the
---last call (reading it clears it). A write queued in a loop callback
---(batched, or coalesced) returned its byte count and only counts in
---`dev.tx_dropped` when the kernel refuses it: this keeps its reason.
---Works on a closed device too (its close flushes what was queued).
---
---Example:
---```lua
---local dev <close> = assert(vnet.tun.open()); assert(dev:up())
---print(dev:write("\0\0\0\0"))   -- nil, write tun0: Invalid argument, 22
---print(dev:last_error())          -- write tun0: Invalid argument  22
---```
---@return string? err
---@return integer? errno
function Device:last_error() end

return tun
