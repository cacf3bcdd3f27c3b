--- vnet._caller: raise a misuse error at the user's line: the first stack
-- frame that is neither C nor one of vnet's own Lua modules (tail calls
-- and pcall relays make a hand-counted error level wrong).
local M = {}

local function ours(info)
  return info.what == "C" or info.source:find("[/@]vnet/[%w_]+%.lua$") ~= nil
end

--- raise(fmt, ...): error(string.format(fmt, ...)) pointing at the user's line
function M.raise(fmt, ...)
  local msg = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if not info then level = 1; break end
    if not ours(info) then break end
    level = level + 1
  end
  error(msg, level)
end

return M
