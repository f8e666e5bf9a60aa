-- Depth ablation of the global branch (the paper: ResNet12 beat deeper ResNets on small
-- data): DBFEM with ResNet12 vs ResNet18 vs ResNet34, same protocol (LOSO, fixed schedule).
-- --data DIR uses CASME II instead of the synthetic set.
-- Writes a run directory per variant and seed.
-- Usage: mer-script Scripts/ablation_depth.lua [--data DIR] [--epochs N] [--size S] [--subjects N]
-- Defaults (the quickstart's recipe on 4 synthetic subjects, seeds 1 and 2) took 7.0 min on 2 cores;
-- the table goes to runs/ablation_depth-<time>/ablation.md and report.html (mean ± sd over seeds).
local cli, ablation = require("cli"), require("ablation")
local o = cli.parse(arg, ablation.defaults, "usage: mer-script Scripts/ablation_depth.lua [--data DIR] [--epochs N] [--size S] [--seeds 1,2,3]")
local ds = ablation.dataset(o)
local quick = o.size <= 64
local variants = {}
for _, global in ipairs{"resnet12", "resnet18", "resnet34"} do
  variants[#variants + 1] = {global, function()
    return nn.DBFEM{global = global, classes = #ds:classes(), in_channels = ds[1].x:size(1),
                    widths = global == "resnet12" and (quick and {32, 64, 128, 256} or nil) or (quick and {32, 64, 128, 256} or nil)}
  end}
end
ablation.run("ablation_depth", o, ds, variants)
