-- A look at augmentation: synthetic onset/apex pairs, each transformed by one random
-- augmentation applied to BOTH frames (they stay in correspondence), with the TV-L1 flow
-- from onset to apex colour-coded. Writes a PNG grid: one row per sample, columns
-- onset | apex | augmented onset | augmented apex | flow | augmented flow.
-- Takes a few seconds. Usage: mer-script Scripts/augment_gallery.lua [--out gallery.png] [--n 5] [--seed 1]
local cli = require("cli")
local o = cli.parse(arg, {out = "augment_gallery.png", n = 5, seed = 1, size = 112},
                    "usage: mer-script Scripts/augment_gallery.lua [--out FILE] [--n N] [--seed S]")
local ds = data.synthetic{subjects = o.n, per_class = 1, size = o.size, seed = o.seed}
local g = mer.generator(o.seed)
local tiles = {}
local function rgb(t) return t:size(1) == 3 and t or tensor.cat({t, t, t}, 1) end
for i = 1, o.n do
  local s = ds[(i - 1) * 5 + (i - 1) % 5 + 1]
  local onset, apex = s.x:narrow(1, 1, 1), s.x:narrow(1, 2, 1)
  -- One drawn transform for the pair: geometric, then photometric, then noise.
  local pair = image.random_affine({onset, apex}, {max_angle = 10, max_translate = 6, scale = {0.9, 1.1}, generator = g})
  pair = image.random_hflip(pair, {generator = g})
  pair = image.adjust(pair, {brightness = 0.05 * (g:uniform() - 0.5), contrast = 0.9 + 0.2 * g:uniform()})
  pair = image.noise(pair, 0.01, {generator = g, clamp = true})
  local u, v = image.flow(onset, apex)
  local au, av = image.flow(pair[1], pair[2])
  for _, t in ipairs{onset, apex, pair[1], pair[2], image.flow_color(u, v, 2), image.flow_color(au, av, 2)} do
    tiles[#tiles + 1] = rgb(t)
  end
end
image.save(image.grid(tiles, {columns = 6, padding = 2}), o.out)
print("wrote " .. o.out)
