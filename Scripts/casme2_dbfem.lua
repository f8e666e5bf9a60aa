-- The seed paper's experiment: DBFEM + CAFFM on CASME II, 5 classes, leave-one-subject-out,
-- Adam (lr 1e-3), step decay ×0.5 every 10 epochs, cross-entropy, batch 32, onset+apex
-- frames at 112×112 (ARCHITECTURE.md). Options switch to the MEGC 2019 3-class task and
-- to SAMM. The reported epoch is never chosen on the test subject: a fixed schedule, or
-- --validation 0.2 for early stopping on training subjects. --leaky prints, in addition and
-- labelled, the best-epoch-per-test-subject figure some peers publish.
--
-- Time here: the paper configuration trains at ~280 ms/sample on 2 cores, so 26 folds ×
-- ~235 samples × 30 epochs is about 14 hours; run folds in parallel (--fold K, see
-- Scripts/slurm/submit.sh) or use --config quick --size 64 for a ~10× cheaper run.
-- Prints pooled accuracy, UF1, UAR and the confusion matrix; writes runs/casme2_dbfem-<time>/.
--
-- Usage: mer-script Scripts/casme2_dbfem.lua --data /path/to/CASME2 [--classes 5|3] [--dataset casme2|samm]
--        [--epochs 30] [--size 112] [--config paper|quick] [--fusion caffm|concat] [--batch 32] [--lr 0.001]
--        [--validation 0] [--fold K] [--resume runs/<dir>] [--seed 1] [--leaky]
local cli = require("cli")
local experiment = require("experiment")

local o = cli.parse(arg, {data = "", dataset = "casme2", classes = 5, epochs = 30, size = 112, config = "paper",
                          fusion = "caffm", batch = 32, lr = 1e-3, step = 10, gamma = 0.5, validation = 0,
                          fold = 0, resume = "", seed = 1, leaky = false, input = "onset,apex"},
                    "usage: mer-script Scripts/casme2_dbfem.lua --data DIR [--dataset casme2|samm] [--classes 5|3] [--epochs N] ...")
if o.data == "" then error("--data is required: the folder holding the data set as distributed (see Datasets/README.md)", 0) end

local input = {}
for kind in o.input:gmatch("[^,]+") do input[#input + 1] = kind end
local load = ({casme2 = data.casme2, samm = data.samm})[o.dataset]
if not load then error("--dataset must be casme2 or samm, got " .. o.dataset, 0) end
local ds = load{root = o.data, classes = o.classes, size = o.size, input = input}
ds:counts()
local channels = ds[1].x:size(1) -- flow contributes two channels (u, v)

local metrics = experiment.loso{
  name = o.dataset .. "_dbfem", dataset = ds, options = o,
  model = function()
    return nn.DBFEM{config = o.config, in_channels = channels, classes = #ds:classes(), fusion = o.fusion}
  end,
  epochs = o.epochs, batch = o.batch, lr = o.lr, step = o.step, gamma = o.gamma, seed = o.seed,
  validation = o.validation, leaky = o.leaky,
  fold = o.fold > 0 and o.fold or nil, resume = o.resume ~= "" and o.resume or nil,
}
if metrics then experiment.report(metrics, ds:classes()) end
