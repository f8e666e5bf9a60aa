-- Quickstart: the seed paper's dual-branch network (DBFEM: ResNet12 + Inception, CBAM,
-- CAFFM; quick configuration, 64×64) trained on the built-in synthetic micro-expressions
-- (procedural faces, onset/apex pairs, 5 classes named as CASME II's task) with
-- leave-one-subject-out over a few synthetic subjects. Nothing to download.
--
-- Prints: pooled accuracy, UF1, UAR, the per-fold mean and the confusion matrix, and
-- writes runs/quickstart-<time>/ (log.csv, metrics.json, curves.png, confusion.png,
-- report.html). Takes a few minutes on 2 cores with the defaults.
--
-- Usage: mer-script Scripts/quickstart.lua [--subjects 5] [--per-class 8] [--epochs 8]
--        [--size 64] [--batch 16] [--lr 0.001] [--seed 1] [--fold K] [--resume runs/<dir>]
local cli = require("cli")
local experiment = require("experiment")

local o = cli.parse(arg, {subjects = 5, per_class = 8, epochs = 8, size = 64, batch = 16, lr = 1e-3,
                          seed = 1, fold = 0, resume = "", validation = 0, leaky = false},
                    "usage: mer-script Scripts/quickstart.lua [--subjects N] [--per-class N] [--epochs N] [--size S] [--batch B] [--lr LR] [--seed S] [--fold K] [--resume DIR]")

local ds = data.synthetic{subjects = o.subjects, per_class = o.per_class, size = o.size, seed = o.seed}
print(string.format("synthetic micro-expressions: %d samples, %d subjects, classes %s", #ds, #ds:subjects(),
                    table.concat(ds:classes(), ", ")))

local t0 = mer.time()
local metrics = experiment.loso{
  name = "quickstart", dataset = ds, options = o,
  model = function() return nn.DBFEM{config = "quick", classes = #ds:classes()} end,
  epochs = o.epochs, batch = o.batch, lr = o.lr, step = 10, gamma = 0.5, seed = o.seed,
  validation = o.validation, leaky = o.leaky,
  fold = o.fold > 0 and o.fold or nil, resume = o.resume ~= "" and o.resume or nil,
}
if metrics then
  experiment.report(metrics, ds:classes())
  -- Each sample is trained on in every fold but its own: #ds × (subjects − 1) × epochs in all.
  local n = #ds * (#ds:subjects() - 1) * o.epochs
  print(string.format("chance is %.2f; wall time %.1f s (%.0f training samples/s)", 1 / #ds:classes(), mer.time() - t0, n / (mer.time() - t0)))
end
