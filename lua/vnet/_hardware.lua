--- vnet._hardware: link kinds that stack on a kind of hardware vnet cannot
-- make (6LoWPAN on an IEEE 802.15.4 radio, IPoIB on an InfiniBand port,
-- rmnet on a Qualcomm modem's raw-IP link). Each is a kind like any other,
-- but before asking the kernel it checks the parent's link type, so that
-- on a machine without such hardware the error says so plainly instead
-- of the kernel's bare "Invalid argument".
local H = {}

--- define{kind =, needs = {link_type, ...}, what =, options =, probe_hint =}
function H.define(d)
  local needs = {}
  for _, t in ipairs(d.needs) do needs[t] = true end
  d.parent = "required"
  d.lane = { hardware = d.what }
  d.before = function(op, name, o)
    local link = require "vnet.link"
    local p, err, eno = link.get(o.link)
    if not p then return nil, err, eno end
    if not needs[p.link_type] then
      return nil, string.format("%s %s: the parent '%s' has link type %s; %s needs %s, which vnet " ..
        "cannot make (see docs/links.md)", op, name, p.name, p.link_type, d.kind, d.what), 19
    end
    return true
  end
  return require("vnet._kinds").define(d)
end

return H
