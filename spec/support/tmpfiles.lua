-- tmpfiles.lua: busted's --helper for tools/test.sh and fuzz/test-asan.sh.
-- os.tmpname makes its file in /tmp (a template built into liblua), and
-- about a hundred specs take one; many add a suffix to the name and leave
-- the first file behind. Here each name, the file mkstemp made (mode 0600,
-- as the specs expect), moves into the run's own directory,
-- $VNET_TEST_TMPDIR, which the script that set it removes with the rest:
-- a run leaves nothing in /tmp, whatever its specs forget. Without the
-- variable os.tmpname is left alone.
local dir = os.getenv("VNET_TEST_TMPDIR")
if not dir or dir == "" then return end
local tmpname, n = os.tmpname, 0
function os.tmpname()
  local name = tmpname()
  n = n + 1 -- (mkstemp may make the same name again once it left /tmp)
  local moved = ("%s/%d-%s"):format(dir, n, name:match("[^/]*$"))
  if os.rename(name, moved) then return moved end
  return name -- another file system: the name mkstemp gave
end
