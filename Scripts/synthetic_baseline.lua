-- How hard is the synthetic set? A small CNN (4 conv layers, ~60k parameters) on the
-- onset/apex pairs, leave-one-subject-out, fixed schedule. Also writes a picture of the
-- data: Datasets-style grid of onset | apex | |apex − onset| (×8) per class.
-- Prints pooled accuracy, UF1, UAR. Takes about a minute on 2 cores.
-- Usage: mer-script Scripts/synthetic_baseline.lua [--subjects 5] [--per-class 8] [--epochs 15] [--input onset,apex|diff|flow] [--grid FILE]
local cli = require("cli")
local experiment = require("experiment")
local o = cli.parse(arg, {subjects = 5, per_class = 8, epochs = 15, size = 64, batch = 16, lr = 2e-3, seed = 1, grid = "", input = "onset,apex"},
                    "usage: mer-script Scripts/synthetic_baseline.lua [--subjects N] [--per-class N] [--epochs N] [--grid FILE]")
local input = {}
for kind in o.input:gmatch("[^,]+") do input[#input + 1] = kind end
local ds = data.synthetic{subjects = o.subjects, per_class = o.per_class, size = o.size, seed = o.seed, input = input}
local channels = ds[1].x:size(1)

if o.grid ~= "" then
  local tiles = {}
  for c = 1, 5 do
    for subject = 1, 2 do
      local s = data.synthetic{subjects = o.subjects, per_class = o.per_class, size = o.size, seed = o.seed}[(subject - 1) * 5 * o.per_class + (c - 1) * o.per_class + 1].x
      local d = ((s[2] - s[1]):abs() * 8):clamp(0, 1):unsqueeze(1)
      tiles[#tiles + 1] = s:narrow(1, 1, 1); tiles[#tiles + 1] = s:narrow(1, 2, 1); tiles[#tiles + 1] = d
    end
  end
  image.save(image.grid(tiles, {columns = 6}), o.grid)
  print("wrote " .. o.grid .. " (rows: " .. table.concat(ds:classes(), ", ") .. "; two subjects per row)")
end

local function block(cin, cout)
  return nn.Sequential{nn.Conv2d(cin, cout, 3, {padding = 1, bias = false}), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)}
end
local metrics = experiment.loso{
  name = "synthetic_baseline", dataset = ds, options = o,
  model = function()
    return nn.Sequential{block(channels, 16), block(16, 32), block(32, 64), block(64, 64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(64, 5)}
  end,
  epochs = o.epochs, batch = o.batch, lr = o.lr, step = 10, gamma = 0.5, seed = o.seed,
}
experiment.report(metrics, ds:classes())
