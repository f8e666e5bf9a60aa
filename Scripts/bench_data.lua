-- Data pipeline speed on a CASME II-layout data set of real-size frames (640×480 JPEG),
-- written on first use to a temporary folder (no licensed data needed): samples/s of the
-- loader with the decode cache cold and warm, and an epoch of the loader alone vs inside
-- training (with and without background prefetch).
-- Usage: mer-script Scripts/bench_data.lua [samples=96] [folder=/tmp/mer-bench-casme2]
local count = tonumber(arg[1] or "96")
local root = arg[2] or "/tmp/mer-bench-casme2"
local emotions = {"happiness", "disgust", "repression", "surprise", "others"}

local function make()
  mer.seed(7)
  local rows = {"Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Action Units,Estimated Emotion"}
  local texture = image.resize(tensor.rand{1, 60, 80}, 480, 640, {mode = "bilinear"})
  for i = 1, count do
    local subject = string.format("sub%02d", (i - 1) % 8 + 1)
    local clip = string.format("EP%02d_01", i)
    local dir = string.format("%s/CASME2_RAW_selected/%s/%s", root, subject, clip)
    mer.mkdir(dir)
    image.save(texture, dir .. "/img1.jpg", {quality = 90})
    image.save((texture + tensor.randn{1, 480, 640} * 0.02):clamp(0, 1), dir .. "/img5.jpg", {quality = 90})
    rows[#rows + 1] = string.format("%d,%s,1,5,9,AU12,%s", (i - 1) % 8 + 1, clip, emotions[(i - 1) % 5 + 1])
  end
  mer.write_file(root .. "/CASME2-coding-bench.csv", table.concat(rows, "\n") .. "\n")
end
if not mer.exists(root .. "/CASME2-coding-bench.csv") then make() end

local function epoch(loader, step)
  local t0, n = mer.time(), 0
  for b in loader do
    n = n + b.x:size(1)
    if step then step(b) end
  end
  return n, mer.time() - t0
end

local cold = data.casme2{root = root, size = 112, cache = false}
local n, dt = epoch(data.loader(cold, {batch = 16, seed = 1}))
print(string.format("cache off (2 JPEG decodes per sample):   %7.0f samples/s  %.2f ms/frame", n / dt, dt / n / 2 * 1e3))
local ds = data.casme2{root = root, size = 112}
n, dt = epoch(data.loader(ds, {batch = 16, seed = 1}))
print(string.format("first epoch (decode and fill the cache): %7.0f samples/s", n / dt))
n, dt = epoch(data.loader(ds, {batch = 16, seed = 1}))
print(string.format("warm cache:                              %7.0f samples/s", n / dt))

mer.seed(1)
local model = nn.Sequential{nn.Conv2d(2, 16, 3, {stride = 2, padding = 1}), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(16, 32, 3, {padding = 1}), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 5)}
local opt = optim.Adam(model:parameters(), {lr = 1e-3})
local function step(b)
  opt:zero_grad()
  nn.cross_entropy(model(b.x), b.y):backward()
  opt:step()
end
epoch(data.loader(ds, {batch = 16, seed = 1}), step) -- warm-up
local _, compute = epoch(data.loader(ds, {batch = 16, seed = 1}), step)
for _, prefetch in ipairs{0, 2} do
  local _, alone = epoch(data.loader(cold, {batch = 16, seed = 1, prefetch = prefetch}))
  local _, inside = epoch(data.loader(cold, {batch = 16, seed = 1, prefetch = prefetch}), step)
  print(string.format("prefetch %d: loader alone %.3f s + training on cached data %.3f s = %.3f s; loader inside training %.3f s",
                      prefetch, alone, compute, alone + compute, inside))
end
