-- Modules written in Lua: they train like native ones, hold native submodules, sit inside
-- native containers, report their errors with the Lua file:line, and are collected.
local T = require("testing")

local function close(a, b, tol, what)
  local sa, sb = table.concat(a:shape(), "x"), table.concat(b:shape(), "x")
  assert(sa == sb, string.format("%s: shapes %s and %s differ", what or "value", sa, sb))
  local d = (a - b):abs():max():item()
  if d > (tol or 1e-6) then error(string.format("%s: differs by %g", what or "value", d), 2) end
end

mer.seed(3)

-- A block with a native conv, a learnable per-channel scale and a registered buffer.
local Block = nn.Module:extend("Block")
function Block:init(cin, cout)
  self.conv = nn.Conv2d(cin, cout, 3, {padding = 1})
  self.scale = nn.Parameter(tensor.ones{1, cout, 1, 1})
  self.scratch = tensor.zeros{3}            -- a plain tensor: neither parameter nor buffer
  self:register_buffer("calls", tensor.zeros{1})
end
function Block:forward(x)
  if self.training then tensor.no_grad(function() self.calls:add_(1) end) end
  return (self.conv(x) * self.scale):relu()
end

T.test("a Lua module trains with plain SGD written in Lua", function()
  local m = Block(2, 3)
  local x, target = tensor.randn{4, 2, 5, 5}, tensor.randn{4, 3, 5, 5}:relu()
  local params = m:parameters()
  assert(#params == 3, "conv.weight, conv.bias, scale")
  local losses = {}
  for step = 1, 30 do
    m:zero_grad()
    local loss = ((m(x) - target) ^ 2):mean()
    loss:backward()
    losses[step] = loss:item()
    tensor.no_grad(function()
      for _, p in ipairs(m:parameters()) do p:add_(p.grad, -0.2) end
    end)
  end
  assert(losses[30] < losses[1] * 0.8, string.format("loss %g -> %g", losses[1], losses[30]))
  for i = 2, 30 do assert(losses[i] <= losses[i - 1] + 1e-6, "loss went up at step " .. i) end
  assert(m.calls:item() == 30, "the buffer counted the training calls")
  m:eval(); m(x)
  assert(m.calls:item() == 30 and m.training == false)
end)

T.test("parameters, buffers and children are found in assignment order", function()
  local m = Block(1, 2)
  local names = m:state_dict_keys()
  assert(table.concat(names, ",") == "scale,calls,conv.weight,conv.bias", table.concat(names, ","))
  local _, pnames = m:named_parameters()
  assert(table.concat(pnames, ",") == "scale,conv.weight,conv.bias", table.concat(pnames, ","))
  local kids, knames = m:children()
  assert(#kids == 1 and kids[1] == m.conv and knames[1] == "conv")
  assert(m:num_parameters() == 2 * 9 + 2 + 2)
  local Order = nn.Module:extend("Order")
  function Order:init()
    self.b = nn.Parameter(tensor.zeros{1})
    self.a = nn.Parameter(tensor.zeros{2})
    self.b = nn.Parameter(tensor.ones{1}) -- reassigning keeps the first position
  end
  assert(table.concat(Order():state_dict_keys(), ",") == "b,a")
  local s = tostring(m)
  assert(s:find("^Block  %[22 params%]") and s:find("(conv): Conv2d(1, 2, kernel=3x3, padding=1x1)", 1, true), s)
end)

-- The same network natively and as a Lua module over nn.F, with identical weights.
local Functional = nn.Module:extend("Functional")
function Functional:init()
  self["0"] = {} -- not a module or tensor: ignored
  self.w1 = nn.Parameter(tensor.zeros{4, 3, 3, 3}); self.b1 = nn.Parameter(tensor.zeros{4})
  self.w2 = nn.Parameter(tensor.zeros{2, 4, 1, 1}); self.b2 = nn.Parameter(tensor.zeros{2})
end
function Functional:forward(x)
  local h = nn.F.relu(nn.F.conv2d(x, self.w1, self.b1, {padding = 1}))
  return nn.F.conv2d(h, self.w2, self.b2)
end

-- ... and as a Lua module holding native layers under PyTorch's Sequential names.
local Named = nn.Module:extend("Named")
function Named:init()
  self["0"] = nn.Conv2d(3, 4, 3, {padding = 1})
  self["1"] = nn.ReLU()
  self["2"] = nn.Conv2d(4, 2, 1)
end
function Named:forward(x) return self["2"](self["1"](self["0"](x))) end

T.test("native and Lua versions give identical outputs and gradients", function()
  local native = nn.Sequential{nn.Conv2d(3, 4, 3, {padding = 1}), nn.ReLU(), nn.Conv2d(4, 2, 1)}
  local f, named = Functional(), Named()
  tensor.no_grad(function()
    f.w1:copy_(native[1].weight); f.b1:copy_(native[1].bias)
    f.w2:copy_(native[3].weight); f.b2:copy_(native[3].bias)
  end)
  named:load_state_dict(native:state_dict()) -- the same names as the Sequential
  local x = tensor.randn{2, 3, 6, 6}
  local yn, yf, ym = native(x), f(x), named(x)
  close(yf, yn, 0, "functional output")
  close(ym, yn, 0, "named output")
  for _, y in ipairs{yn, yf, ym} do (y * y):sum():backward() end
  close(f.w1.grad, native[1].weight.grad, 1e-6, "w1 grad")
  close(f.b2.grad, native[3].bias.grad, 1e-6, "b2 grad")
  close(named["0"].weight.grad, native[1].weight.grad, 0, "named conv grad")
end)

T.test("a Lua module inside nn.Sequential: parameters, gradients, modes", function()
  local blk = Block(4, 4)
  local seq = nn.Sequential{nn.Conv2d(3, 4, 1), blk, nn.BatchNorm2d(4), nn.ReLU()}
  assert(seq[2] == blk, "the container hands back the same Lua table")
  local _, names = seq:named_parameters()
  assert(table.concat(names, ",") == "0.weight,0.bias,1.scale,1.conv.weight,1.conv.bias,2.weight,2.bias", table.concat(names, ","))
  assert(#seq:parameters() == 7)
  local y = seq(tensor.randn{2, 3, 5, 5})
  assert(table.concat(y:shape(), "x") == "2x4x5x5")
  y:sum():backward()
  assert(blk.scale.grad ~= nil and seq[1].weight.grad ~= nil, "gradients flow through the Lua module")
  assert(seq:state_dict()["1.calls"] ~= nil, "its buffer is in the container's state dict")
  seq:eval()
  assert(blk.training == false and blk.conv.training == false)
  seq:train()
  assert(blk.training == true)
  assert(tostring(seq):find("(1): Block", 1, true), tostring(seq))
  -- in nn.Concat, added with :add, and inside a coroutine
  local cat = nn.Concat(2, {Block(3, 2), nn.Conv2d(3, 1, 1)})
  assert(table.concat(cat(tensor.ones{1, 3, 4, 4}):shape(), "x") == "1x3x4x4")
  local s2 = nn.Sequential{}
  s2:add(Block(3, 3))
  local co = coroutine.wrap(function(x) coroutine.yield(s2(x)); return seq(x) end)
  assert(table.concat(co(tensor.ones{1, 3, 4, 4}):shape(), "x") == "1x3x4x4")
  assert(table.concat(co():shape(), "x") == "1x4x4x4")
end)

T.test("Lua modules nest, subclass and survive collection while reachable", function()
  local Inner = nn.Module:extend("Inner")
  function Inner:init(c) self.w = nn.Parameter(tensor.full({1, c, 1, 1}, 2)) end
  function Inner:forward(x) return x * self.w end
  local Outer = nn.Module:extend("Outer")
  function Outer:init(c) self.body = nn.Sequential{Inner(c), nn.ReLU(), Inner(c)} end
  function Outer:forward(x) return self.body(x) end
  local o = Outer(2)
  collectgarbage(); collectgarbage()
  local y = o(tensor.ones{1, 2, 1, 1})
  T.values(y, {4, 4})
  assert(table.concat(o:state_dict_keys(), ",") == "body.0.w,body.2.w")
  -- a subclass reuses and extends its parent
  local Scaled = Inner:extend("Scaled")
  assert(Scaled.super == Inner)
  function Scaled:init(c, k) Inner.init(self, c); self.k = k end
  function Scaled:forward(x) return Inner.forward(self, x) * self.k end
  local s = Scaled.new(1, 10)
  T.values(s(tensor.ones{1, 1, 1, 1}), {20})
  assert(tostring(s):find("^Scaled"))
end)

T.test("dropped Lua modules are collected (no reference cycle)", function()
  local weak = setmetatable({}, {__mode = "v"})
  do
    local b = Block(1, 1)
    weak.block = b
    weak.seq = nn.Sequential{Block(1, 1)}
    weak.inner = weak.seq[1]
  end
  collectgarbage(); collectgarbage(); collectgarbage()
  assert(weak.block == nil and weak.seq == nil and weak.inner == nil, "modules stayed alive")
end)

T.test("errors in a Lua forward carry the Lua file:line", function()
  local Bad = nn.Module:extend("Bad")
  function Bad:forward(x)
    error("boom in forward")
  end
  local line = debug.getinfo(1, "l").currentline - 2
  local where = "nn_lua_modules.lua:" .. line .. ": boom in forward"
  local seq = nn.Sequential{nn.Identity(), Bad()}
  local ok, err = pcall(seq, tensor.ones{1})
  assert(not ok and err:find(where, 1, true), err)
  ok, err = pcall(Bad(), tensor.ones{1})
  assert(not ok and err:find(where, 1, true), err)
  -- forward not defined, or returning something other than a tensor inside a container
  local NoForward = nn.Module:extend("NoForward")
  T.raises("NoForward: forward is not defined", function() return NoForward()(tensor.ones{1}) end)
  T.raises("NoForward: forward is not defined", function() return nn.Sequential{NoForward()}(tensor.ones{1}) end)
  local Weird = nn.Module:extend("Weird")
  function Weird:forward(x) return 42 end
  T.raises("Weird:forward returned number, expected a tensor", function() return nn.Sequential{Weird()}(tensor.ones{1}) end)
  -- the host keeps running and the module keeps working
  local good = nn.Sequential{Block(1, 1)}
  assert(good(tensor.ones{1, 1, 3, 3}) ~= nil)
end)

T.test("cycles are refused", function()
  local b = Block(1, 1)
  T.raises("a module cannot contain itself", function() b.me = b end)
  local s = nn.Sequential{b}
  T.raises("a module cannot contain itself", function() b.parent = s end)
  T.raises("cannot become its child", function() s:add(s) end)
  assert(b.me == nil and b.parent == nil)
end)

return T.done()
