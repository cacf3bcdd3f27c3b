---@meta vnet.tc

---vnet.tc: kernel traffic control through libnl-route: netem (delay, loss,
---duplication, reordering, corruption, rate), tbf and htb rate limits, and
---the ingress qdisc with a redirect to an ifb device so that ingress can
---be shaped too. Units as tc(8): times in ms (a number) or text ("50ms",
---"1.5s"); probabilities in percent; rates in bit/s or text ("10mbit");
---sizes in bytes or text ("32kb"). netem, tbf and htb replace the root
---qdisc, so applying the same settings twice changes nothing.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("t0", "t1"))
---assert(vnet.tc.netem("t0", { delay = "50ms", jitter = "5ms", loss = 1 }))
---for _, q in ipairs(assert(vnet.tc.list("t0"))) do print(q.kind, q.handle) end
---```
---@class vnet.tc
local tc = {}

---The options each qdisc kind takes (read by vnet.topo to check a
---description).
---@type table<string, table>
tc.options = nil

---A handle as a number: "1:10" is 0x10010; "root", "ingress", "none" and
---integers too.
---
---Example:
---```lua
---print(string.format("%x", vnet.tc.handle("1:10")))   --> 10010
---```
---@param v string|integer
---@return integer handle
function tc.handle(v) end

---A handle as tc prints it: 0x10010 is "1:10".
---
---Example:
---```lua
---print(vnet.tc.handle_text(0x10010))   --> 1:10
---```
---@param h integer
---@return string
function tc.handle_text(h) end

---Replace the root qdisc (or the one at parent) with netem: delay, jitter,
---delay_correlation, loss, loss_correlation, duplicate,
---duplicate_correlation, reorder (needs a delay), reorder_correlation,
---gap, corrupt, corrupt_correlation, rate, limit, parent, handle.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("ne0", "ne1"))
---assert(vnet.tc.netem(a, { delay = 20, loss = "0.5%" }))
---```
---@param dev string|integer|table
---@param opts table
---@return true? ok
---@return string? err
---@return integer? errno
function tc.netem(dev, opts) end

---A token bucket at the root: rate (required), burst (default 10 ms of
---rate, at least 1600 bytes), latency (50 ms) or limit, peakrate, mtu,
---parent, handle.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("tb0", "tb1"))
---assert(vnet.tc.tbf(a, { rate = "10mbit", burst = "32kb" }))
---```
---@param dev string|integer|table
---@param opts table
---@return true? ok
---@return string? err
---@return integer? errno
function tc.tbf(dev, opts) end

---A root htb qdisc (1:) whose traffic all goes to one class 1:1 limited
---to rate, borrowing up to ceil: rate, ceil, burst, cburst, prio.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("hb0", "hb1"))
---assert(vnet.tc.htb(a, { rate = "100mbit", ceil = "200mbit" }))
---```
---@param dev string|integer|table
---@param opts table
---@return true? ok
---@return string? err
---@return integer? errno
function tc.htb(dev, opts) end

---A qdisc of a kind vnet describes (netem, tbf, htb, pfifo, bfifo),
---replacing: kind, parent, handle and the kind's options. pfifo and bfifo
---need their limit (packets, bytes); any other kind raises.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("qd0", "qd1"))
---assert(vnet.tc.qdisc(a, { kind = "tbf", rate = "1mbit", burst = "32kb", latency = 50 }))
---assert(vnet.tc.qdisc(a, { kind = "pfifo", limit = 100 }))
---```
---@param dev string|integer|table
---@param opts table
---@return true? ok
---@return string? err
---@return integer? errno
function tc.qdisc(dev, opts) end

---An htb class: parent, classid, rate, ceil, burst, cburst, prio.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("cl0", "cl1"))
---assert(vnet.tc.htb(a, { rate = "100mbit" }))
---assert(vnet.tc.class(a, { parent = "1:1", classid = "1:20", rate = "10mbit" }))
---```
---@param dev string|integer|table
---@param opts table
---@return true? ok
---@return string? err
---@return integer? errno
function tc.class(dev, opts) end

---Add the ingress qdisc (ffff:).
---
---Example:
---```lua
---local a = assert(vnet.veth.create("in0", "in1")); assert(vnet.tc.ingress(a))
---```
---@param dev string|integer|table
---@return true? ok
---@return string? err
---@return integer? errno
function tc.ingress(dev) end

---The filters with an action at parent (default: the ingress qdisc):
---`{ {kind, prio, action, to = ifindex}, ... }`.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("fl0", "fl1")); vnet.tc.ingress(a)
---print(#assert(vnet.tc.filters(a)))   --> 0
---```
---@param dev string|integer|table
---@param parent? string|integer
---@return table[]? filters
---@return string? err
---@return integer? errno
function tc.filters(dev, parent) end

---Everything arriving on dev goes to `to` (an ifb, typically) through the
---ingress qdisc and a u32 filter with a mirred action; mirror = true
---copies instead. Nothing is added when dev already redirects there.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("rd0", "rd1")); local i = assert(vnet.ifb.create{ name = "ifb9" })
---assert(vnet.tc.redirect(a, i))
---```
---@param dev string|integer|table
---@param to string|integer|table
---@param opts? {mirror?: boolean, prio?: integer}
---@return true? ok
---@return string? err
---@return integer? errno
function tc.redirect(dev, to, opts) end

---Remove a qdisc ("root", the default; "ingress"; or a handle) and what
---hangs below it.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("rm0", "rm1")); vnet.tc.ingress(a)
---assert(vnet.tc.remove(a, "ingress"))
---```
---@param dev string|integer|table
---@param which? string|integer
---@return true? ok
---@return string? err
---@return integer? errno
function tc.remove(dev, which) end

---Remove the root and ingress qdiscs (the device falls back to its
---default); nothing there is fine.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("cr0", "cr1")); assert(vnet.tc.clear(a))
---```
---@param dev string|integer|table
---@return true? ok
---@return string? err
---@return integer? errno
function tc.clear(dev) end

---The qdiscs of dev (every device's without): dev, ifindex, kind, handle
---("8001:"), parent ("root", "ingress", "1:1"), root, and the options in
---the units above.
---
---Example:
---```lua
---for _, q in ipairs(assert(vnet.tc.list("lo"))) do print(q.kind, q.parent) end
---```
---@param dev? string|integer|table
---@return table[]? qdiscs
---@return string? err
---@return integer? errno
function tc.list(dev) end

---The classes of dev: `{ {kind, classid = "1:1", parent, rate, ceil, ...}, ... }`.
---
---Example:
---```lua
---local a = assert(vnet.veth.create("cs0", "cs1")); vnet.tc.htb(a, { rate = "1mbit" })
---for _, c in ipairs(assert(vnet.tc.classes(a))) do print(c.classid, c.rate) end
---```
---@param dev string|integer|table
---@return table[]? classes
---@return string? err
---@return integer? errno
function tc.classes(dev) end

return tc
