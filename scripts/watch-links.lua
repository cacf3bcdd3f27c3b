#!/usr/bin/env vnet
--- watch-links.lua: print the kernel's link and address events as they
-- happen, until Ctrl-C (or `seconds`).
--
--   vnet scripts/watch-links.lua [seconds]      watch this namespace
--   vnet --sandbox scripts/watch-links.lua demo make some changes in a
--                                                fresh namespace and watch
--                                                them (no root needed
--                                                where user namespaces are
--                                                allowed)
-- In another shell, `ip link add v0 type veth peer name v1`, `ip addr add
-- 10.0.0.1/24 dev v0`, `ip link del v0` show up as they happen. If the
-- kernel had to drop events (the socket's buffer overflowed) you see one
-- "resync" line with what changed meanwhile.
local vnet = require "vnet"
local demo = arg[1] == "demo"
local seconds = demo and 3 or tonumber(arg[1])

local function show(ev)
  if ev.type == "link" then
    local l = ev.link
    print(string.format("link %-6s %-10s ifindex %-3d kind %-8s %s mtu %d", ev.action, ev.name,
      ev.ifindex, l.kind or l.link_type, l.up and "up" or "down", l.mtu or 0))
  elseif ev.type == "addr" then
    print(string.format("addr %-6s %-10s %s", ev.action, ev.name or ("#" .. ev.ifindex), ev.addr.cidr))
  elseif ev.type == "resync" then
    print(string.format("resync: events were lost; %d links now (added: %s; removed: %s)", #ev.links,
      table.concat(ev.added, " "), table.concat(ev.removed, " ")))
  end
  io.stdout:flush()
end

local w <close> = assert(vnet.link.watch(show))
print("watching links and addresses" .. (seconds and (" for " .. seconds .. " s") or "; Ctrl-C ends"))
io.stdout:flush()

if demo then
  vnet.loop.after(0.2, function()
    local a = assert(vnet.veth.create("demo0", "demo1"))
    assert(a:set { up = true, mtu = 1400 })
    assert(a:addr_add("10.70.0.1/24"))
    vnet.loop.after(0.3, function()
      assert(a:addr_del("10.70.0.1/24"))
      assert(a:delete())
    end)
  end)
end
local _, why = vnet.loop.run { timeout = seconds }
print("stopped (" .. tostring(why) .. ")")
