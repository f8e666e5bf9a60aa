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

T.test("an op whose result does not fit raises, and the tensors it had stay usable", function()
  collectgarbage(); collectgarbage()
  local budget, base = mer.max_memory()
  local x = tensor.ones{1, 1}
  local huge = x:expand{1e6, 1e6}                 -- a view: no storage of its own
  -- Every op that allocates a result goes through the budget: a copy of 4 TB, an
  -- elementwise op, a reduction's temporary, a matrix product.
  T.raises("not enough memory: a tensor of shape [1000000, 1000000] requested 3.6 TB", function() return huge:clone() end)
  T.raises("not enough memory: a tensor of shape [1000000, 1000000] requested 3.6 TB", function() return huge + 1 end)
  T.raises("not enough memory: a tensor of shape [1000000, 1000000] requested 3.6 TB", function() return huge:exp() end)
  T.raises("not enough memory", function() return huge:sum(1) end)
  local col, row = tensor.ones{1e6, 1}, tensor.ones{1, 1e6}
  T.raises("not enough memory: a tensor of shape [1000000, 1000000] requested 3.6 TB", function() return col:matmul(row) end)
  -- Under a tight budget a convolution's output is refused before any work is done.
  local _, used = mer.max_memory()
  mer.max_memory(used + (8 << 20))
  local img, w = tensor.ones{8, 3, 128, 128}, tensor.ones{64, 3, 3, 3}
  T.raises("not enough memory: a tensor of shape [8, 64, 128, 128] requested 32.0 MB", function()
    return nn.F.conv2d(img, w, nil, {padding = 1})
  end)
  mer.max_memory(budget)
  -- The lowering's column buffer grows with channels x taps x output pixels: a 1000-channel
  -- 1x1 input padded by 3000 has a 144 MB output but would need 134 GB of columns.
  T.raises("not enough memory: conv2d's workspace requested 134.2 GB", function()
    return nn.F.conv2d(tensor.ones{1, 1000, 1, 1}, tensor.ones{1, 1000, 1, 1}, nil, {padding = 3000})
  end)
  assert(nn.F.conv2d(img:narrow(1, 1, 1):narrow(2, 1, 1), tensor.ones{1, 1, 3, 3}):sum():item() == 9 * 126 * 126)
  assert(x:item() == 1 and col:sum():item() == 1e6)
  local _, after = mer.max_memory()
  assert(after >= base, "the budget's count went below where it started")
end)

return T.done()
