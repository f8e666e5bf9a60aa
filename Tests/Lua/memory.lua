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

T.test("a request past the memory budget is an error, and the host goes on", function()
  T.raises("tensor.randn: not enough memory: randn of shape [100000, 100000] requested 37.3 GB", tensor.randn, {1e5, 1e5})
  -- Empty, yet its sum over dimension 2 would need 4 TiB: refused when it is made.
  T.raises("tensor.zeros: shape [0, 1099511627776] is too large", tensor.zeros, {0, 1 << 40})
  local budget, used = mer.max_memory()
  assert(budget > 0 and used >= 0)
  collectgarbage(); collectgarbage()
  local _, base = mer.max_memory()
  local keep = tensor.zeros{1024, 256}            -- 1 MB, counted while it lives
  local _, held = mer.max_memory()
  assert(held - base >= 1 << 20, string.format("%d bytes counted for a 1 MB tensor", held - base))
  mer.max_memory(held + (1 << 20))
  T.raises("not enough memory: zeros of shape [1024, 512] requested 2.0 MB", tensor.zeros, {1024, 512})
  local ok = tensor.zeros{1024, 128}              -- 0.5 MB still fits
  mer.max_memory(budget)
  T.raises("mer.max_memory: argument 1: expected a positive byte count", mer.max_memory, 0)
  assert(keep:numel() + ok:numel() == 1024 * 384)
end)

return T.done()
