-- __gc frees native storage: making 10^5 tensors of 4 KB each (400 MB in all) must not
-- grow the resident set anywhere near that much.
local T = require("testing")

local function rss_kb()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  for line in f:lines() do
    local kb = line:match("^VmRSS:%s+(%d+)")
    if kb then f:close(); return tonumber(kb) end
  end
  f:close()
end

T.test("a loop creating 10^5 tensors keeps memory bounded", function()
  collectgarbage()
  local before = rss_kb()
  for i = 1, 100000 do
    local x = tensor.ones{32, 32} * 2
  end
  local after = rss_kb()
  if before and after then
    local grown = (after - before) / 1024
    assert(grown < 150, string.format("resident set grew by %.0f MB for 800 MB of short-lived tensors", grown))
  end
end)

return T.done()
