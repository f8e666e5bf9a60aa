-- Every binding, called with a battery of wrong arguments inside pcall: each must fail
-- with a message naming the function (and the argument where there is one), and the
-- host must keep running.
local T = require("testing")

local t = tensor.ones{2, 3}
local wrong = table.pack(nil, "x", {}, {"a"}, {1.5}, {-1}, true, function() end, 1e12, -1, 0/0, t)

-- Calls f with each wrong value in each position; any error must name `name`.
local function battery(name, f, arity)
  local calls, failures = 0, 0
  for pos = 1, arity do
    for k = 1, wrong.n do
      local w = wrong[k]
      local args = {t, 1, 1, 1}
      args[pos] = w
      local ok, err = pcall(f, table.unpack(args, 1, arity))
      calls = calls + 1
      if not ok then
        failures = failures + 1
        assert(type(err) == "string" and err:find(name, 1, true),
               string.format("%s with bad argument %d gave an error not naming it: %s", name, pos, tostring(err)))
      end
    end
  end
  return calls, failures
end

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

T.test("a battery of wrong values never crashes the host", function()
  local total = 0
  local targets = {
    {"tensor.zeros", tensor.zeros, 2}, {"tensor.full", tensor.full, 2}, {"tensor.arange", tensor.arange, 3},
    {"tensor.from", tensor.from, 1}, {"tensor.cat", tensor.cat, 2}, {"tensor.stack", tensor.stack, 2},
    {"tensor.reshape", t.reshape, 2}, {"tensor.view", t.view, 2}, {"tensor.permute", t.permute, 2},
    {"tensor.transpose", t.transpose, 3}, {"tensor.narrow", t.narrow, 4}, {"tensor.select", t.select, 3},
    {"tensor.sum", t.sum, 3}, {"tensor.mean", t.mean, 3}, {"tensor.max", t.max, 3}, {"tensor.argmax", t.argmax, 3},
    {"tensor.softmax", t.softmax, 2}, {"tensor.log_softmax", t.log_softmax, 2}, {"tensor.matmul", t.matmul, 2},
    {"tensor.clamp", t.clamp, 3}, {"tensor.add_", t.add_, 3}, {"tensor.mul_", t.mul_, 2}, {"tensor.copy_", t.copy_, 2},
    {"tensor.fill_", t.fill_, 2}, {"tensor.expand", t.expand, 2}, {"tensor.size", t.size, 2},
    {"tensor.unsqueeze", t.unsqueeze, 2}, {"tensor.squeeze", t.squeeze, 2}, {"tensor.backward", t.backward, 3},
    {"tensor.requires_grad", t.requires_grad, 2}, {"tensor.leaky_relu", t.leaky_relu, 2},
    {"mer.seed", mer.seed, 1}, {"mer.threads", mer.threads, 1}, {"mer.conv_algorithm", mer.conv_algorithm, 1},
  }
  for _, target in ipairs(targets) do
    local calls = battery(target[1], target[2], target[3])
    total = total + calls
  end
  assert(total > 500, "ran " .. total .. " calls")
  -- Still alive and computing correctly.
  T.values(tensor.from{1, 2} + 1, {2, 3})
end)

return T.done()
