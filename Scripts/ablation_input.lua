-- Input ablation: onset+apex frames vs their difference vs optical flow + strain (TV-L1
-- from onset to apex), DBFEM (quick, 32 px by default), same LOSO protocol. Defaults: the synthetic set.
-- Flow inputs add ~10 ms per sample the first epoch
-- (computed once, then cached).
-- Usage: mer-script Scripts/ablation_input.lua [--data DIR] [--epochs N] [--size S]
-- Defaults (the quickstart's recipe on 4 synthetic subjects, seeds 1 and 2) took 7.2 min on 2 cores;
-- the table goes to runs/ablation_input-<time>/ablation.md and report.html (mean ± sd over seeds).
local cli, ablation = require("cli"), require("ablation")
local o = cli.parse(arg, ablation.defaults, "usage: mer-script Scripts/ablation_input.lua [--data DIR] [--epochs N] [--size S] [--seeds 1,2,3]")
local config = o.size <= 64 and "quick" or "paper"
local variants = {}
for _, input in ipairs{{"onset", "apex"}, {"diff"}, {"flow", "strain"}} do
  local ds = ablation.dataset(o, input)
  local channels = ds[1].x:size(1) -- flow has two channels (u, v)
  variants[#variants + 1] = {table.concat(input, "+"), function()
    return nn.DBFEM{config = config, in_channels = channels, classes = #ds:classes()}
  end, dataset = ds}
end
ablation.run("ablation_input", o, variants[1].dataset, variants)
