--- vnet.bond: several links (slaves) acting as one, for redundancy or
-- bandwidth.
--
--    local b = assert(vnet.bond.create{ name = "bond0", mode = "active-backup",
--                                       miimon = 100, slaves = { "veth0", "veth2" } })
--    assert(b:add_slave("veth4"))
--    for _, s in ipairs(b:slaves()) do print(s.name, s.port.state) end
--
-- Options, besides link.create's (the l:set{} ones marked *):
--    mode   "balance-rr" (the default), "active-backup", "balance-xor",
--           "broadcast", "802.3ad", "balance-tlb", "balance-alb" *
--    miimon, updelay, downdelay (ms) *, min_links *, primary (a slave) *
--    xmit_hash_policy "layer2" | "layer3+4" | "layer2+3" | "encap2+3" |
--           "encap3+4" | "vlan+srcmac" *, lacp_rate "slow" | "fast" *
--    slaves {link, ...}: enslaved once the bond exists (each is set down
--           first, as the kernel wants); if one fails the bond is deleted
-- A slave's own state is read back in l.port (state, mii_status, ...).
local kinds = require "vnet._kinds"

local methods = {}
local function link() return require "vnet.link" end

--- b:add_slave(l) -> true | nil, msg, errno (l is set down, then enslaved)
function methods.add_slave(b, l)
  local L = link()
  local set = L.is(l) and function(o) return l:set(o) end or function(o) return L.set(l, o) end
  local ok, err, eno = set { up = false }
  if ok then ok, err, eno = set { master = b.ifindex } end
  if not ok then return nil, (err:gsub("^link.set", "bond.add_slave")), eno end
  return true
end

--- b:remove_slave(l) -> true | nil, msg, errno
function methods.remove_slave(b, l)
  local L = link()
  local ok, err, eno
  if L.is(l) then ok, err, eno = l:set { nomaster = true } else ok, err, eno = L.set(l, { nomaster = true }) end
  if not ok then return nil, (err:gsub("^link.set", "bond.remove_slave")), eno end
  return true
end

--- b:slaves() -> { link, ... } | nil, msg, errno
function methods.slaves(b)
  local L = link()
  return L._within(b, "bond.slaves", function()
    local all, err, eno = L.list()
    if not all then return nil, err, eno end
    local out = {}
    for _, l in ipairs(all) do if l.master == b.ifindex then out[#out + 1] = l end end
    return out
  end)
end

--- bond.create{name =, mode =, miimon =, slaves = {...}, ...} -> link | nil, msg, errno
return kinds.define {
  lane = { modules = { "bonding" }, probe = "type bond mode active-backup" },
  kind = "bond",
  options = {
    mode = { attr = 1, fmt = "u8", change = true, enum = {
      ["balance-rr"] = 0, ["active-backup"] = 1, ["balance-xor"] = 2, broadcast = 3,
      ["802.3ad"] = 4, ["balance-tlb"] = 5, ["balance-alb"] = 6 } },
    miimon = { attr = 3, fmt = "u32", change = true },
    updelay = { attr = 4, fmt = "u32", change = true },
    downdelay = { attr = 5, fmt = "u32", change = true },
    primary = { attr = 11, fmt = "link", change = true },
    xmit_hash_policy = { attr = 14, fmt = "u8", change = true, enum = {
      layer2 = 0, ["layer3+4"] = 1, ["layer2+3"] = 2, ["encap2+3"] = 3, ["encap3+4"] = 4,
      ["vlan+srcmac"] = 5 } },
    min_links = { attr = 18, fmt = "u32", change = true },
    lacp_rate = { attr = 21, fmt = "u8", change = true, enum = { slow = 0, fast = 1 } },
    slaves = { virtual = true, type = "table" },
  },
  port_options = {
    state = { attr = 1, fmt = "u8", enum = { active = 0, backup = 1 } },
    mii_status = { attr = 2, fmt = "u8", enum = { up = 0, fail = 1, down = 2, back = 3 } },
    link_failure_count = { attr = 3, fmt = "u32" },
    perm_hwaddr = { attr = 4, fmt = "mac" },
    queue_id = { attr = 5, fmt = "u16" },
  },
  methods = methods,
  after = function(b, o)
    for _, s in ipairs(o.slaves or {}) do
      local ok, err, eno = methods.add_slave(b, s)
      if not ok then return nil, (err:gsub("^bond.add_slave", "bond.create " .. b.name .. ": slave")), eno end
    end
    return true
  end,
}

