-- The extension path: a fusion module written in Lua (a gated sum learnt per channel),
-- dropped into the dual-branch network in place of CAFFM, trained with the same LOSO
-- protocol on the synthetic set. Shows nn.Module:extend, nn.Parameter, native submodules
-- inside a Lua module, and a Lua module inside a native nn.Sequential.
-- Prints pooled accuracy, UF1, UAR; takes a few minutes.
-- Usage: mer-script Scripts/custom_fusion.lua [--epochs N] [--subjects N] [--per-class N]
local cli, ablation = require("cli"), require("ablation")
local o = cli.parse(arg, ablation.defaults, "usage: mer-script Scripts/custom_fusion.lua [--epochs N]")
local ds = ablation.dataset(o)

-- f(g, l) = sigmoid(a) * g' + (1 - sigmoid(a)) * pool(l'), with a learnt per channel.
local GatedFusion = nn.Module:extend("GatedFusion")
function GatedFusion:init(cg, cl, c)
  self.proj_g = nn.Sequential{nn.Conv2d(cg, c, 1, {bias = false}), nn.BatchNorm2d(c), nn.ReLU()}
  self.proj_l = nn.Sequential{nn.Conv2d(cl, c, 1, {bias = false}), nn.BatchNorm2d(c), nn.ReLU()}
  self.gate = nn.Parameter(tensor.zeros{1, c, 1, 1})
end
function GatedFusion:forward(g, l)
  local gp = self.proj_g(g)
  local lp = nn.F.adaptive_avg_pool2d(self.proj_l(l), {gp:size(3), gp:size(4)})
  local w = self.gate:sigmoid()
  return gp * w + lp * (1 - w)
end

-- The two branches with CBAM, the Lua fusion, then the classifier head.
local DualBranch = nn.Module:extend("DualBranch")
function DualBranch:init(classes)
  self.global_branch = nn.Sequential{nn.ResNet12(2, {widths = {32, 64, 128, 256}}), nn.CBAM(256)}
  self.local_branch = nn.Sequential{nn.InceptionBranch(2, {width = 0.5}), nn.CBAM(384)}
  self.fusion = GatedFusion(256, 384, 128)
  self.head = nn.Sequential{nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(128, classes)}
end
function DualBranch:forward(x)
  return self.head(self.fusion(self.global_branch(x), self.local_branch(x)))
end

local probe = DualBranch(#ds:classes())
print(probe)
ablation.run("custom_fusion", o, ds, {{"gated fusion (Lua)", function() return DualBranch(#ds:classes()) end}})
