--- vnet.psock: a packet socket (AF_PACKET) on any link, in any namespace:
-- see and send the traffic of a veth, a bridge or its ports, a macvlan, an
-- ipvlan, a vlan, a vxlan, a TUN/TAP... as scapy's sniff/sendp and
-- tcpdump do.
--
--    local s <close> = assert(vnet.psock.open("veth0", { filter = "udp port 53" }))
--    s:on_packet(function(p, s) print(p) end)  -- p: the socket's one reused packet
--    s:write(frame)                            -- inject a frame on the link
--    vnet.loop.run()
--    print(s.rx_packets, s.drops)
--
-- psock.open(link [, opts]) -> socket | nil, msg, errno. link: a name, an
-- ifindex, or an object with name/ifindex (a vnet.link, a vnet.tun device).
-- Options (all optional):
--   netns      a namespace (object, `ip netns` name or pid) to open it in:
--              the socket stays bound to that namespace's link
--   promisc    promiscuous mode while the socket is open (default false)
--   direction  "both" (default), "in" (received by the link) or "out"
--              (sent by it): tested in the kernel
--   protocol   "all" (default), "ipv4", "ipv6", "arp", or an ethertype
--   filter     a tcpdump expression, compiled by libpcap for the link's
--              type and run in the kernel: packets that do not match never
--              enter the ring nor wake Lua. A bad one fails with libpcap's
--              message.
--   block_size bytes of one ring block, a power of 2 (default 256 KiB)
--   blocks     blocks in the ring (default 16: 4 MiB)
--   timeout    seconds after which a block that is not full is handed
--              over anyway (default 0.004)
--
-- The socket is a vnet device: read() (a packet, or nil when none waits),
-- write(packet | string) (bytes sent, or nil, msg, errno: EMSGSIZE for a
-- frame over the MTU), on_packet(fn), fileno(), pollfd()/events()/timeout()
-- (cqueues' polling protocol, docs/event-loops.md), close() (also <close> and
-- garbage collection), capture(path) (vnet.pcap), set_filter(expr | nil),
-- info() (time, sec, nsec, wire_len, pkttype of the last packet read).
-- Fields: name, ifindex, kind ("psock"), closed, rx_packets, tx_packets,
-- drops (the kernel's, PACKET_STATISTICS, summed), kernel_packets,
-- linktype (1 Ethernet, 101 raw IP: what a pcap file of it says),
-- direction, promisc, protocol, filter, block_size, blocks, block_timeout
-- (the timeout option).
-- Packets start at the link's header: Ethernet on veth, bridge, macvlan,
-- vxlan, vlan, TAP, loopback; the IP header on a TUN, ipvlan (l3) and IP
-- tunnels.
local core = require "vnet.psock.core"
local opts = require "vnet._opts"
local link = require "vnet.link"
require "vnet.dev"

local M = {}
local methods = core.methods

local PROTOCOLS = { all = core.ETH_P_ALL, ipv4 = 0x0800, ip = 0x0800,
  ipv6 = 0x86dd, arp = 0x0806 }
local DIRECTIONS = { both = true, ["in"] = true, out = true }

local spec = {
  netns = { "userdata", "string", "integer" }, promisc = "boolean",
  direction = "string", protocol = { "string", "integer" }, filter = "string",
  block_size = "integer", blocks = "integer", timeout = "number",
}

local function fail(msg, level) error("psock.open: " .. msg, level + 1) end

--- psock.open(link [, opts]) -> socket | nil, msg, errno
function M.open(l, o)
  local op = "psock.open"
  o = opts.check(op, o, spec)
  local target
  if math.type(l) == "integer" then
    if l < 1 or l > 0x7fffffff then fail("ifindex " .. l .. " out of range 1..2^31-1", 2) end
    target = l
  elseif type(l) == "string" then
    target = opts.ifname(op, l)
  elseif (type(l) == "table" or type(l) == "userdata") and type(l.name) == "string" then
    target = l.name
  else
    fail("expected a link name, ifindex or link object (got " .. type(l) .. ")", 2)
  end
  local proto = o.protocol or "all"
  if type(proto) == "string" then
    proto = PROTOCOLS[proto] or fail("protocol '" .. o.protocol ..
      "' (known: all, ipv4, ipv6, arp, or an ethertype)", 2)
  elseif proto < 1 or proto > 0xffff then
    fail("protocol " .. proto .. " out of range 1..65535", 2)
  end
  local dir = o.direction or "both"
  if not DIRECTIONS[dir] then fail("direction '" .. dir .. "' (known: both, in, out)", 2) end
  local bs, nr = o.block_size or 262144, o.blocks or 16
  if bs < 4096 or bs > 1 << 26 or bs & (bs - 1) ~= 0 then
    fail("block_size " .. bs .. " is not a power of 2 from 4096 to 64 MiB", 2)
  end
  if nr < 2 or nr > 4096 or bs * nr > 1 << 31 then
    fail("blocks " .. nr .. " out of range (2 to 4096, at most 2 GiB in all)", 2)
  end
  local t = o.timeout or 0.004
  if t ~= t or t < 0.001 or t > 60 then fail("timeout must be 0.001 to 60 seconds", 2) end
  if o.filter and (o.filter:find("\0", 1, true) or #o.filter > 1000) then
    fail("filter must be a string of at most 1000 bytes without NUL", 2)
  end
  local args = { target, proto, o.promisc, dir, o.filter, bs, nr, math.floor(t * 1000 + 0.5), op }
  if o.netns == nil then return core.open(table.unpack(args, 1, 9)) end
  local ns, err, eno = link._tons(op, o.netns, 3)
  if not ns then return nil, err, eno end
  return ns:run(core.open, table.unpack(args, 1, 9))
end

--- s:info() -> time, sec, nsec, wire_len, pkttype of the last packet read
methods.info = core.info

--- dev:set_filter(expr | nil) -> true | nil, msg, errno: a tcpdump expression
-- run in the kernel. On a packet socket it replaces the open's filter; on
-- a TAP device (TUNATTACHFILTER; the kernel takes none on a TUN) the
-- driver then drops every frame the expression does not match before it
-- reaches the device's queue (the link's tx_dropped counts them): they are
-- lost, not merely unseen.
function methods.set_filter(dev, expr)
  if expr ~= nil and type(expr) ~= "string" then
    error("set_filter: expression must be a string or nil (got " .. type(expr) .. ")", 2)
  end
  if dev.kind == "psock" then return core.filter(dev, expr) end
  local ok, err, eno = require("vnet.bpf.core").tun_filter(dev, expr)
  if ok then dev.filter = expr end
  return ok, err, eno
end

--- psock.compile(expr [, "eth" | "raw"]) -> { "(000) ldh [12]", ... } (as
-- tcpdump -d prints it) | nil, msg, errno: what the kernel would run
function M.compile(expr, linktype)
  if type(expr) ~= "string" then
    error("psock.compile: expression must be a string (got " .. type(expr) .. ")", 2)
  end
  return require("vnet.bpf.core").compile(expr, linktype)
end

M.libpcap_version = require("vnet.bpf.core").version()

return M
