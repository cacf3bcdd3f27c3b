--- vnet._toposhow: a topology as text, JSON and Graphviz DOT, and pingall.
local live = require "vnet._topolive"
local raise = require("vnet._caller").raise

local M = {}

-- The live picture of a topology: for each node its interfaces (kind,
-- peer, mtu, MAC, addresses, qdisc) and routes, read from the kernel.
local function snapshot(T)
  local D = T.desired
  local out = { name = T.name, nodes = {} }
  for _, nn in ipairs(D.order) do
    local N = D.nodes[nn]
    local n = T.nodes[nn]
    local S = n.netns and live.read_node(n.netns, {}) or { links = {}, addrs = {}, routes = {}, tc = {} }
    local node = { name = nn, kind = N.kind, namespace = N.ns, interfaces = {}, routes = {} }
    for _, ifn in ipairs(N.iforder) do
      local I, l = N.ifaces[ifn], S.links[ifn]
      local addrs = {}
      for a in pairs(S.addrs[ifn] or {}) do addrs[#addrs + 1] = a end
      table.sort(addrs)
      local q = S.tc[ifn]
      local vlans -- a switch port's that lists them: "10 pvid untagged", ...
      if I.vlans and S.vlans and S.vlans[ifn] then
        local vids = {}
        for vid in pairs(S.vlans[ifn]) do vids[#vids + 1] = vid end
        table.sort(vids)
        vlans = setmetatable({}, M.array)
        for k, vid in ipairs(vids) do
          local v = S.vlans[ifn][vid]
          vlans[k] = vid .. (v.pvid and " pvid" or "") .. (v.untagged and " untagged" or "")
        end
      end
      node.interfaces[#node.interfaces + 1] = {
        name = ifn, kind = I.kind, up = l and l.up or false, mtu = l and l.mtu, mac = l and l.address,
        peer = I.peer and (I.peer.node .. ":" .. I.peer.name), remote = I.create.remote,
        parent = I.create.link, master = I.master, addrs = addrs, ingress_to = I.redirect, vlans = vlans,
        qdisc = q and { kind = q.kind, delay = q.delay, jitter = q.jitter, loss = q.loss,
          rate = q.rate or (q.class and q.class.rate) } or nil,
      }
    end
    local dsts = {}
    for dst in pairs(S.routes) do dsts[#dsts + 1] = dst end
    table.sort(dsts)
    for _, dst in ipairs(dsts) do
      local r = S.routes[dst]
      node.routes[#node.routes + 1] = { dst = dst:gsub("^default6$", "default"), via = r.via, dev = r.dev }
    end
    out.nodes[#out.nodes + 1] = node
  end
  return out
end
M.snapshot = snapshot

local function qtext(q)
  if not q then return nil end
  local parts = { q.kind }
  if q.delay and q.delay > 0 then parts[#parts + 1] = "delay " .. q.delay .. "ms" end
  if q.jitter and q.jitter > 0 then parts[#parts + 1] = "jitter " .. q.jitter .. "ms" end
  if q.loss and q.loss > 0 then parts[#parts + 1] = "loss " .. q.loss .. "%" end
  if q.rate and q.rate > 0 then
    local r, unit = q.rate, "bit"
    for _, u in ipairs { { 1e9, "gbit" }, { 1e6, "mbit" }, { 1e3, "kbit" } } do
      if r >= u[1] then r, unit = r / u[1], u[2]; break end
    end
    parts[#parts + 1] = string.format("rate %g%s", r, unit)
  end
  return table.concat(parts, " ")
end

--- t:summary() -> text: nodes, interfaces, addresses, qdiscs, routes
local function summary(T)
  local s = snapshot(T)
  local lines = { string.format("topology %s: %d nodes", s.name, #s.nodes) }
  for _, n in ipairs(s.nodes) do
    lines[#lines + 1] = string.format("%s (%s, namespace %s)", n.name, n.kind, n.namespace)
    for _, i in ipairs(n.interfaces) do
      local to = i.peer and ("-> " .. i.peer) or i.remote and ("-> " .. i.remote) or i.parent and ("on " .. i.parent) or ""
      local parts = { "  " .. i.name, i.kind, to, i.up and "up" or "DOWN" }
      if i.mtu then parts[#parts + 1] = "mtu " .. i.mtu end
      if i.master then parts[#parts + 1] = "port of " .. i.master end
      if i.vlans then parts[#parts + 1] = "vlans " .. (#i.vlans > 0 and table.concat(i.vlans, ", ") or "none") end
      if #i.addrs > 0 then parts[#parts + 1] = table.concat(i.addrs, " ") end
      if i.qdisc then parts[#parts + 1] = "[" .. qtext(i.qdisc) .. "]" end
      if i.ingress_to then parts[#parts + 1] = "[ingress -> " .. i.ingress_to .. "]" end
      local line = {}
      for _, p in ipairs(parts) do if p ~= "" then line[#line + 1] = p end end
      lines[#lines + 1] = table.concat(line, " ")
    end
    for _, r in ipairs(n.routes) do
      lines[#lines + 1] = "  route " .. r.dst .. (r.via and (" via " .. r.via) or "") .. (r.dev and (" dev " .. r.dev) or "")
    end
  end
  return table.concat(lines, "\n")
end

-- ---- JSON (the host has no JSON library of its own) ------------------------

local function encode(v, out)
  local t = type(v)
  if t == "table" then
    if #v > 0 or next(v) == nil and getmetatable(v) == M.array then
      out[#out + 1] = "["
      for i, x in ipairs(v) do
        if i > 1 then out[#out + 1] = "," end
        encode(x, out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        encode(k, out)
        out[#out + 1] = ":"
        encode(v[k], out)
      end
      out[#out + 1] = "}"
    end
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif t == "number" then
    out[#out + 1] = (v ~= v or v == math.huge or v == -math.huge) and "null"
      or math.type(v) == "integer" and tostring(v) or string.format("%.14g", v)
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  else
    out[#out + 1] = "null"
  end
end
M.array = {}

--- t:json() -> the summary as JSON text
local function json(T)
  local s = snapshot(T)
  for _, n in ipairs(s.nodes) do
    setmetatable(n.interfaces, M.array); setmetatable(n.routes, M.array)
    for _, i in ipairs(n.interfaces) do setmetatable(i.addrs, M.array) end
  end
  setmetatable(s.nodes, M.array)
  local out = {}
  encode(s, out)
  return table.concat(out)
end
M.encode = function(v) local out = {}; encode(v, out); return table.concat(out) end

-- ---- Graphviz --------------------------------------------------------------------

local SHAPE = { host = "box", router = "ellipse", switch = "diamond" }

local function q(s) return '"' .. tostring(s):gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"' end

--- t:dot() -> Graphviz DOT text: nodes, links (labelled with interface
-- names and qdiscs), tunnels dashed
local function dot(T)
  local D = T.desired
  local lines = { "graph " .. q(T.name) .. " {", "  node [fontname=\"monospace\"];" }
  for _, nn in ipairs(D.order) do
    local N, addrs = D.nodes[nn], {}
    for _, ifn in ipairs(N.iforder) do
      for _, a in ipairs(N.ifaces[ifn].addrs) do addrs[#addrs + 1] = a end
    end
    lines[#lines + 1] = string.format("  %s [shape=%s, label=%s];", q(nn), SHAPE[N.kind],
      q(nn .. (#addrs > 0 and ("\n" .. table.concat(addrs, "\n")) or "")))
  end
  local seen = {}
  for _, nn in ipairs(D.order) do
    local N = D.nodes[nn]
    for _, ifn in ipairs(N.iforder) do
      local I = N.ifaces[ifn]
      local P = I.peer or I.tpeer
      local other, oname = P and P.node, P and P.name
      local key = other and table.concat({ nn .. ":" .. ifn, other .. ":" .. oname }, "|")
      local rkey = other and (other .. ":" .. oname .. "|" .. nn .. ":" .. ifn)
      if other and not seen[key] and not seen[rkey] then
        seen[key] = true
        local O = D.nodes[other].ifaces[oname]
        local label = {}
        if I.tc then label[#label + 1] = I.tc.kind end
        if I.create.remote then label[#label + 1] = I.kind .. (I.create.id and (" " .. I.create.id) or "") end
        lines[#lines + 1] = string.format("  %s -- %s [taillabel=%s, headlabel=%s%s%s];", q(nn), q(other),
          q(ifn), q(O.name), #label > 0 and (", label=" .. q(table.concat(label, " "))) or "",
          I.create.remote and ", style=dashed" or "")
      end
    end
  end
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n") .. "\n"
end

--- t:picture(path) -> true | nil, msg, errno: SVG or PNG (by the path's
-- suffix) drawn by Graphviz's dot, when it is installed
local function picture(T, path)
  if type(path) ~= "string" then raise("topo.picture: expected a path ending in .svg or .png (got %s)", type(path)) end
  local fmt = path:match("%.(%a+)$")
  if fmt ~= "svg" and fmt ~= "png" then raise("topo.picture: '%s' does not end in .svg or .png", path) end
  local out, err, eno = io.popen("command -v dot")
  local found = out and out:read("a") or ""
  if out then out:close() end
  if found == "" then return nil, "topo.picture " .. path .. ": No such file or directory (the dot program of graphviz is not installed)", 2 end
  out, err, eno = io.popen("dot -T" .. fmt .. " -o '" .. path:gsub("'", "'\\''") .. "'", "w")
  if not out then return nil, "topo.picture " .. path .. ": " .. err, eno end
  out:write(dot(T))
  local ok, _, code = out:close()
  if not ok then return nil, "topo.picture " .. path .. ": dot failed (exit " .. tostring(code) .. ")", 5 end
  return true
end

function M.install(topo, tmethods)
  tmethods.summary, tmethods.json, tmethods.dot, tmethods.picture = summary, json, dot, picture
  topo._encode = M.encode
  require("vnet._topoping").install(topo, tmethods)
end

return M
