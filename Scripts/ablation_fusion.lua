-- Fusion and attention ablation: concat vs CAFFM, CBAM on/off, and each branch alone,
-- all DBFEM (quick widths, 32 px by default), same LOSO protocol. Defaults: the synthetic set.
-- Usage: mer-script Scripts/ablation_fusion.lua [--data DIR] [--epochs N] [--size S]
-- Defaults (the quickstart's recipe on 4 synthetic subjects, seeds 1 and 2) took 9.3 min on 2 cores;
-- the table goes to runs/ablation_fusion-<time>/ablation.md and report.html (mean ± sd over seeds).
local cli, ablation = require("cli"), require("ablation")
local o = cli.parse(arg, ablation.defaults, "usage: mer-script Scripts/ablation_fusion.lua [--data DIR] [--epochs N] [--size S] [--seeds 1,2,3]")
local ds = ablation.dataset(o)
local config = o.size <= 64 and "quick" or "paper"
local function dbfem(extra)
  return function()
    local opts = {config = config, classes = #ds:classes(), in_channels = ds[1].x:size(1)}
    for k, v in pairs(extra) do opts[k] = v end
    return nn.DBFEM(opts)
  end
end
ablation.run("ablation_fusion", o, ds, {
  {"CAFFM + CBAM", dbfem{}},
  {"concat + CBAM", dbfem{fusion = "concat"}},
  {"CAFFM, no CBAM", dbfem{attention = false}},
  {"global branch only", dbfem{branches = "global"}},
  {"local branch only", dbfem{branches = "local"}},
})
