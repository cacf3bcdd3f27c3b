--- vnet.tun: TUN devices (layer 3: IP packets); vnet.tap is the same for
-- TAP devices (layer 2: Ethernet frames).
--
--    local dev <close> = assert(vnet.tun.open{name = "tun-default"})
--    dev:addr_add("1.1.1.1/32")
--    dev:up()
--    dev:on_packet(function(pkt, dev) print(#pkt) end)
--    vnet.loop.run()
--
-- Options of open (all optional):
--   name         interface name, at most 15 bytes; may hold "%d".
--                Without it the kernel picks tun0, tun1, ... (tap0, ...).
--   pi           keep the 4-byte packet-information header: packets then
--                carry `pi_flags` and `pi_proto` fields (default false).
--   vnet_hdr     IFF_VNET_HDR (default false).
--   multi_queue  allow several opens of one name, one fd per queue.
--   persist      the device outlives the fd; reopen it by name, remove it
--                with vnet.tun.delete(name).
--   owner, group user/group (id or name) allowed to open a persistent
--                device without CAP_NET_ADMIN.
--   offload      IFF_VNET_HDR + TUNSETOFFLOAD (checksum, TSO4/6, ECN, and
--                UDP segmentation where the kernel takes it; dev.offload
--                lists what it took). Reads then carry superpackets of up
--                to 64 KiB. See docs/offload.md.
--   segments     with offload (default true): hand Lua each segment of a
--                superpacket as an ordinary packet; false: Lua sees whole
--                superpackets (fields gso_type, gso_size, csum_start,
--                csum_offset, needs_csum) and writes them whole.
--   coalesce     with offload (default true): runs of TCP segments and of
--                same-sized UDP datagrams of one flow that Lua writes in a
--                dispatch round leave as one superpacket (GRO on write;
--                UDP needs Linux 6.2's USO); false: every write is one.
--   filter       TAP only: a tcpdump expression (compiled by libpcap,
--                attached with TUNATTACHFILTER): the kernel DROPS every
--                frame sent into the device that does not match, before
--                it reaches the queue (the link's tx_dropped counts them).
--                Change it with dev:set_filter(expr | nil); dev.filter
--                holds it. The kernel refuses filters on a TUN.
--
-- open returns a device, or nil, "tun.open NAME: reason (what to do)", errno.
-- Closing the device (dev:close(), a <close> variable, or garbage
-- collection) removes it, unless persist was set.
--
-- Device fields: name, ifindex, kind ("tun"/"tap"), closed, pi, vnet_hdr,
-- multi_queue, persist, rx_packets, tx_packets. Methods: read, write,
-- fileno, close, on_packet, up, down, mtu, addr_add, addr_del, addrs
-- (see vnet.dev); pollfd, events, timeout (docs/event-loops.md).
local core = require "vnet.tun.core"
local raise = require("vnet.nl.core").raise -- misuse: raise at the user's line
local opts = require "vnet._opts"
require "vnet.dev"

local spec = {
  name = "string", pi = "boolean", vnet_hdr = "boolean",
  multi_queue = "boolean", persist = "boolean",
  owner = { "integer", "string" }, group = { "integer", "string" },
  offload = "boolean", segments = "boolean", coalesce = "boolean", filter = "string",
}

local function module(kind)
  local M = {}

  --- open([{options}] | name) -> device | nil, msg, errno
  function M.open(o)
    local op = kind .. ".open"
    if type(o) == "string" then o = { name = o } end
    o = opts.check(op, o, spec)
    if o.name ~= nil then opts.ifname(op, o.name, true) end
    if o.filter ~= nil and kind ~= "tap" then
      raise(op .. ": option 'filter' is for TAP devices only (the kernel's TUNATTACHFILTER " ..
        "takes no TUN); use vnet.psock.open(dev, {filter = ...}) to see a TUN's packets")
    end
    for _, k in ipairs { "segments", "coalesce" } do
      if o[k] ~= nil and not o.offload then
        raise(op .. ": option '" .. k .. "' needs offload = true")
      end
    end
    local dev, err, eno = core.open(kind, o.name, o.pi, o.vnet_hdr, o.multi_queue,
      o.persist, o.owner, o.group, o.offload, o.segments ~= false, o.coalesce ~= false)
    if dev and o.filter then
      local ok
      ok, err, eno = require("vnet.bpf.core").tun_filter(dev, o.filter)
      if not ok then dev:close(); return nil, op .. " " .. err, eno end
      dev.filter = o.filter
    end
    return dev, err, eno
  end

  --- delete(name) -> true | nil, msg, errno: remove a persistent device
  -- that no process holds open.
  function M.delete(name)
    opts.ifname(kind .. ".delete", name)
    return core.delete(name, kind .. ".delete")
  end

  --- features() -> the IFF_* flags this kernel's tun driver supports
  M.features = core.features

  --- io_batching([on]) -> "io_uring" | "read/write", reason | nil, calls,
  -- ops: how the loop's drains read and its rounds write every device (one
  -- io_uring call for many packets, or a system call each). false turns
  -- batching off for the process, true tries it again; reason says why
  -- io_uring is not in use when the kernel refused it (seccomp, old kernel,
  -- kernel.io_uring_disabled; VNET_NO_URING=1 in the environment turns it
  -- off from the start); calls and ops count the io_uring calls made so
  -- far and the reads and writes they carried.
  function M.io_batching(on)
    if on ~= nil and type(on) ~= "boolean" then
      raise(kind .. ".io_batching: expected a boolean (got " .. type(on) .. ")")
    end
    return core.io_batching(on)
  end
  return M
end

local M = module("tun")
M._module = module
return M
