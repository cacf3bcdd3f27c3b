--- vnet._batch: creating many links at once (link.create_many, every
-- kind's create_many, veth.create_many). The requests go to the kernel
-- many to a send, with NLM_F_ECHO, so that their acks and the new links'
-- descriptions come back together (core/linkbatch.c); a veth's peers are
-- read back in one more batch, straight from the namespaces they were made
-- in (IFLA_TARGET_NETNSID). All or nothing: when request k of n fails,
-- what the batch made is deleted and the error names k and the kernel's
-- reason: nil, "veth.create_many v3 (request 3 of 10): File exists", 17, 3.
local core = require "vnet.link.core"
local bcore = require "vnet.batch.core" -- create_many, get_many, delete_many
local nscore = require "vnet.netns.core"
local raise = require("vnet.nl.core").raise
local S = require "vnet._linkspec"

local B = {}
local function link() return require "vnet.link" end
local function session() return require "vnet.session" end

-- "op name: reason" -> "op name (request i of n): reason"; another
-- message (netns.open's...) goes after "op name (request i of n): "
local function label(err, p, i, n)
  if err:find("(request ", 1, true) then return err end
  local head = p.op .. " " .. p.name
  local tag = string.format(" (request %d of %d)", i, n)
  if err:sub(1, #head + 1) == head .. ":" then return head .. tag .. err:sub(#head + 1) end
  return head .. tag .. ": " .. err
end

-- Delete what requests made: made[i] is a link table, true (made in
-- another namespace, not echoed) or false/nil (not made).
local function rollback(preps, made, op)
  local idx, names = {}, {}
  for i, p in ipairs(preps) do
    local t = made[i]
    if type(t) == "table" and not p.target then
      idx[#idx + 1], names[#names + 1] = t.ifindex, p.name
    elseif t then
      local function del()
        local x = core.index(p.name, op)
        if x then core.delete(x, op, p.name) end
      end
      if p.target then p.target:run(del) else del() end
    end
  end
  if #idx > 0 then bcore.delete_many(idx, op, names) end
end

-- The body of every create_many: preps (from S.prepare), sent as one
-- batch. -> links, preps | nil, msg, errno, k
local function send(op, preps)
  local n = #preps
  local specs, names = {}, {}
  for i, p in ipairs(preps) do specs[i], names[i] = p.spec, p.name end
  local made, err, eno, k, partial = bcore.create_many(specs, op, names)
  if not made then
    rollback(preps, partial or {}, op)
    if k and k > 0 then
      local _
      _, err, eno = S.refused(preps[k], err, eno)
      return nil, label(err, preps[k], k, n), eno, k
    end
    return nil, err, eno, k
  end
  local ino = nscore.current_id()
  local ns = require("vnet.netns")._running(ino)
  local links = {}
  for i, p in ipairs(preps) do
    local l
    l, err, eno = S.made(p, made[i], ns, ino)
    if not l then
      rollback(preps, made, op)
      return nil, label(err, p, i, n), eno, i
    end
    links[i] = l
  end
  return links
end

-- Check and prepare every option table of list (misuse raises).
local function prepare(op, d, list)
  if type(list) ~= "table" then
    raise(string.format("%s: expected a list of option tables (got %s)", op, type(list)))
  end
  local preps, n = {}, #list
  for i = 1, n do
    if type(list[i]) ~= "table" then
      raise(string.format("%s: item %d: options must be a table (got %s)", op, i, type(list[i])))
    end
    local p, err, eno = S.prepare(op, d, list[i])
    if not p then return nil, label(err, { op = op, name = list[i].name }, i, n), eno, i end
    preps[i] = p
  end
  return preps
end

-- The kinds' `after` and the journal, for links made by one batch.
local function finish(preps, links, op, more)
  for i, p in ipairs(preps) do
    local ok, err, eno = S.after(p, links[i])
    if not ok then
      local made = {}
      for j, l in ipairs(links) do made[j] = { ifindex = l.ifindex } end
      rollback(preps, made, op)
      return nil, label(err, p, i, #preps), eno, i
    end
  end
  local own, J = session().own_link, require "vnet._journal"
  J._defer() -- the guardian's records: a few messages, not one per link
  local ok, err = pcall(function()
    for i, p in ipairs(preps) do
      own(links[i], p.o.persist)
      if more then more(i, p) end
    end
  end)
  J._flush()
  if not ok then error(err, 0) end
  return links
end

--- create_many(op, d, list) -> { link, ... } | nil, msg, errno, k
-- (link.create_many and <kind>.create_many)
function B.create_many(op, d, list)
  local preps, err, eno, k = prepare(op, d, list)
  if not preps then return nil, err, eno, k end
  local held <close> = session().hold() -- until they are in the journal
  local links
  links, err, eno, k = send(op, preps)
  if not links then return nil, err, eno, k end
  return finish(preps, links, op)
end

--- pair_create_many(M, op) -> function(list): for the kinds made as two
-- ends (veth, vxcan, netkit): -> { a, ... }, { b, ... } | nil, msg, errno, k
function B.pair_create_many(M, op)
  local d = M.descriptor
  return function(list)
    local preps, err, eno, k = prepare(op, d, list)
    if not preps then return nil, err, eno, k end
    local n = #preps
    local held <close> = session().hold()
    local as
    as, err, eno, k = send(op, preps)
    if not as then return nil, err, eno, k end
    -- the peers: one batch of gets, each in the peer's namespace as the
    -- new end sees it (netns_id); where that cannot be, one by one
    local idx, nsids, at, bs = {}, {}, {}, {}
    for i, p in ipairs(preps) do
      local a = as[i]
      local o = p.o
      if not p.target and a.parent and a.parent > 0 and (o.peer_netns == nil or a.netns_id) then
        idx[#idx + 1], nsids[#nsids + 1], at[#at + 1] = a.parent, a.netns_id or -1, i
      end
    end
    local ts = {}
    if #idx > 0 then
      ts, err, eno = bcore.get_many(idx, op, nsids)
      if not ts then
        local made = {}
        for i, a in ipairs(as) do made[i] = { ifindex = a.ifindex } end
        rollback(preps, made, op)
        return nil, err, eno
      end
    end
    local wrap, tons = link()._wrap, link()._tons
    for j, i in ipairs(at) do
      local a, o = as[i], preps[i].o
      if o.peer_netns ~= nil then
        local ns = preps[i].hold[1] or tons(op, o.peer_netns)
        bs[i] = wrap(ts[j], ns, ns:id())
      else
        bs[i] = wrap(ts[j], rawget(a, "netns"), rawget(a, "_nsino"))
      end
    end
    for i = 1, n do
      if not bs[i] then
        bs[i], err, eno = as[i]:peer()
        if not bs[i] then
          local made = {}
          for j, a in ipairs(as) do made[j] = { ifindex = a.ifindex } end
          rollback(preps, made, op)
          return nil, label(err, preps[i], i, n), eno, i
        end
      end
    end
    local own = session().own_link
    as, err, eno, k = finish(preps, as, op, function(i, p) own(bs[i], p.o.persist, as[i]) end)
    if not as then return nil, err, eno, k end
    return as, bs
  end
end

return B
