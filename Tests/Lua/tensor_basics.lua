-- The tensor section of LUA_API.md, exercised as a script would.
local T = require("testing")

T.test("creation", function()
  assert(tostring(tensor.zeros{2, 3}:shape()[2]) == "3")
  local z = tensor.zeros(2, 3)
  assert(z:dim() == 2 and z:numel() == 6 and #z == 2 and z:size(2) == 3)
  T.values(tensor.ones{3}, {1, 1, 1})
  T.values(tensor.full({2}, 7), {7, 7})
  T.values(tensor.arange(4), {0, 1, 2, 3})
  T.values(tensor.arange(1, 2, 0.5), {1, 1.5})
  local f = tensor.from{{1, 2}, {3, 4}}
  assert(f:size(1) == 2 and f:size(2) == 2)
  T.values(f, {1, 2, 3, 4})
  assert(tensor.from(5):dim() == 0 and tensor.from(5):item() == 5)
  assert(tensor.is_tensor(f) and not tensor.is_tensor({}))
end)

T.test("seeded random numbers repeat", function()
  mer.seed(7); local a = tensor.randn{5}
  mer.seed(7); local b = tensor.randn{5}
  mer.seed(8); local c = tensor.randn{5}
  assert((a - b):abs():sum():item() == 0)
  assert((a - c):abs():sum():item() > 0)
  local u = tensor.rand{1000}
  assert(u:min():item() >= 0 and u:max():item() < 1)
end)

T.test("1-based indexing matches Lua", function()
  local t = tensor.arange(6):reshape{2, 3}
  assert(t[1][1] == 0 and t[2][3] == 5 and t[-1][-1] == 5)
  T.values(t[2], {3, 4, 5})
  T.values(t:select(2, 1), {0, 3})
  T.values(t:narrow(2, 2, 2), {1, 2, 4, 5})
  local v = tensor.arange(3)
  v[2] = 10
  T.values(v, {0, 10, 2})
  t[1] = 9
  T.values(t, {9, 9, 9, 3, 4, 5})
  t[2] = tensor.from{1, 2, 3}
  T.values(t, {9, 9, 9, 1, 2, 3})
  local m = tensor.from{{1, 5, 2}, {7, 0, 3}}
  local values, idx = m:max(2)
  T.values(values, {5, 7}); T.values(idx, {2, 1})
  T.values(m:argmax(1), {2, 1, 2})
  assert(m:argmax():item() == 4)
  T.raises("index 3 out of range for a dimension of size 2", function() return m[3] end)
  T.raises("dimension 3 out of range", function() return m:sum(3) end)
end)

T.test("views", function()
  local t = tensor.arange(24):reshape{2, 3, 4}
  local p = t:permute{3, 1, 2}
  assert(p:size(1) == 4 and p:size(3) == 3 and not p:is_contiguous())
  assert(p[4][2][3] == t[2][3][4])
  T.values(t:transpose(1, 3):contiguous():reshape{-1}:narrow(1, 1, 3), {0, 12, 4})
  assert(t:reshape{6, -1}:size(2) == 4)
  T.raises("tensor.view: tensor is not contiguous", function() return p:view{24} end)
  T.values(tensor.from{{1}, {2}}:expand{2, 3}, {1, 1, 1, 2, 2, 2})
  assert(t:unsqueeze(1):dim() == 4 and t:unsqueeze(1):squeeze(1):dim() == 3)
  assert(t:flatten(2):size(2) == 12)
  local c = t:clone(); c[1] = 0
  assert(t[1][1][2] == 1, "clone does not share storage")
end)

T.test("arithmetic and broadcasting", function()
  local a = tensor.from{{1, 2}, {3, 4}}
  local b = tensor.from{10, 20}
  T.values(a + b, {11, 22, 13, 24})
  T.values(a - 1, {0, 1, 2, 3})
  T.values(2 * a, {2, 4, 6, 8})
  T.values(12 / a, {12, 6, 4, 3})
  T.values(a ^ 2, {1, 4, 9, 16})
  T.values(-a, {-1, -2, -3, -4})
  T.values(a:matmul(a), {7, 10, 15, 22})
  T.values(a:exp():log(), {1, 2, 3, 4}, 1e-5)
  T.values(a:clamp(2, 3), {2, 2, 3, 3})
  T.values(a:clamp(nil, 2), {1, 2, 2, 2})
  T.values(a:gt(2), {0, 0, 1, 1})
  T.values(a:maximum(2.5), {2.5, 2.5, 3, 4})
  T.values(a:sum(1), {4, 6})
  T.values(a:mean(2, true), {1.5, 3.5})
  T.near(a:softmax(2)[1][2], 1 / (1 + math.exp(-1)), 1e-6)
  T.values(tensor.cat({a, a}, 1):sum(2), {3, 7, 3, 7})
  assert(tensor.stack({b, b}, 2):size(2) == 2)
  T.raises("cannot be broadcast", function() return a + tensor.ones{3} end)
  local s = "x" .. tensor.from{1}
  assert(s:find("tensor of shape", 1, true))
end)

T.test("in-place forms", function()
  local t = tensor.zeros{3}
  assert(t:add_(1) == t)
  t:mul_(4):sub_(1):div_(3)
  T.values(t, {1, 1, 1})
  t:copy_(tensor.from{1, 2, 3}):clamp_(2, 2.5)
  T.values(t, {2, 2, 2.5})
  t:fill_(3); t:zero_()
  T.values(t, {0, 0, 0})
end)

T.test("autograd from Lua", function()
  local x = tensor.from{1, 2, 3}:requires_grad(true)
  assert(x:requires_grad() == true and x:is_leaf())
  local y = (x * x):sum()
  assert(not y:is_leaf())
  y:backward()
  T.values(x.grad, {2, 4, 6})
  x.grad = nil
  assert(x.grad == nil)
  local z = tensor.no_grad(function() return x * 2 end)
  assert(z:requires_grad() == false)
  T.raises("does not require grad", function() z:sum():backward() end)
  local w = tensor.from{{1, 2}, {3, 4}}:requires_grad(true)
  local out = w:transpose(1, 2):narrow(1, 2, 1)
  out:backward(tensor.ones{1, 2})
  T.values(w.grad, {0, 1, 0, 1})
  T.raises("requires grad", function() w:add_(1) end)
  tensor.no_grad(function() w:add_(1) end)
  T.values(w, {2, 3, 4, 5})
  local d = w:detach()
  assert(d:requires_grad() == false)
  -- no_grad passes arguments and results through, and lets errors out.
  local a, b = tensor.no_grad(function(p, q) return p + 1, q end, 1, "x")
  assert(a == 2 and b == "x")
  T.raises("boom", function() tensor.no_grad(function() error("boom") end) end)
end)

T.test("tostring: full for small tensors, a summary for large ones", function()
  assert(tostring(tensor.from{{1, 2}, {3, 4}}) == "[[1 2]\n [3 4]]\ntensor of shape [2, 2]")
  local s = tostring(tensor.ones{100, 100})
  assert(s == "tensor of shape [100, 100], 10000 elements: min 1, max 1, mean 1, std 0", s)
end)

T.test("mer module", function()
  assert(type(mer.version) == "string")
  local before = mer.threads()
  assert(mer.threads(1) == 1)
  mer.threads(before)
  mer.seed(3); tensor.randn{3}
  local state = mer.rng_state()
  local a = tensor.randn{4}
  mer.set_rng_state(state)
  assert((tensor.randn{4} - a):abs():sum():item() == 0, "restoring the state repeats the stream")
  T.raises("mer.set_rng_state: argument 1: expected a state string", mer.set_rng_state, "nope")
  local t0 = mer.time(); local t1 = mer.time()
  assert(t1 >= t0)
end)

T.test("save and load .safetensors", function()
  local path = os.tmpname() .. ".safetensors"
  local t = tensor.arange(6):reshape{2, 3}:transpose(1, 2)
  t:save(path)
  local u = tensor.load(path)
  assert(u:size(1) == 3 and u:size(2) == 2)
  T.values(u, {0, 3, 1, 4, 2, 5})
  T.raises("tensor.load: safetensors:", tensor.load, "/nonexistent/x.safetensors")
  T.raises("tensor.load: argument 1: expected a string, got number", tensor.load, 3)
  os.remove(path)
end)

return T.done()
