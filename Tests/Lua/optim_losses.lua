-- optim and the losses from Lua, plus module checkpoints.
local T = require("testing")

T.test("cross_entropy takes 1-based labels and matches a hand computation", function()
  local logits = tensor.from{{1, 2, 3}, {1, 1, 1}}
  local loss = nn.cross_entropy(logits, {3, 1})
  -- row 1: -log softmax_3 = log(e^1+e^2+e^3) - 3 ; row 2: log 3
  local l1 = math.log(math.exp(1) + math.exp(2) + math.exp(3)) - 3
  T.near(loss:item(), (l1 + math.log(3)) / 2, 1e-6)
  T.near(nn.cross_entropy(logits, tensor.from{3, 1}):item(), loss:item(), 1e-7)
  local weighted = nn.cross_entropy(logits, {3, 1}, {weight = tensor.from{2, 1, 1}})
  T.near(weighted:item(), (l1 * 1 + math.log(3) * 2) / 3, 1e-6)
  T.raises("nn.cross_entropy: target", nn.cross_entropy, logits, {4, 1})
  T.raises("nn.cross_entropy: argument 2: expected class labels", nn.cross_entropy, logits, "x")
  T.raises("nn.cross_entropy: argument 3: unknown option 'smoothing'", nn.cross_entropy, logits, {1, 1}, {smoothing = 0.1})
  T.near(nn.mse(tensor.from{1, 2}, tensor.from{2, 4}):item(), 2.5, 1e-7)
  T.raises("nn.mse:", nn.mse, tensor.ones{2}, tensor.ones{3})
end)

T.test("Adam, SGD and StepLR train a small classifier", function()
  for _, make in ipairs{
    function(p) return optim.Adam(p, {lr = 0.05}) end,
    function(p) return optim.AdamW(p, {lr = 0.05, weight_decay = 0.01}) end,
    function(p) return optim.SGD(p, {lr = 0.5, momentum = 0.9, nesterov = true}) end,
  } do
    mer.seed(3)
    local m = nn.Sequential{nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)}
    local opt = make(m:parameters())
    local x = tensor.randn{32, 4}
    local y = (x:select(2, 1):gt(0) + 1)
    local first, last
    for i = 1, 40 do
      opt:zero_grad()
      local loss = nn.cross_entropy(m(x), y)
      loss:backward()
      opt:step()
      first = first or loss:item()
      last = loss:item()
    end
    assert(last < first * 0.5, string.format("%s: loss %.4f -> %.4f", tostring(opt), first, last))
    assert(opt.steps == 40)
  end
  local opt = optim.SGD({tensor.ones{1}:requires_grad(true)}, {lr = 1})
  local s = optim.StepLR(opt, {step = 2, gamma = 0.5})
  local lrs = {}
  for e = 1, 5 do s:step(); lrs[#lrs + 1] = opt.lr end
  T.values(tensor.from(lrs), {1, 0.5, 0.5, 0.25, 0.25})
  local c = optim.CosineLR(opt, {epochs = 4})
  c.epoch = 2
  T.near(opt.lr, 0.125, 1e-9) -- base 0.25, halfway through the cosine
  T.near(c.lr, 0.125, 1e-9)
  opt.lr = 0.1
  assert(math.abs(opt.lr - 0.1) < 1e-12)
end)

T.test("optimiser arguments are checked", function()
  local p = {tensor.ones{1}:requires_grad(true)}
  T.raises("optim.Adam: argument 1: expected a table of tensors", optim.Adam, "x")
  T.raises("optim.Adam: argument 2: unknown option 'learning_rate'", optim.Adam, p, {learning_rate = 1})
  T.raises("optim.Adam: argument 2: option 'lr': expected a number, got string", optim.Adam, p, {lr = "x"})
  T.raises("beta1 must be in [0, 1)", optim.Adam, p, {betas = {1.5, 0.9}})
  T.raises("optim.SGD:", optim.SGD, p, {momentum = -1})
  T.raises("optim.StepLR: argument 2: expected an options table with step", optim.StepLR, optim.SGD(p), {})
  T.raises("optim.StepLR: argument 1: expected an optimiser, got table", optim.StepLR, {}, {step = 1})
  T.raises("only lr can be set", function() local o = optim.SGD(p); o.momentum = 1 end)
end)

T.test("m:save and m:load round-trip and report mismatches", function()
  mer.seed(5)
  local a = nn.Sequential{nn.Conv2d(2, 3, 3, {padding = 1}), nn.BatchNorm2d(3), nn.ReLU()}
  local b = nn.Sequential{nn.Conv2d(2, 3, 3, {padding = 1}), nn.BatchNorm2d(3), nn.ReLU()}
  local path = os.tmpname() .. ".safetensors"
  local x = tensor.randn{2, 2, 5, 5}
  a(x) -- updates running statistics
  a:save(path)
  b:load(path)
  a:eval(); b:eval()
  assert((a(x) - b(x)):abs():max():item() == 0)
  local c = nn.Sequential{nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4)}
  local err = T.raises("nn.Module.load:", c.load, c, path)
  assert(err:find("0.weight: shape [3, 2, 3, 3]", 1, true), err)
  os.remove(path)
end)

return T.done()
