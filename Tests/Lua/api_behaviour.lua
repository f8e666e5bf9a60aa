-- What a new user tries first and expects to behave as in PyTorch and safetensors: loading
-- shared state dicts, multi-tensor files, 1-based dimensions in errors, typed run configs,
-- and help for every function.
local T = require("testing")

local function tmp(ext) return os.tmpname() .. ext end
local function read(path) local f = assert(io.open(path)); local s = f:read("a"); f:close(); return s end

local function bnNet()
  mer.seed(1)
  return nn.Sequential{nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)}
end

T.test("a state dict without num_batches_tracked loads strictly, counters start at 0", function()
  local a = bnNet()
  a(tensor.randn{2, 1, 5, 5})
  local sd = a:state_dict()
  sd["1.num_batches_tracked"] = nil   -- as in files converted or filtered for sharing
  local path = tmp(".safetensors")
  tensor.save(sd, path)
  local b = nn.Sequential{nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)}
  b[2].num_batches_tracked:fill_(7)
  local same, missing, unexpected = b:load(path)
  assert(same == b and #missing == 0 and #unexpected == 0)
  assert(b[2].num_batches_tracked:item() == 0, "counter reset as PyTorch does")
  T.values(b[2].running_mean, a[2].running_mean:totable())
  -- load_state_dict agrees
  local m2, u2 = b:load_state_dict(sd)
  assert(#m2 == 0 and #u2 == 0)
  os.remove(path)
end)

T.test("m:load with {strict = false} returns the missing and unexpected names", function()
  local a = bnNet()
  local sd = a:state_dict()
  sd["1.bias"] = nil
  sd["head.weight"] = tensor.ones{3}
  local path = tmp(".safetensors")
  tensor.save(sd, path)
  local b = nn.Sequential{nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)}
  T.raises("nn.Module.load: load_state_dict: 2 problems", b.load, b, path)
  local _, missing, unexpected = b:load(path, {strict = false})
  assert(table.concat(missing, ",") == "1.bias", table.concat(missing, ","))
  assert(table.concat(unexpected, ",") == "head.weight", table.concat(unexpected, ","))
  T.values(b[1].weight, a[1].weight:reshape{-1}:totable())
  T.raises("nn.Module.load: argument 2: unknown option 'strct'", b.load, b, path, {strct = false})
  T.raises("nn.Module.load: argument 2: option 'strict': expected a boolean, got number", b.load, b, path, {strict = 0})
  os.remove(path)
end)

T.test("tensor.save of a table and tensor.load of a multi-tensor file", function()
  local path = tmp(".safetensors")
  tensor.save({w = tensor.from{{1, 2}, {3, 4}}, b = tensor.from{5, 6}}, path)
  local all = tensor.load(path)
  assert(type(all) == "table" and tensor.is_tensor(all.w) and tensor.is_tensor(all.b))
  T.values(all.w, {1, 2, 3, 4}); T.values(all.b, {5, 6})
  T.values(tensor.load(path, "b"), {5, 6})
  -- a one-tensor file still gives the tensor
  tensor.save(tensor.from{7}, path)
  T.values(tensor.load(path), {7})
  tensor.save(tensor.from{8}, path, "x")
  T.values(tensor.load(path, "x"), {8})
  T.raises("tensor.save: argument 1: entry 'w' is number, expected a tensor", tensor.save, {w = 1}, path)
  T.raises("tensor.save: argument 1: expected a tensor or a non-empty table name → tensor", tensor.save, {}, path)
  T.raises("tensor.save: argument 2: expected a string, got nil", tensor.save, tensor.from{1}, nil)
  os.remove(path)
end)

T.test("shape errors number dimensions from 1", function()
  T.raises("tensor.add: shapes [2, 3] and [2, 4] cannot be broadcast (dimension 2: 3 vs 4)",
           function() return tensor.ones{2, 3} + tensor.ones{2, 4} end)
  T.raises("outside dimension 2", tensor.cat, {tensor.ones{2, 2}, tensor.ones{3, 3}}, 2)
end)

T.test("declared fields: reads, checked assignments, read-only ones refused by name", function()
  local t = tensor.ones{2}:requires_grad(true)
  t:sum():backward()
  T.values(t.grad, {1, 1})
  T.raises("tensor.__newindex: field 'grad': expected the tensor's shape [2], got [3]", function() t.grad = tensor.ones{3} end)
  t.grad = nil
  assert(t.grad == nil)
  local opt = optim.SGD({t}, {lr = 0.1})
  assert(opt.lr == 0.1 and opt.steps == 0 and opt.name == "SGD")
  opt.lr = 0.05
  assert(opt.lr == 0.05)
  T.raises("optim.optimizer.__newindex: field 'lr': expected a non-negative number, got -1", function() opt.lr = -1 end)
  T.raises("cannot set field 'steps' of an optimiser (only lr can be set)", function() opt.steps = 3 end)
  local s = optim.StepLR(opt, {step = 2})
  s.epoch = 4
  assert(s.epoch == 4 and math.abs(s.lr - 0.05 * 0.01) < 1e-12, s.lr) -- base lr 0.05, two decays
  T.raises("optim.schedule.__newindex: field 'epoch': expected an epoch in 0...1000000000, got -1", function() s.epoch = -1 end)
end)

T.test("huge and non-finite numbers are refused where they cannot be meant", function()
  local t = tensor.ones{4}
  T.raises("tensor.narrow: argument 3: length " .. math.maxinteger, t.narrow, t, 1, 2, math.maxinteger)
  T.raises("tensor.fill_: argument 1: 1e+300 is out of range for a 32-bit float", t.fill_, t, 1e300)
  T.raises("tensor.full: argument 2: expected a number, got nan", tensor.full, {2}, 0/0)
  T.raises("tensor.from: argument 1: element [2] is 1e+300, out of range for a 32-bit float", tensor.from, {1, 1e300})
  T.raises("nn.Linear: argument 1: expected a positive integer, got -9223372036854775808", nn.Linear, math.mininteger, 2)
  T.raises("nn.BatchNorm2d: argument 2: option 'eps': expected a non-negative number, got inf", nn.BatchNorm2d, 2, {eps = math.huge})
  T.values(t, {1, 1, 1, 1})
  assert(tostring(tensor.ones{2}:expand{1e12, 2}) == "tensor of shape [1000000000000, 2], 2000000000000 elements")
  T.raises("data.synthetic: synthetic.sample: subjects × perClass must stay within 2^28", data.synthetic, {subjects = 1e12})
  -- an engine message that already names the binding is not prefixed twice
  local err = T.raises("image.resize: output size 1000000000x1000000000 is too large", image.resize, tensor.ones{1, 4, 4}, 1e9, 1e9)
  assert(not err:find("image.resize: image.resize", 1, true), err)
end)

T.test("config.json keeps numbers, booleans and strings typed", function()
  local d = os.tmpname(); os.remove(d)
  local run = eval.run{name = "typed", dir = d, config = {epochs = 8, lr = 0.001, eps = 1e-8, augment = true, model = "dbfem"}}
  local cfg = read(run.dir .. "/config.json")
  for _, want in ipairs{'"epochs": 8', '"augment": true', '"model": "dbfem"', '"lr": 0.001', '"eps": 1e-08'} do
    assert(cfg:find(want, 1, true), want .. " not in " .. cfg)
  end
  assert(not cfg:find('"epochs": "8"', 1, true), cfg)
end)

T.test("every function and method has its own help text", function()
  local printed
  local realprint = print
  print = function(s) printed = s end
  local seen, missing, count, optHelp = {}, {}, 0, nil
  local function check(name, f)
    if type(f) ~= "function" or seen[f] then return end
    seen[f] = true
    count = count + 1
    printed = nil
    help(f)
    if not printed or printed:find("without help text", 1, true) or not printed:find("\n", 1, true) then
      missing[#missing + 1] = name
    end
  end
  local ok, err = pcall(function()
    check("help", help)
    for _, m in ipairs{"tensor", "nn", "optim", "image", "data", "eval", "mer"} do
      for k, v in pairs(_G[m]) do
        if type(k) == "string" and k:sub(1, 1) ~= "_" then check(m .. "." .. k, v) end
      end
    end
    for k, v in pairs(nn.F) do check("nn.F." .. k, v) end
    for k, v in pairs(nn.Module) do
      if type(k) == "string" and k:sub(1, 2) ~= "__" then check("nn.Module." .. k, v) end
    end
    -- the methods of every userdata type, found through the registry's metatables
    for name, mt in pairs(debug.getregistry()) do
      if type(name) == "string" and name:match("^mer%.") and type(mt) == "table" and type(rawget(mt, "methods")) == "table" then
        for k, v in pairs(mt.methods) do check(name .. ":" .. k, v) end
      end
    end
    printed = nil
    help(optim.SGD({tensor.ones{1}:requires_grad(true)}))
    optHelp = printed
    printed = nil
    help(tensor.save)
  end)
  print = realprint
  assert(ok, err)
  assert(#missing == 0, "no help text: " .. table.concat(missing, ", "))
  assert(count > 150, "walked only " .. count .. " functions")
  assert(printed:find("^tensor%.save%(t, path"), printed)
  assert(optHelp:find("an optimizer; fields: lr, steps, name. Methods:", 1, true), optHelp)
end)

return T.done()
