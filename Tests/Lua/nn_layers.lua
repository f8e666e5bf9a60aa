-- Every nn layer constructor and functional form: shapes, hand-computed values, parameter
-- names, modes, and module userdata behaviour (identity, fields, containers, help).
local T = require("testing")

local function close(a, b, tol, what)
  assert(tensor.is_tensor(a) and tensor.is_tensor(b), (what or "value") .. ": expected two tensors")
  local sa, sb = table.concat(a:shape(), "x"), table.concat(b:shape(), "x")
  assert(sa == sb, string.format("%s: shapes %s and %s differ", what or "value", sa, sb))
  local d = (a - b):abs():max():item()
  if d > (tol or 1e-5) then error(string.format("%s: differs by %g", what or "value", d), 2) end
end

local function shape(t) return table.concat(t:shape(), "x") end

local function set(t, v)
  tensor.no_grad(function()
    if tensor.is_tensor(v) then t:copy_(v) else t:fill_(v) end
  end)
end

mer.seed(42)

T.test("Conv2d: shapes, parameters, a hand-computed value", function()
  local c = nn.Conv2d(1, 1, 3, {padding = 1})
  assert(shape(c.weight) == "1x1x3x3" and shape(c.bias) == "1")
  assert(c:num_parameters() == 10)
  set(c.weight, 1); set(c.bias, 0.5)
  local y = c(tensor.ones{1, 1, 3, 3})
  T.values(y, {4.5, 6.5, 4.5, 6.5, 9.5, 6.5, 4.5, 6.5, 4.5})
  -- options: stride, asymmetric padding, dilation, groups, no bias
  local g = nn.Conv2d(4, 8, {3, 1}, {stride = 2, padding = {1, 0}, dilation = 1, groups = 2, bias = false})
  assert(shape(g.weight) == "8x2x3x1", shape(g.weight))
  assert(g.bias == nil)
  local _, names = g:named_parameters()
  assert(#names == 1 and names[1] == "weight")
  assert(shape(g(tensor.randn{2, 4, 7, 5})) == "2x8x4x3")
  local d = nn.Conv2d(2, 3, 3, {dilation = 2})
  assert(shape(d(tensor.randn{1, 2, 9, 9})) == "1x3x5x5")
  assert(tostring(g):find("Conv2d(4, 8, kernel=3x1, stride=2x2, padding=1x0, groups=2, bias=false)", 1, true), tostring(g))
end)

T.test("Linear: y = x W^T + b", function()
  local l = nn.Linear(3, 2)
  assert(shape(l.weight) == "2x3" and shape(l.bias) == "2")
  set(l.weight, tensor.from{{1, 2, 3}, {0, -1, 1}}); set(l.bias, tensor.from{1, 2})
  T.values(l(tensor.from{{1, 1, 1}, {1, 0, 2}}), {7, 2, 8, 4})
  assert(nn.Linear(3, 2, {bias = false}).bias == nil)
  assert(nn.Linear(5, 7):num_parameters() == 42)
  close(nn.F.linear(tensor.from{{1, 1, 1}}, l.weight, l.bias), tensor.from{{7, 2}}, 1e-6, "F.linear")
  close(nn.F.linear(tensor.from{{1, 1, 1}}, l.weight), tensor.from{{6, 0}}, 1e-6, "F.linear without bias")
end)

T.test("BatchNorm2d: train normalises with batch statistics, eval with running ones", function()
  local bn = nn.BatchNorm2d(2)
  local names = bn:state_dict_keys()
  assert(table.concat(names, ",") == "weight,bias,running_mean,running_var,num_batches_tracked", table.concat(names, ","))
  local x = tensor.randn{4, 2, 3, 3} * 3 + 5
  local y = bn(x)
  T.near(y:mean():item(), 0, 1e-4, "train-mode mean")
  assert(math.abs(bn.running_mean[1] - 0.5) < 0.2, "running mean moves 10% towards the batch mean")
  assert(bn.num_batches_tracked:item() == 1)
  assert(bn.training == true)
  bn:eval()
  assert(bn.training == false)
  local rm, rv = bn.running_mean, bn.running_var
  local expected = (x - rm:reshape{1, 2, 1, 1}) / (rv:reshape{1, 2, 1, 1} + 1e-5):sqrt()
  close(bn(x), expected, 1e-4, "eval uses running statistics")
  assert(bn.num_batches_tracked:item() == 1, "eval leaves the buffers alone")
  bn:train()
  T.near(bn(x):mean():item(), 0, 1e-4, "back in train mode")
  local bn2 = nn.BatchNorm2d(3, {eps = 1e-3, momentum = 0.5, affine = false})
  assert(bn2:num_parameters() == 0)
  assert(tostring(bn2):find("eps=0.001", 1, true), tostring(bn2))
  -- functional form
  local rm2, rv2 = tensor.zeros{2}, tensor.ones{2}
  local f = nn.F.batch_norm(x, rm2, rv2, nil, nil, {training = true, momentum = 0.1})
  T.near(f:mean():item(), 0, 1e-4, "F.batch_norm training")
  assert(rm2[1] ~= 0, "F.batch_norm updates the running mean")
  close(nn.F.batch_norm(x, rm2, rv2), (x - rm2:reshape{1, 2, 1, 1}) / (rv2:reshape{1, 2, 1, 1} + 1e-5):sqrt(), 1e-4, "F.batch_norm eval")
end)

T.test("activations", function()
  local x = tensor.from{-2, -0.5, 0, 1.5}
  T.values(nn.ReLU()(x), {0, 0, 0, 1.5})
  T.values(nn.LeakyReLU(0.1)(x), {-0.2, -0.05, 0, 1.5})
  T.values(nn.LeakyReLU()(x), {-0.02, -0.005, 0, 1.5})
  T.values(nn.Sigmoid()(tensor.from{0}), {0.5})
  T.values(nn.Tanh()(tensor.from{0, 1}), {0, math.tanh(1)})
  T.values(nn.Identity()(x), {-2, -0.5, 0, 1.5})
  T.values(nn.F.relu(x), {0, 0, 0, 1.5})
  T.values(nn.F.leaky_relu(x, 0.5), {-1, -0.25, 0, 1.5})
  T.values(nn.F.sigmoid(tensor.from{0}), {0.5})
  T.values(nn.F.tanh(tensor.from{0}), {0})
  local s = nn.F.softmax(tensor.from{{1, 2, 3}, {0, 0, 0}}, 2)
  T.values(s:sum(2), {1, 1})
  T.values(s[2], {1 / 3, 1 / 3, 1 / 3})
  close(nn.F.log_softmax(tensor.from{{1, 2, 3}}, -1):exp(), nn.F.softmax(tensor.from{{1, 2, 3}}, -1), 1e-6, "log_softmax")
end)

T.test("pooling layers and their functional forms", function()
  local x = tensor.arange(16):reshape{1, 1, 4, 4}
  T.values(nn.MaxPool2d(2)(x), {5, 7, 13, 15})
  T.values(nn.AvgPool2d(2)(x), {2.5, 4.5, 10.5, 12.5})
  T.values(nn.F.max_pool2d(x, 2), {5, 7, 13, 15})
  T.values(nn.F.avg_pool2d(x, {2, 2}), {2.5, 4.5, 10.5, 12.5})
  assert(shape(nn.MaxPool2d(3, {stride = 2, padding = 1})(x)) == "1x1x2x2")
  assert(shape(nn.MaxPool2d(3, {stride = 2, ceil_mode = true})(tensor.ones{1, 1, 6, 6})) == "1x1x3x3")
  assert(shape(nn.MaxPool2d(3, {stride = 2})(tensor.ones{1, 1, 6, 6})) == "1x1x2x2")
  -- padding 1 around a 2x2 window: with count_include_pad the zeros count, without they do not
  local one = tensor.ones{1, 1, 2, 2}
  T.values(nn.AvgPool2d(2, {stride = 2, padding = 1})(one), {0.25, 0.25, 0.25, 0.25})
  T.values(nn.AvgPool2d(2, {stride = 2, padding = 1, count_include_pad = false})(one), {1, 1, 1, 1})
  T.values(nn.F.avg_pool2d(one, 2, {stride = 2, padding = 1, count_include_pad = false}), {1, 1, 1, 1})
  T.values(nn.AdaptiveAvgPool2d(1)(x), {7.5})
  T.values(nn.AdaptiveMaxPool2d({2, 1})(x), {7, 15})
  T.values(nn.F.adaptive_avg_pool2d(x, {1, 2}), {6.5, 8.5})
  T.values(nn.F.adaptive_max_pool2d(x, 1), {15})
  assert(tostring(nn.MaxPool2d(3, {stride = 2})):find("kernel=3x3, stride=2x2", 1, true))
end)

T.test("Dropout: seeded masks repeat, eval is the identity", function()
  local x = tensor.ones{200}
  local a, b = nn.Dropout(0.5, {seed = 7}), nn.Dropout(0.5, {seed = 7})
  local ya, yb = a(x), b(x)
  close(ya, yb, 0, "same seed, same mask")
  local zeros, twos = 0, 0
  for i = 1, 200 do
    if ya[i] == 0 then zeros = zeros + 1 elseif math.abs(ya[i] - 2) < 1e-6 then twos = twos + 1 end
  end
  assert(zeros + twos == 200 and zeros > 60 and twos > 60, string.format("%d zeros, %d twos", zeros, twos))
  a:eval()
  close(a(x), x, 0, "eval")
  assert(nn.Dropout():eval()(x):sum():item() == 200)
  close(nn.F.dropout(x, 0.3, {training = false}), x, 0, "F.dropout eval")
  local f = nn.F.dropout(x, 0.25)
  assert(f:max():item() - 1 / 0.75 < 1e-5, "F.dropout scales by 1/(1-p)")
  close(nn.F.dropout(x, 0), x, 0, "p = 0")
  assert(nn.F.dropout(x, 1):sum():item() == 0)
end)

T.test("Flatten", function()
  assert(shape(nn.Flatten()(tensor.ones{2, 3, 4, 5})) == "2x60")
  assert(shape(nn.Flatten(3)(tensor.ones{2, 3, 4, 5})) == "2x3x20")
  assert(shape(nn.F.flatten(tensor.ones{2, 3, 4})) == "2x12")
end)

T.test("F.conv2d agrees with Conv2d", function()
  local c = nn.Conv2d(3, 6, 3, {stride = 2, padding = 1, groups = 3})
  local x = tensor.randn{2, 3, 8, 8}
  close(nn.F.conv2d(x, c.weight, c.bias, {stride = 2, padding = 1, groups = 3}), c(x), 1e-6, "F.conv2d")
  local nb = nn.Conv2d(3, 2, 1, {bias = false})
  close(nn.F.conv2d(x, nb.weight), nb(x), 1e-6, "F.conv2d without bias")
end)

T.test("Sequential: names, indexing, add, state dict", function()
  local s = nn.Sequential{nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU()}
  assert(#s == 3)
  local sd, names = s:state_dict(), s:state_dict_keys()
  assert(select("#", s:state_dict()) == 1)
  assert(table.concat(names, ",") == "0.weight,0.bias,1.weight,1.bias,1.running_mean,1.running_var,1.num_batches_tracked",
         table.concat(names, ","))
  assert(shape(sd["0.weight"]) == "4x3x3x3" and shape(sd["1.running_mean"]) == "4")
  local np, pnames = s:named_parameters()
  assert(#pnames == 4 and np["1.bias"] ~= nil and np["1.running_mean"] == nil)
  local _, bnames = s:named_buffers()
  assert(table.concat(bnames, ",") == "1.running_mean,1.running_var,1.num_batches_tracked")
  assert(#s:parameters() == 4 and s:num_parameters() == 112 + 8)
  assert(s[1] == s[1], "the same module gives the same userdata")
  assert(s[4] == nil and s[0] == nil)
  assert(s["1"] == s[2], "children by name")
  local kids, knames = s:children()
  assert(#kids == 3 and kids[2] == s[2] and knames[3] == "2")
  assert(shape(s(tensor.randn{2, 3, 6, 6})) == "2x4x4x4")
  assert(s:add(nn.Flatten()) == s and #s == 4)
  assert(shape(s(tensor.randn{2, 3, 6, 6})) == "2x64")
  local e = nn.Sequential{}
  assert(#e == 0)
  e:add(nn.Linear(2, 3), nn.ReLU())
  assert(#e == 2 and shape(e(tensor.ones{1, 2})) == "1x3")
  local str = tostring(s)
  assert(str:find("(0): Conv2d(3, 4, kernel=3x3)", 1, true) and str:find("(3): Flatten", 1, true), str)
  -- train/eval reach every child and return the module
  assert(s:eval() == s and s[2].training == false)
  assert(s:train() == s and s[2].training == true)
end)

T.test("load_state_dict copies values and keeps identity", function()
  local a = nn.Sequential{nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)}
  local b = nn.Sequential{nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)}
  local x = tensor.randn{2, 2, 5, 5}
  a(x) -- moves a's running statistics
  local w = b[1].weight
  local missing, unexpected = b:load_state_dict(a:state_dict())
  assert(#missing == 0 and #unexpected == 0)
  a:eval(); b:eval()
  close(a(x), b(x), 0, "same weights, same outputs")
  close(b[2].running_mean, a[2].running_mean, 0, "buffers copied")
  -- the old handle still refers to the module's weight
  close(w, a[1].weight, 0, "identity kept")
  -- strict mode reports every problem and changes nothing
  local sd = a:state_dict()
  sd["1.bias"] = nil
  sd["extra"] = tensor.ones{1}
  sd["0.weight"] = tensor.ones{3, 2, 1, 1}
  local err = T.raises("nn.Module.load_state_dict: 3 problems", b.load_state_dict, b, sd)
  assert(err:find("missing 1.bias", 1, true) and err:find("unexpected extra", 1, true) and err:find("0.weight", 1, true), err)
  close(b[1].weight, a[1].weight, 0, "nothing changed")
  sd["0.weight"] = nil
  local m2, u2 = b:load_state_dict(sd, {strict = false})
  assert(table.concat(m2, ",") == "0.weight,1.bias" and table.concat(u2, ",") == "extra", table.concat(m2, ",") .. " / " .. table.concat(u2, ","))
end)

T.test("Concat joins along a 1-based dimension", function()
  local c = nn.Concat(2, {nn.Conv2d(3, 4, 1), nn.Conv2d(3, 2, 1), nn.Identity()})
  assert(#c == 3)
  assert(shape(c(tensor.ones{1, 3, 5, 5})) == "1x9x5x5")
  local names = c:state_dict_keys()
  assert(names[1] == "0.weight" and names[3] == "1.weight")
  assert(tostring(c):find("Concat(dim=1)", 1, true), tostring(c)) -- the engine shows its 0-based dim
end)

T.test("module userdata keep script fields and refuse replacing parameters", function()
  local s = nn.Sequential{nn.Linear(2, 2)}
  s[1].tag = "stem"
  collectgarbage(); collectgarbage()
  assert(s[1].tag == "stem", "fields persist across collections")
  T.raises("cannot replace 'weight' of a Linear", function() s[1].weight = tensor.ones{2, 2} end)
  T.raises("set training mode with m:train() or m:eval()", function() s.training = false end)
  assert(nn.is_module(s) and not nn.is_module(tensor.ones{1}) and not nn.is_module({}))
  local zg = nn.Linear(2, 1)
  zg(tensor.ones{1, 2}):sum():backward()
  assert(zg.weight.grad ~= nil)
  assert(zg:zero_grad() == zg and zg.weight.grad == nil)
end)

T.test("help describes nn bindings", function()
  local printed = {}
  local saved = print
  print = function(s) printed[#printed + 1] = s end
  local ok, err = pcall(function()
    help(nn.Conv2d); help(nn.F.conv2d); help(nn.Sequential); help(nn.Module.extend); help(nn); help(nn.Linear(1, 1))
    help("nn.BatchNorm2d")
  end)
  print = saved
  assert(ok, err)
  assert(printed[1]:find("^nn%.Conv2d%(cin, cout, k"), printed[1])
  assert(printed[2]:find("^nn%.F%.conv2d%(x, w"), printed[2])
  assert(printed[3]:find("^nn%.Sequential"), printed[3])
  assert(printed[4]:find("^nn%.Module:extend%(name%)"), printed[4])
  assert(printed[5]:find("Conv2d", 1, true) and printed[5]:find("Module", 1, true), printed[5])
  assert(printed[6]:find("a module", 1, true) and printed[6]:find("state_dict", 1, true), printed[6])
  assert(printed[7]:find("^nn%.BatchNorm2d%(c"), printed[7])
end)

return T.done()
