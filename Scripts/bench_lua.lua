-- Cost of crossing from Lua into the native engine.
-- Usage: mer-script Scripts/bench_lua.lua [calls]
-- Prints the time per trivial binding call (t:numel()), per method lookup + call on a
-- tensor op, and per iteration of a loop of small tensor ops (4x4).
local n = tonumber(arg and arg[1]) or 1000000
local t = tensor.ones{4, 4}

local function time(label, count, body)
  collectgarbage()
  local t0 = mer.time()
  body(count)
  local dt = mer.time() - t0
  print(string.format("%-40s %10.3f us/call  (%d calls, %.3f s)", label, dt / count * 1e6, count, dt))
  return dt / count
end

time("empty Lua loop (baseline)", n, function(k) for i = 1, k do end end)
time("t:numel()", n, function(k) local s = 0 for i = 1, k do s = s + t:numel() end end)
time("t:dim()", n, function(k) for i = 1, k do local d = t:dim() end end)
time("t[1][1] (two index operations)", n // 4, function(k) for i = 1, k do local v = t[1][1] end end)
local a, b = tensor.randn{4, 4}, tensor.randn{4, 4}
time("a + b (4x4, new tensor)", n // 10, function(k) for i = 1, k do local c = a + b end end)
time("(a:matmul(b) + a):relu():sum() (4x4)", n // 20, function(k)
  for i = 1, k do local s = (a:matmul(b) + a):relu():sum() end
end)
local w = tensor.randn{4, 4}:requires_grad(true)
time("forward+backward of a 4x4 expression", n // 50, function(k)
  for i = 1, k do
    local loss = (w:matmul(a) * b):sigmoid():sum()
    loss:backward()
  end
end)
