--- vnet._restore: the journal's hooks for what a module does (vnet._journal
-- keeps the entries): addresses, routes and neighbours added, and changes
-- to links the session did not make (fields, namespace, bridge-port
-- options), each with its undo record (vnet._undo).
local U = require "vnet._undo"
local lcore = require "vnet.link.core"
local nscore = require "vnet.netns.core"
local nl = require "vnet.nl.core"

return function(M, I)
  local S, key, links, kept, place, where = I.S, I.key, I.links, I.kept, I.place, I.where
  local drop, ns_label, netns = I.drop, I.ns_label, I.netns

  -- The entry of the link we made at k, if the link there now is it: a
  -- namespace's inode number comes back after it ends, so an entry left
  -- from a link in an ended anonymous namespace may sit at the same key as
  -- another link now (its name tells): that entry is dead, drop it.
  local function ours(k, name)
    local own = links[k]
    if own and own.name ~= name then I.supersede(k); own = nil end
    if kept[k] ~= nil and kept[k] ~= true and kept[k] ~= name then kept[k] = nil end
    return own
  end

  --- own_addr(cidr, ifindex, name): an address added to a link
  function M.own_addr(cidr, idx, name)
    local t, body = U.addr(cidr)
    return M.own("addr", cidr, idx, "addr.del " .. name .. " " .. cidr, t, body)
  end

  --- own_route(s, name): a route added (s: route.lua's spec)
  function M.own_route(s, name)
    local t, body = U.route(s)
    return M.own("route", name, s.dev, "route.del " .. name, t, body)
  end

  --- own_neigh(dst, ifindex, name, proxy): a neighbour added
  function M.own_neigh(dst, idx, name, proxy)
    local t, body = U.neigh(dst, proxy)
    return M.own("neigh", dst, idx, "neigh.del " .. name .. " " .. dst, t, body)
  end

  -- A change refused (no CAP_NET_ADMIN, a bad value) changed nothing: the
  -- record of e is applied only when a field of back differs now.
  local function only_if_changed(e, idx, back, field)
    if not e then return end
    local apply = e.undo
    e.undo = function()
      local now = lcore.get(idx, "session.undo", e.name)
      if not now then return true end
      for f, v in pairs(back) do
        if field(now, f) ~= v then return apply() end
      end
      return true
    end
  end

  local restorable = { "mtu", "up", "name", "address", "txqueuelen", "master" }

  local function shown(t, back)
    local out = {}
    for f, v in pairs(back) do out[#out + 1] = f .. "=" .. (f == "address" and t.address or tostring(v)) end
    table.sort(out)
    return "{" .. table.concat(out, ", ") .. "}"
  end

  --- session.changing(obj, ifindex, name, o): before link.set changes a link:
  -- a link the session did not make gets an entry that sets it back (a
  -- move to another namespace: see session.changed).
  function M.changing(obj, idx, name, o)
    if S.keeping or S.finished then return end
    local home, homeino = I.home()
    local k = key(obj and rawget(obj, "_nsino") or nscore.current_id(), idx)
    local own = ours(k, name) -- (and a stale kept[k] goes)
    if own then
      if o.name or o.netns then M._moving = { own, obj } end
      return
    end
    if kept[k] then return end
    local t = lcore.get(idx, "session", name)
    if not t then return end
    if o.netns ~= nil then -- where it is now, to come back to, by its name
      local ino = nscore.current_id()
      local from = place({}, obj and rawget(obj, "netns"), ino)
      from.ns = ino == homeino and home or (from.nsw and from.nsw[1]) or netns().current()
      M._moving = { false, obj, name = t.name, from = from }
    end
    local back = {}
    for _, f in ipairs(restorable) do
      if o[f] ~= nil or (f == "master" and o.nomaster) then
        if f == "master" then back.master = t.master or 0
        elseif f == "address" then back.address = t.address and nl.mac(t.address)
        else back[f] = t[f] end
      end
    end
    if next(back) == nil then return end
    local rt, body = U.restore(back)
    only_if_changed(M.own("restore", t.name, idx, "link.set " .. t.name .. " " .. shown(t, back),
      rt, body, nil, obj and rawget(obj, "netns")), idx, back, function(now, f)
      local cur = now[f]
      if f == "master" then return cur or 0 elseif f == "address" then return cur and nl.mac(cur) end
      return cur
    end)
  end

  --- session.changed(obj, target, newname): after link.set (obj read
  -- back): an owned link that was renamed or moved is journaled again under
  -- its new name and place; a link it did not make, moved into target, gets
  -- the entry that moves it back.
  function M.changed(obj, target, newname)
    local m = M._moving
    M._moving = nil
    if not m or m[2] ~= obj then return end
    if m[1] then
      if obj then drop(m[1]); M.own_link(obj) end
      return
    end
    if not target then return end
    local from = m.from
    local toref = where({ nsino = from.nsino, path = from.path, nsw = { from.ns } }, true) or "?"
    local rt, body = U.move(from.nsino, toref, m.name)
    target:run(function()
      local t = obj or lcore.get(newname, "session", newname)
      if t then
        M.own("move", m.name, t.ifindex, "link.set " .. t.name .. " {netns=" ..
          (from.nsname or ns_label(from)) .. "}", rt, body, from.ns, target)
      end
    end)
  end

  --- session.changing_port(obj, ifindex, name, o, desc): before bridge.port
  -- sets port options of a link the session did not make: an entry that
  -- sets the old values back (desc: the port options' description).
  function M.changing_port(obj, idx, name, o, desc)
    if S.keeping or S.finished then return end
    I.home()
    local k = key(obj and rawget(obj, "_nsino") or nscore.current_id(), idx)
    if ours(k, name) or kept[k] then return end
    local t = lcore.get(idx, "session", name)
    if not t or not t.slave_data then return end
    local kinds = require "vnet._kinds"
    local cur, back = kinds.decode(desc.options, t.slave_data), {}
    for f in pairs(o) do back[f] = cur[f] end
    local items = next(back) and kinds.encode({ op = "session", name = name }, desc, back, true)
    local rt, body = U.port(items or {})
    if rt then
      only_if_changed(M.own("port", t.name, idx, "bridge.port " .. t.name .. " " .. shown(t, back),
        rt, body, nil, obj and rawget(obj, "netns")), idx, back, function(now, f)
        return kinds.decode(desc.options, now.slave_data)[f]
      end)
    end
  end

end
