-- Quickstart: the seed paper's dual-branch network (DBFEM: ResNet12 + Inception, CBAM,
-- CAFFM; quick configuration) trained on the built-in synthetic micro-expressions
-- (procedural faces, onset/apex pairs, 5 classes named as CASME II's task) with
-- leave-one-subject-out over a few synthetic subjects. Nothing to download.
--
-- Prints: the time and held-out hits of each fold, pooled accuracy, UF1, UAR, the per-fold
-- mean and the confusion matrix, and writes runs/quickstart-<time>/ (log.csv, metrics.json,
-- curves.png, confusion.png, report.html). About three minutes on 2 cores with the defaults.
--
-- Why these defaults (measured on 2 cores, November 2026):
--   * input "diff" (apex − onset): a micro-expression is motion between two frames, and the
--     difference image carries it directly; on raw onset+apex the network must first learn
--     to subtract, which three minutes do not allow (UF1 0.31-0.40 at 64 px, 8 epochs).
--   * 32 × 32 frames: the motion is still a pixel or so at this size, and a step costs a
--     quarter of 64 × 64, so the model gets the epochs it needs to converge.
--   * 12 epochs at lr 2e-3, divided by ~3 after epoch 8 (StepLR 8, 0.3): the training
--     loss settles before the end, so the curves show a converged model.
--   * Expressions of 2-4 px (at 112 px) instead of the data set's default 1-3 px: the
--     quickstart shows the model learning in three minutes, so it renders the motion a
--     little stronger; at the default 1-3 px the same recipe reaches UF1 0.65-0.67 (more
--     samples or epochs did not help). Method comparisons belong on the calibrated default
--     set (Datasets/README.md), not here.
--   * The protocol stays honest: LOSO, the model of the last epoch, nothing chosen on the
--     held-out subject.
--   * --autocast bf16 multiplies convolutions and linear layers in bfloat16 (CPUs with
--     AVX512_BF16; see help(mer.autocast)): seeds 1-3 took 95 / 77 / 78 s against 114 / 94 /
--     87 s in float32 (2026-11-30; the first float32 run hit a slow spell of the machine), with
--     UF1 0.745 / 0.605 / 0.654 against 0.770 / 0.661 / 0.600.
--
-- Usage: mer-script Scripts/quickstart.lua [--subjects 5] [--per-class 8] [--epochs 12]
--        [--size 32] [--input diff] [--intensity 2-4] [--batch 16] [--lr 0.002] [--step 8] [--gamma 0.3]
--        [--seed 1] [--fold K] [--resume runs/<dir>] [--autocast off|bf16]
local cli = require("cli")
local experiment = require("experiment")

local o = cli.parse(arg, {subjects = 5, per_class = 8, epochs = 12, size = 32, input = "diff", intensity = "2-4", batch = 16, lr = 2e-3,
                          step = 8, gamma = 0.3, seed = 1, fold = 0, resume = "", validation = 0, leaky = false, autocast = "off"},
                    "usage: mer-script Scripts/quickstart.lua [--subjects N] [--per-class N] [--epochs N] [--size S] [--input diff|onset,apex|...] [--intensity LO-HI] [--batch B] [--lr LR] [--step N] [--gamma G] [--seed S] [--fold K] [--resume DIR] [--autocast off|bf16]")

local input = {}
for kind in o.input:gmatch("[^,]+") do input[#input + 1] = kind end
local lo, hi = o.intensity:match("^([%d.]+)%-([%d.]+)$")
if not lo then error("--intensity expects LO-HI in pixels at 112 px, e.g. 1-3, got '" .. o.intensity .. "'", 0) end
local ds = data.synthetic{subjects = o.subjects, per_class = o.per_class, size = o.size, seed = o.seed, input = input,
                          intensity = {tonumber(lo), tonumber(hi)}}
print(string.format("synthetic micro-expressions: %d samples, %d subjects, classes %s", #ds, #ds:subjects(),
                    table.concat(ds:classes(), ", ")))

local t0 = mer.time()
local metrics = experiment.loso{
  name = "quickstart", dataset = ds, options = o,
  model = function() return nn.DBFEM{config = "quick", classes = #ds:classes(), in_channels = ds[1].x:size(1)} end,
  epochs = o.epochs, batch = o.batch, lr = o.lr, step = o.step, gamma = o.gamma, seed = o.seed,
  validation = o.validation, leaky = o.leaky, autocast = o.autocast,
  fold = o.fold > 0 and o.fold or nil, resume = o.resume ~= "" and o.resume or nil,
}
if metrics then
  experiment.report(metrics, ds:classes())
  -- Each sample is trained on in every fold but its own: #ds × (subjects − 1) × epochs in all.
  local n = #ds * (#ds:subjects() - 1) * o.epochs
  print(string.format("chance is %.2f; wall time %.1f s (%.0f training samples/s)", 1 / #ds:classes(), mer.time() - t0, n / (mer.time() - t0)))
end
