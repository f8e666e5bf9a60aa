-- Vision speed: TV-L1 optical flow on a 112×112 onset/apex pair (default options) and the
-- video-frame path (JPEG 640×480 decode, gray, area resize to 112×112), per thread count.
-- A benchmark, not a test: it prints figures and asserts nothing. Run it alone on the
-- machine (other work on the two cores changes the numbers).
-- Usage: mer-script Scripts/bench_vision.lua [reps=20]
local reps = tonumber(arg[1] or "20")

local function timed(n, body)
  body() -- warm-up
  local best, total = math.huge, 0
  for _ = 1, n do
    local t0 = mer.time()
    body()
    local dt = mer.time() - t0
    best, total = math.min(best, dt), total + dt
  end
  return total / n * 1e3, best * 1e3
end

-- A smooth random texture and the same texture moved by a sub-pixel translation.
mer.seed(23)
local texture = image.resize(tensor.rand{1, 14, 14}, 112, 112, {mode = "bilinear"})
local moved = image.affine(texture, {translate = {0.6, -0.4}})

-- A camera-like 640×480 RGB frame (smooth shading plus fine noise), saved as JPEG q85.
local frame = (image.resize(tensor.rand{3, 12, 16}, 480, 640, {mode = "bilinear"}) * 0.8
               + tensor.rand{3, 480, 640} * 0.08):clamp(0, 1)
local base = os.tmpname()
local jpeg = base .. ".jpg"
image.save(frame, jpeg, {quality = 85})

local saved = mer.threads()
for _, threads in ipairs({1, 2}) do
  mer.threads(threads)
  local mean, best = timed(reps, function() return image.flow(texture, moved) end)
  print(string.format("TV-L1 112×112, %d thread%s: mean %.2f ms, best %.2f ms per pair",
                      threads, threads == 1 and "" or "s", mean, best))
  local dmean, dbest = timed(reps * 3, function() return image.load(jpeg) end)
  local pmean, pbest = timed(reps * 3, function()
    return image.resize(image.gray(image.load(jpeg)), 112, 112, {mode = "area"})
  end)
  print(string.format("frame 640×480 JPEG, %d thread%s: decode mean %.2f ms (best %.2f); decode + gray + resize→112 mean %.2f ms (best %.2f)",
                      threads, threads == 1 and "" or "s", dmean, dbest, pmean, pbest))
end
mer.threads(saved)
os.remove(jpeg)
os.remove(base)
