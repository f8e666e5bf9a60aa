-- Every binding, called with a battery of wrong arguments inside pcall: each must fail
-- with a message naming the function (and the argument where there is one), and the
-- host must keep running.
local T = require("testing")

local t = tensor.ones{2, 3}
local wrong = {{"nil", nil}, {"'x'", "x"}, {"{}", {}}, {"{'a'}", {"a"}}, {"{1.5}", {1.5}}, {"{-1}", {-1}},
               {"true", true}, {"fn", function() end}, {"1e12", 1e12}, {"-1", -1}, {"nan", 0/0}, {"t", t}}

T.test("creation functions reject bad shapes", function()
  T.raises("tensor.zeros: argument 1: expected a table of non-negative integers (the shape), got string", tensor.zeros, "x")
  T.raises("tensor.zeros: argument 1: expected a table of non-negative integers (the shape), got no value", tensor.zeros)
  T.raises("tensor.zeros: argument 1: expected a table of non-negative integers (the shape), got -1 in {2,-1}", tensor.zeros, {2, -1})
  T.raises("element 2 is 1.5", tensor.ones, {2, 1.5})
  T.raises("tensor.zeros: shape [1000000, 1000000, 1000000] is too large", tensor.zeros, {1e6, 1e6, 1e6})
  T.raises("tensor.full: argument 2: expected a number, got no value", tensor.full, {2})
  T.raises("tensor.full: argument 2: expected a number, got nil", tensor.full, {2}, nil)
  T.raises("tensor.from: argument 1: rows have different lengths", tensor.from, {{1, 2}, {3}})
  T.raises("tensor.from: argument 1: element [2] is string", tensor.from, {1, "a"})
  T.raises("tensor.cat: argument 1: expected a table of tensors, element 2 is number", tensor.cat, {t, 3})
  T.raises("tensor.cat: argument 1: expected a non-empty table of tensors", tensor.cat, {})
  T.raises("tensor.no_grad: argument 1: expected a function, got number", tensor.no_grad, 3)
  T.raises("tensor.arange: step must be a finite non-zero number", tensor.arange, 0, 1, 0)
  T.raises("tensor.stack: tensor 2 has shape [3]", tensor.stack, {tensor.ones{2}, tensor.ones{3}})
  T.raises("mer.threads: argument 1: expected a thread count between 1 and 256, got 0", mer.threads, 0)
  T.raises("mer.seed: argument 1: expected an integer, got string", mer.seed, "x")
end)

T.test("methods reject bad arguments and name them", function()
  T.raises("tensor.reshape: shape [4, 5] has 20 elements, tensor has 6", t.reshape, t, {4, 5})
  T.raises("tensor.reshape: argument 1: expected a table of integers (the new shape), got string", t.reshape, t, "x")
  T.raises("tensor.reshape: expected a tensor, got string (call it with ':' on the object)", t.reshape, "x", {6})
  T.raises("tensor.narrow: argument 2: start index 4 out of range", t.narrow, t, 2, 4, 1)
  T.raises("tensor.narrow: argument 3: length 3 from index 2 runs past the end", t.narrow, t, 2, 2, 3)
  T.raises("tensor.select: argument 1: dimension 0 out of range", t.select, t, 0, 1)
  T.raises("tensor.transpose: expected at most 2 arguments, got 3", t.transpose, t, 1, 2, 3)
  T.raises("tensor.permute: argument 1: expected 2 dimensions, got 3", t.permute, t, {1, 2, 3})
  T.raises("tensor.matmul: inner sizes differ", t.matmul, t, t)
  T.raises("tensor.add: argument 1: expected a tensor or a number, got string", t.add, t, "x")
  T.raises("tensor.add: shapes [2, 3] and [4] cannot be broadcast", function() return t + tensor.ones{4} end)
  T.raises("tensor.item: tensor has 6 elements", t.item, t)
  T.raises("tensor.sum: argument 1: expected an integer, got 1.5", t.sum, t, 1.5)
  T.raises("tensor.backward: argument 1: unknown option 'retain'", function() t:sum():backward{retain = true} end)
  T.raises("cannot set field 'foo' of a tensor", function() t.foo = 1 end)
  T.raises("tensor.__newindex: argument 3: expected a number or a tensor to assign, got string", function() t[1] = "x" end)
  T.raises("# of a 0-d tensor", function() return #tensor.from(1) end)
  T.raises("tensor.clamp: lower bound 2.0 is greater than upper bound 1.0", t.clamp, t, 2, 1)
  assert(t.nonexistent == nil)
end)

T.test("a battery of wrong values: every call raises, but for the ones legal on purpose", function()
  local u = tensor.zeros{2, 3}        -- target of the in-place methods, so t stays as it is
  local leaf = tensor.ones{2}
  -- {name, function, valid arguments, substitutions that are legal: "position=value"}.
  -- Legal on purpose: 1=t where t is as good as the valid first argument; -1 as a
  -- dimension (counts from the end) or a size (inferred); nil for an optional argument;
  -- {} as a shape (a 0-d tensor); any finite number as a fill value, bound, slope or
  -- scale (NaN is refused by the shared number readers, everywhere); a boolean (keepdim)
  -- after a reduction's dimension. Every binding refuses one argument too many.
  local targets = {
    {"tensor.zeros", tensor.zeros, {{2, 3}}, "1={}"},
    {"tensor.full", tensor.full, {{2}, 1}, "1={} 2=1e12 2=-1"},
    {"tensor.arange", tensor.arange, {1, 5, 1}, "1=1e12 1=-1 2=nil 2=-1 3=nil 3=1e12 3=-1"},
    {"tensor.from", tensor.from, {{1, 2}}, "1={} 1={1.5} 1={-1} 1=1e12 1=-1"},
    {"tensor.cat", tensor.cat, {{t, t}, 1}, "2=nil 2=-1"},
    {"tensor.stack", tensor.stack, {{t, t}, 1}, "2=nil 2=-1"},
    {"tensor.reshape", t.reshape, {t, {3, 2}}, "1=t 2={-1} 2=-1"},
    {"tensor.view", t.view, {t, {6}}, "1=t 2={-1} 2=-1"},
    {"tensor.permute", t.permute, {t, {2, 1}}, "1=t"},
    {"tensor.transpose", t.transpose, {t, 1, 2}, "1=t 2=-1 3=-1"},
    {"tensor.narrow", t.narrow, {t, 2, 1, 2}, "1=t 2=-1"},
    {"tensor.select", t.select, {t, 1, 1}, "1=t 2=-1 3=-1"},
    {"tensor.sum", t.sum, {t, 1}, "1=t 2=nil 2=-1 3=nil 3=true"},
    {"tensor.mean", t.mean, {t, 1}, "1=t 2=nil 2=-1 3=nil 3=true"},
    {"tensor.max", t.max, {t, 1}, "1=t 2=nil 2=-1 3=nil 3=true"},
    {"tensor.argmax", t.argmax, {t, 1}, "1=t 2=nil 2=-1 3=nil 3=true"},
    {"tensor.softmax", t.softmax, {t, 2}, "1=t 2=-1"},
    {"tensor.log_softmax", t.log_softmax, {t, 2}, "1=t 2=-1"},
    {"tensor.matmul", t.matmul, {t, tensor.ones{3, 2}}, "1=t"},
    {"tensor.clamp", t.clamp, {t, 0, 1}, "1=t 2=nil 2=-1 3=nil 3=1e12"},
    {"tensor.add_", t.add_, {u, t, 1}, "1=t 2=1e12 2=-1 2=t 3=nil 3=1e12 3=-1"},
    {"tensor.mul_", t.mul_, {u, 2}, "1=t 2=1e12 2=-1 2=t"},
    {"tensor.copy_", t.copy_, {u, t}, "1=t 2=t"},
    {"tensor.fill_", t.fill_, {u, 1}, "1=t 2=1e12 2=-1"},
    {"tensor.expand", t.expand, {tensor.ones{1, 3}, {2, 3}}, "1=t"},
    {"tensor.size", t.size, {t, 1}, "1=t 2=nil 2=-1"},
    {"tensor.unsqueeze", t.unsqueeze, {t, 1}, "1=t 2=-1"},
    {"tensor.squeeze", t.squeeze, {tensor.ones{1, 3}, 1}, "2=nil"},
    {"tensor.requires_grad", t.requires_grad, {leaf, true}, "1=t 2=nil 2=true"},
    {"tensor.leaky_relu", t.leaky_relu, {t, 0.1}, "1=t 2=nil 2=1e12 2=-1"},
    {"mer.seed", mer.seed, {1}, "1=1e12"},
    {"mer.threads", mer.threads, {mer.threads()}, "1=nil"},
    {"mer.conv_algorithm", mer.conv_algorithm, {"auto"}, "1=nil"},
  }
  for _, target in ipairs(targets) do T.battery(target[1], target[2], target[3], wrong, target[4], true) end
  -- Still alive and computing correctly.
  T.values(tensor.from{1, 2} + 1, {2, 3})
end)

T.test("extreme numbers give errors, never a trap", function()
  T.raises("eval.metrics: argument 1: label 1 is 9223372036854775807, more than 4096 classes", eval.metrics, {math.maxinteger}, {1})
  T.raises("expected an integer class 1..4096", eval.metrics, tensor.from{1e30}, {1})
  T.raises("eval.metrics: argument 3: expected a number of classes in 1...4096", eval.metrics, {1}, {1}, math.maxinteger)
  T.raises("nn.cross_entropy: target 9223372036854775808 at position 0 is out of range for 5 classes",
           nn.cross_entropy, tensor.randn{1, 5}, {math.maxinteger})
  T.raises("is out of range for 5 classes", nn.cross_entropy, tensor.randn{1, 5}, tensor.from{1e30})
  local p = tensor.ones{2}:requires_grad(true)
  local c = optim.CosineLR(optim.Adam({p}), {epochs = 5})
  T.raises("field 'epoch': expected an epoch in 0...1000000000", function() c.epoch = math.maxinteger end)
  c.epoch = 1000000000
  c:step()                                         -- stays at the last epoch, no overflow
  assert(c.epoch == 1000000000)
  -- A whole number of turns is no rotation, however large the angle.
  local img = tensor.rand{1, 8, 8}
  T.values(image.affine(img, {angle = 360 * 2^100}), img:reshape{-1}:totable(), 1e-5)
  assert(image.affine(img, {angle = 1e38}):numel() == 64)
end)

T.test("a script's raising __index is never run from Swift (no raise may cross a Swift frame)", function()
  local hostile = setmetatable({}, {__index = function() error("boom") end})
  T.raises("eval.pooled: argument 1: element 1: pred: expected class labels", eval.pooled, {hostile})
  local ds = data.synthetic{subjects = 2, per_class = 1, size = 16}:map(function(s)
    return setmetatable({y = s.y}, {__index = function() error("boom") end})
  end)
  T.raises("data.map: the returned sample's x must be a tensor, got nil", function() return ds[1] end)
  local saved = getmetatable(_G)
  setmetatable(_G, {__index = function(_, k) error("no global " .. tostring(k)) end})
  local ok, err = pcall(help, "nope.x")
  setmetatable(_G, saved)
  assert(ok, tostring(err))
end)

T.test("deep nesting is an error or works, never a Lua stack overrun", function()
  local x = 1
  for _ = 1, 10000 do x = {x} end
  T.raises("tensor.from: argument 1: tables nested more than 64 deep", tensor.from, x)
  local shape = {}
  for i = 1, 64 do shape[i] = 1 end
  shape[64] = 2
  local nested = tensor.zeros(shape):totable()
  for _ = 1, 63 do nested = nested[1] end
  assert(#nested == 2 and nested[2] == 0)
end)

T.test("__gc checks what it is given", function()
  local gc = getmetatable(tensor.zeros{1}).__gc
  T.raises("tensor.__gc: expected a mer-script object, got FILE*", gc, io.stdout)
  T.raises("expected a mer-script object, got number", gc, 5)
  local t = tensor.ones{2}
  gc(t); gc(t)                                     -- twice: the second finds nothing to release
  T.raises("tensor.add", function() return t + 1 end)
end)

return T.done()
