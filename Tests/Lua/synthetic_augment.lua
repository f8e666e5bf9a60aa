-- Synthetic micro-expressions, augmentation and optical flow from Lua.
local T = require("testing")

T.test("synthetic data: determinism, balance, inputs", function()
  local a = data.synthetic{subjects = 3, per_class = 2, size = 48, seed = 5}
  local b = data.synthetic{subjects = 3, per_class = 2, size = 48, seed = 5}
  local c = data.synthetic{subjects = 3, per_class = 2, size = 48, seed = 6}
  assert(#a == 3 * 5 * 2)
  assert((a[7].x - b[7].x):abs():max():item() == 0, "same seed, same pixels")
  assert((a[7].x - c[7].x):abs():max():item() > 0, "another seed, other pixels")
  local per = {}
  for _, y in ipairs(a:labels()) do per[y] = (per[y] or 0) + 1 end
  for k = 1, 5 do assert(per[k] == 6, "class " .. k .. " has " .. tostring(per[k])) end
  assert(table.concat(a:classes(), ",") == "happiness,disgust,repression,surprise,others")
  assert(a[1].subject == "s01" and a[11].subject == "s02")
  local s = a[1].x
  local d = (s[2] - s[1]):abs():mean():item()
  assert(d > 0 and d < 0.1, "the apex differs subtly from the onset: " .. d)
  local motion = data.synthetic{subjects = 1, per_class = 1, size = 48, input = {"diff", "flow", "strain"}}
  assert(motion[1].x:size(1) == 4)
  T.raises("data.synthetic: argument 1: unknown option 'subject'", data.synthetic, {subject = 2})
  T.raises("unknown input 'optical'", data.synthetic, {input = {"optical"}})
  T.raises("data.synthetic:", data.synthetic, {size = 8})
end)

T.test("augmentation is reproducible and keeps a pair in correspondence", function()
  local s = data.synthetic{subjects = 1, per_class = 1, size = 48}[1].x
  local onset, apex = s:narrow(1, 1, 1), s:narrow(1, 2, 1)
  local p1 = image.random_affine({onset, apex}, {max_angle = 15, max_translate = 5, seed = 9})
  local p2 = image.random_affine({onset, apex}, {max_angle = 15, max_translate = 5, seed = 9})
  assert((p1[1] - p2[1]):abs():max():item() == 0 and (p1[2] - p2[2]):abs():max():item() == 0)
  -- One drawn transform for both frames: transforming the stacked pair gives the same frames.
  local stacked = image.random_affine(s, {max_angle = 15, max_translate = 5, seed = 9})
  assert((stacked:narrow(1, 1, 1) - p1[1]):abs():max():item() < 1e-6)
  assert((stacked:narrow(1, 2, 1) - p1[2]):abs():max():item() < 1e-6)
  -- Geometric transforms are linear: T(apex) - T(onset) = T(apex - onset).
  local d = image.affine(apex - onset, {angle = 7, translate = {2, -1}})
  local td = image.affine({onset, apex}, {angle = 7, translate = {2, -1}})
  assert(((td[2] - td[1]) - d):abs():max():item() < 1e-5)
  T.values(image.hflip(tensor.from{{{1, 2, 3}}}), {3, 2, 1})
  local g = mer.generator(3)
  local n1 = image.noise(onset, 0.1, {generator = g})
  local n2 = image.noise(onset, 0.1, {generator = mer.generator(3)})
  assert((n1 - n2):abs():max():item() == 0)
  assert(image.random_resized_crop(s, 32, {seed = 1}):size(3) == 32)
  T.near(image.adjust(tensor.full({1, 2, 2}, 0.25), {gamma = 0.5}):mean():item(), 0.5, 1e-6)
  T.raises("image.noise: augment.noise: std must be non-negative", image.noise, onset, -1)
  T.raises("image.affine: argument 1: expected an image tensor or a table of them", image.affine, "x", {})
  T.raises("image.random_affine: argument 2: unknown option 'angle'", image.random_affine, s, {angle = 3})
  T.raises("mer.generator: argument 1: expected a non-negative seed", mer.generator, -1)
end)

T.test("optical flow of a known shift and strain", function()
  -- A smooth texture moved 2 px right: a(y, x) = b(y, x + 2), so u ≈ 2, v ≈ 0 inside.
  local function texture(shift)
    local t = tensor.zeros{1, 48, 48}
    for y = 1, 48 do for x = 1, 48 do
      local X = x - shift
      t[1][y][x] = 0.5 + 0.2 * math.sin(X / 3.1) * math.cos(y / 4.3) + 0.15 * math.sin((X + y) / 5.7)
    end end
    return t
  end
  local u, v = image.flow(texture(0), texture(2))
  local inner_u = u:narrow(2, 9, 30):narrow(3, 9, 30)
  local inner_v = v:narrow(2, 9, 30):narrow(3, 9, 30)
  T.near(inner_u:mean():item(), 2, 0.05)
  T.near(inner_v:mean():item(), 0, 0.05)
  local s = image.strain(u, v)
  assert(s:size(2) == 48 and s:mean():item() < 0.1)
  assert(image.flow_color(u, v):size(1) == 3)
  T.raises("image.flow: argument 3: option 'method': only \"tvl1\"", image.flow, texture(0), texture(1), {method = "farneback"})
  T.raises("flow: option lambda must be positive", image.flow, texture(0), texture(1), {lambda = -1})
  T.raises("image.flow:", image.flow, texture(0), tensor.zeros{1, 10, 10})
end)

return T.done()
