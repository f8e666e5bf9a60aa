-- The calibrated synthetic benchmark (Datasets/README.md's table): what each method reaches on
-- the built-in synthetic set under the same LOSO protocol and training recipe, mean ± sd over
-- seeds. Seed s draws the data set with seed s (other faces, other expressions) and trains
-- with seed s, so the spread covers both the data and the training.
--
-- Methods (--methods picks a comma list of these keys; the default runs all):
--   chance        uniform random guesses (no training; the floor every row must clear)
--   linear        a linear classifier (softmax regression) on |apex − onset|
--   cnn_frames    a small CNN (4 conv blocks, ~60k parameters) on the onset+apex frames
--   cnn_diff      the same CNN on the difference image apex − onset
--   cnn_flow      the same CNN on TV-L1 flow (u, v) + optical strain
--   dbfem_quick   DBFEM, quick configuration, on onset+apex
--   dbfem_diff    DBFEM, quick configuration, on the difference image (the quickstart's input)
--   dbfem_paper   DBFEM, the paper's configuration (64-160-320-640), on onset+apex
--
-- Every trained method gets one recipe: 30 epochs, Adam lr 2e-3, StepLR 20/0.3, batch 16, the
-- model of the last epoch, nothing chosen on the held-out subject. 30 epochs, not the
-- quickstart's 12: at 12 the networks on raw onset+apex had not yet learned to compare the two
-- frames (UF1 at 12 → 30 epochs: DBFEM quick 0.29 → 0.64, small CNN 0.18 → 0.46), while the
-- linear model and the CNN on the difference had converged (0.29 → 0.34, 0.47 → 0.49); a
-- benchmark must compare trained models. The set is the renderer's default (intensity 1-3 px, head motion 0.3, noise 0.01,
-- illumination 0.01) at 5 subjects × 8 per class, 32 × 32 px, so that DBFEM paper fits in
-- minutes per seed.
--
-- Usage: mer-script Scripts/benchmark_synthetic.lua [--methods chance,linear,...] [--seeds 1,2,3]
--        [--subjects 5] [--per-class 8] [--size 32] [--intensity 1-3] [--head-motion 0.3]
--        [--noise 0.01] [--illumination 0.01] [--epochs 30] [--step 20]
-- Writes runs/benchmark_synthetic-<time>/ablation.md and report.html (one row per method).
local cli, ablation = require("cli"), require("ablation")
local o = cli.parse(arg, {data = "", methods = "chance,linear,cnn_frames,cnn_diff,cnn_flow,dbfem_quick,dbfem_diff,dbfem_paper",
                          seeds = "1,2,3", subjects = 5, per_class = 8, size = 32, intensity = "1-3", head_motion = 0.3,
                          noise = 0.01, illumination = 0.01, epochs = 30, batch = 16, lr = 2e-3, step = 20, gamma = 0.3,
                          validation = 0, dir = "runs"},
                    "usage: mer-script Scripts/benchmark_synthetic.lua [--methods chance,linear,...] [--seeds 1,2,3] [--subjects N] [--size S] [--intensity LO-HI]")

-- |x|, elementwise: the linear baseline sees the magnitude of the change, not its sign.
local Abs = nn.Module:extend("Abs")
function Abs:forward(x) return x:abs() end

local function small_cnn(channels, classes)
  local function block(cin, cout)
    return nn.Sequential{nn.Conv2d(cin, cout, 3, {padding = 1, bias = false}), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)}
  end
  return nn.Sequential{block(channels, 16), block(16, 32), block(32, 64), block(64, 64),
                       nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(64, classes)}
end

-- One data set per (input, seed), drawn once and shared by the methods that use it.
local sets = {}
local function dataset(input)
  return function(seed)
    local key = table.concat(input, "+") .. "/" .. seed
    sets[key] = sets[key] or ablation.dataset(o, input, seed)
    return sets[key]
  end
end
local frames, diff, flow = dataset{"onset", "apex"}, dataset{"diff"}, dataset{"flow", "strain"}
local classes = 5

-- Uniform random guesses for every sample (the held-out subject's labels are all it sees).
local function chance(ds, seed)
  math.randomseed(seed)
  local pred, target = {}, {}
  for i = 1, #ds do pred[i] = math.random(classes); target[i] = ds[i].y end
  return eval.metrics(pred, target, classes)
end

local methods = {
  chance = {"chance (uniform guess)", nil, dataset = frames, evaluate = chance},
  linear = {"linear on |apex − onset|", function() return nn.Sequential{Abs(), nn.Flatten(), nn.Linear(o.size * o.size, classes)} end,
            dataset = diff},
  cnn_frames = {"small CNN, onset+apex", function() return small_cnn(2, classes) end, dataset = frames},
  cnn_diff = {"small CNN, apex − onset", function() return small_cnn(1, classes) end, dataset = diff},
  cnn_flow = {"small CNN, flow+strain", function() return small_cnn(3, classes) end, dataset = flow},
  dbfem_quick = {"DBFEM quick, onset+apex", function() return nn.DBFEM{config = "quick", in_channels = 2, classes = classes} end,
                 dataset = frames},
  dbfem_diff = {"DBFEM quick, apex − onset", function() return nn.DBFEM{config = "quick", in_channels = 1, classes = classes} end,
                dataset = diff},
  dbfem_paper = {"DBFEM paper, onset+apex", function() return nn.DBFEM{config = "paper", in_channels = 2, classes = classes} end,
                 dataset = frames},
}

local variants = {}
for key in o.methods:gmatch("[^,%s]+") do
  if not methods[key] then
    local known = {}
    for k in pairs(methods) do known[#known + 1] = k end
    table.sort(known)
    error("--methods: unknown method '" .. key .. "' (known: " .. table.concat(known, ", ") .. ")", 0)
  end
  variants[#variants + 1] = methods[key]
end
if #variants == 0 then error("--methods names no method", 0) end
ablation.run("benchmark_synthetic", o, nil, variants)
