-- bfloat16 against float32 products (mer.autocast) on the matrix shapes DBFEM's layers give
-- the GEMM: m = output channels, k = input channels x taps, n = output pixels per image.
-- Usage: mer-script Scripts/bench_autocast.lua [threads]   (default 1: the kernel alone)
-- Prints, per shape, the best of 3 timings of each mode, GFLOP/s and the speed-up.
if not pcall(mer.autocast, "bf16", function() end) then
  print("this CPU has no AVX512_BF16: mer.autocast(\"bf16\") is not available")
  return
end
mer.threads(tonumber(arg and arg[1]) or 1)
local shapes = {  -- {m, n, k, what}
  {32, 4096, 18, "first conv, 2 -> 32 @64"},
  {32, 1024, 288, "32 -> 32 @32"},
  {64, 1024, 288, "32 -> 64 @32"},
  {64, 256, 576, "64 -> 64 @16"},
  {128, 64, 1152, "128 -> 128 @8"},
  {256, 16, 2304, "256 -> 256 @4 (narrow)"},
  {48, 1000, 96, "Inception 1x1-like"},
  {160, 3136, 1440, "160 -> 160 @56"},
  {320, 784, 2880, "320 -> 320 @28"},
  {640, 196, 5760, "640 -> 640 @14"},
}
print(string.format("%d thread(s); best of 3 per mode", mer.threads()))
for _, s in ipairs(shapes) do
  local m, n, k = s[1], s[2], s[3]
  local a, b = tensor.randn{m, k}, tensor.randn{k, n}
  local reps = math.max(3, math.floor(2e9 / (2 * m * n * k)))
  local function time(mode)
    local best = math.huge
    for _ = 1, 3 do
      local t0 = mer.time()
      mer.autocast(mode, function() for _ = 1, reps do a:matmul(b) end end)
      best = math.min(best, (mer.time() - t0) / reps)
    end
    return best
  end
  local f, h = time("off"), time("bf16")
  local flop = 2 * m * n * k
  print(string.format("%-26s m %4d n %5d k %5d   float32 %8.3f ms %6.1f GFLOP/s   bf16 %8.3f ms %6.1f GFLOP/s   x%.2f",
                      s[4], m, n, k, f * 1e3, flop / f / 1e9, h * 1e3, flop / h / 1e9, f / h))
end
