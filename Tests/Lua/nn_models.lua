-- The seed paper's blocks and model from Lua: shapes, parameter counts, options, training.
local T = require("testing")

T.test("attention and fusion blocks", function()
  mer.seed(1)
  local x = tensor.randn{2, 16, 6, 5}
  for _, m in ipairs{nn.ChannelAttention(16, {reduction = 4}), nn.SpatialAttention(), nn.CBAM(16, {reduction = 4, kernel = 3})} do
    local y = m(x)
    assert(y:size(1) == 2 and y:size(2) == 16 and y:size(3) == 6 and y:size(4) == 5, tostring(m))
  end
  local g, l = tensor.randn{2, 8, 4, 4}, tensor.randn{2, 6, 7, 7}
  local f = nn.CAFFM(8, 6, 5, {reduction = 2})
  local y = f(g, l)
  assert(y:size(2) == 5 and y:size(3) == 4)
  local c = nn.ConcatFusion(8, 6)(g, l)
  assert(c:size(2) == 14 and c:size(4) == 4)
  T.raises("forward takes 2 inputs", function() return f(g) end)
end)

T.test("branches", function()
  local x = tensor.randn{1, 2, 64, 64}
  local r = nn.ResNet12(2, {widths = {8, 16, 24, 32}})
  local y = r(x)
  assert(y:size(2) == 32 and y:size(3) == 4)
  local keys = r:state_dict_keys()
  assert(keys[1] == "blocks.0.body.0.weight", keys[1])
  local has = {}
  for _, k in ipairs(keys) do has[k] = true end
  assert(has["blocks.2.short.0.weight"] and has["blocks.3.body.7.running_var"])
  local r18 = nn.ResNet(18, 2, {widths = {8, 8, 16, 16}})
  assert(r18(x):size(2) == 16)
  T.raises("nn.ResNet: argument 1: expected depth 18 or 34, got 50", nn.ResNet, 50, 2)
  local inc = nn.InceptionBranch(2, {width = 0.1})
  assert(inc(x):dim() == 4)
end)

T.test("DBFEM: both configurations, parameter counts, options", function()
  local paper = nn.DBFEM{}
  assert(paper:num_parameters() == 15456479, paper:num_parameters())
  local quick = nn.DBFEM{config = "quick"}
  assert(quick:num_parameters() == 4892359, quick:num_parameters())
  assert(tostring(quick):find("DBFEM", 1, true) and tostring(quick):find("params]", 1, true))
  local x = tensor.randn{2, 2, 64, 64}
  for _, o in ipairs{
    {config = "quick", fusion = "concat"}, {config = "quick", attention = false},
    {config = "quick", branches = "global"}, {config = "quick", branches = "local", classes = 3},
    {global = "resnet18", widths = {16, 16, 32, 32}, fused_channels = 32},
  } do
    local m = nn.DBFEM(o)
    local y = m(x)
    assert(y:size(1) == 2 and y:size(2) == (o.classes or 5))
  end
  T.raises("nn.DBFEM: argument 1: unknown option 'fuse'", nn.DBFEM, {fuse = "caffm"})
  T.raises("nn.DBFEM:", nn.DBFEM, {global = "vgg"})
  T.raises("option 'config'", nn.DBFEM, {config = "huge"})
end)

T.test("eval outputs follow weights loaded or changed in place (inference's prepared weights are remade)", function()
  local x = tensor.randn{1, 2, 32, 32}
  local function model(seed) mer.seed(seed); local m = nn.DBFEM{config = "quick", classes = 5}; m:eval(); return m end
  local a, b = model(1), model(2)
  local ya = tensor.no_grad(function() return a(x) end)
  local yb = tensor.no_grad(function() return b(x) end)
  assert((ya - yb):abs():max():item() > 1e-3, "two seeds, two models")
  local path = os.tmpname() .. ".safetensors"
  b:save(path)
  a:load(path)
  os.remove(path)
  local loaded = tensor.no_grad(function() return a(x) end)
  assert((loaded - yb):abs():max():item() == 0, "after load: the loaded weights' output, bit for bit")
  tensor.no_grad(function() for _, p in ipairs(a:parameters()) do p:mul_(0.5) end end)
  local halved = tensor.no_grad(function() return a(x) end)
  assert((halved - loaded):abs():max():item() > 1e-3, "weights changed in place change the output")
end)

T.test("DBFEM quick trains: the loss falls on a fixed batch", function()
  mer.seed(4)
  local m = nn.DBFEM{config = "quick", dropout = 0}
  local opt = optim.Adam(m:parameters(), {lr = 1e-3})
  local x = tensor.randn{4, 2, 64, 64}
  local y = {1, 2, 3, 4}
  local first, last
  for i = 1, 6 do
    opt:zero_grad()
    local loss = nn.cross_entropy(m(x), y)
    loss:backward()
    opt:step()
    first = first or loss:item()
    last = loss:item()
  end
  assert(last < first, string.format("loss %.4f -> %.4f", first, last))
  m:eval()
  local p = tensor.no_grad(function() return m(x):softmax(2) end)
  T.near(p:sum(2)[1], 1, 1e-5)
end)

return T.done()
