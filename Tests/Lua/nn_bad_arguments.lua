-- Every nn binding called with wrong arguments inside pcall: each must fail with a message
-- naming the function (and the argument where there is one); the host keeps running.
local T = require("testing")

local t4 = tensor.ones{1, 2, 4, 4}
local wrong = {{"nil", nil}, {"'x'", "x"}, {"{}", {}}, {"{'a'}", {"a"}}, {"{1.5}", {1.5}}, {"{-1}", {-1}},
               {"{1,2,3}", {1, 2, 3}}, {"true", true}, {"fn", function() end}, {"1e12", 1e12}, {"-1", -1},
               {"0", 0}, {"0.5", 0.5}, {"nan", 0/0}, {"t4", t4}, {"{strid=1}", {strid = 1}}, {"ReLU", nn.ReLU()}}

-- Each wrong value in each position of the valid arguments and as one argument too many:
-- every call raises an error naming the function, except the substitutions listed as
-- legal ("position=value", see T.battery).
local function battery(name, f, good, accepted)
  T.battery(name, f, good, wrong, accepted, true)
end

T.test("every constructor refuses wrong arguments and names itself", function()
  -- Legal on purpose: nil or {} for an options table; nil for an optional argument; any
  -- finite number as a slope or a probability in range (NaN is refused everywhere); a dimension (Flatten, Concat) is checked
  -- against the input's rank at forward time, as in PyTorch.
  local cases = {
    {"nn.Conv2d", nn.Conv2d, {2, 3, 3, {stride = 1}}, "4=nil 4={}"},
    {"nn.BatchNorm2d", nn.BatchNorm2d, {2, {eps = 1e-5}}, "2=nil 2={}"},
    {"nn.Linear", nn.Linear, {2, 3, {bias = true}}, "3=nil 3={}"},
    {"nn.ReLU", nn.ReLU, {}, ""},
    {"nn.LeakyReLU", nn.LeakyReLU, {0.1}, "1=nil 1=1e12 1=-1 1=0 1=0.5"},
    {"nn.Sigmoid", nn.Sigmoid, {}, ""},
    {"nn.Tanh", nn.Tanh, {}, ""},
    {"nn.Identity", nn.Identity, {}, ""},
    {"nn.MaxPool2d", nn.MaxPool2d, {2, {stride = 2}}, "2=nil 2={}"},
    {"nn.AvgPool2d", nn.AvgPool2d, {2, {stride = 2}}, "2=nil 2={}"},
    {"nn.AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d, {2}, ""},
    {"nn.AdaptiveMaxPool2d", nn.AdaptiveMaxPool2d, {2}, ""},
    {"nn.Dropout", nn.Dropout, {0.5, {seed = 1}}, "1=nil 1=0 1=0.5 2=nil 2={}"},
    {"nn.Flatten", nn.Flatten, {2}, "1=nil 1=1e12"},
    {"nn.Sequential", nn.Sequential, {{nn.ReLU()}}, "1=nil 1={}"},
    {"nn.Concat", nn.Concat, {2, {nn.ReLU()}}, "1=1e12"},
    {"nn.Parameter", nn.Parameter, {tensor.ones{2}}, "1=t4"},
  }
  for _, c in ipairs(cases) do battery(c[1], c[2], c[3], c[4]) end
end)

T.test("every functional form refuses wrong arguments and names itself", function()
  local w, b = tensor.ones{3, 2, 3, 3}, tensor.zeros{3}
  local x2 = tensor.ones{2, 3}
  local cases = {
    {"nn.F.conv2d", nn.F.conv2d, {t4, w, b, {padding = 1}}, "1=t4 3=nil 4=nil 4={}"},
    {"nn.F.max_pool2d", nn.F.max_pool2d, {t4, 2, {stride = 2}}, "1=t4 3=nil 3={}"},
    {"nn.F.avg_pool2d", nn.F.avg_pool2d, {t4, 2, {stride = 2}}, "1=t4 3=nil 3={}"},
    {"nn.F.adaptive_avg_pool2d", nn.F.adaptive_avg_pool2d, {t4, 2}, "1=t4"},
    {"nn.F.adaptive_max_pool2d", nn.F.adaptive_max_pool2d, {t4, 2}, "1=t4"},
    {"nn.F.batch_norm", nn.F.batch_norm, {t4, tensor.zeros{2}, tensor.ones{2}, tensor.ones{2}, tensor.zeros{2}, {training = true}}, "1=t4 4=nil 5=nil 6=nil 6={}"},
    {"nn.F.relu", nn.F.relu, {t4}, "1=t4"},
    {"nn.F.leaky_relu", nn.F.leaky_relu, {t4, 0.1}, "1=t4 2=nil 2=1e12 2=-1 2=0 2=0.5"},
    {"nn.F.sigmoid", nn.F.sigmoid, {t4}, "1=t4"},
    {"nn.F.tanh", nn.F.tanh, {t4}, "1=t4"},
    {"nn.F.softmax", nn.F.softmax, {x2, 2}, "1=t4 2=-1"},
    {"nn.F.log_softmax", nn.F.log_softmax, {x2, 2}, "1=t4 2=-1"},
    {"nn.F.linear", nn.F.linear, {x2, tensor.ones{4, 3}, tensor.ones{4}}, "3=nil"},
    {"nn.F.dropout", nn.F.dropout, {t4, 0.5, {training = true}}, "1=t4 2=nil 2=0 2=0.5 3=nil 3={}"},
    {"nn.F.flatten", nn.F.flatten, {t4, 2}, "1=t4 2=nil 2=-1"},
  }
  for _, c in ipairs(cases) do battery(c[1], c[2], c[3], c[4]) end
end)

T.test("messages name the function, the argument and what was expected", function()
  T.raises("nn.Conv2d: argument 3: expected a positive integer or {h, w}, got string", nn.Conv2d, 3, 4, "x")
  T.raises("nn.Conv2d: argument 1: expected a positive integer, got 0", nn.Conv2d, 0, 4, 3)
  T.raises("nn.Conv2d: argument 2: expected an integer, got 1.5", nn.Conv2d, 3, 1.5, 3)
  T.raises("nn.Conv2d: argument 3: expected a positive integer or {h, w}, got a table of 3 elements", nn.Conv2d, 3, 4, {1, 2, 3})
  T.raises("nn.Conv2d: argument 3: expected a positive integer or {h, w}, got a table whose element 2 is 0", nn.Conv2d, 3, 4, {3, 0})
  T.raises("nn.Conv2d: argument 4: unknown option 'strid' (expected one of: stride, padding, dilation, groups, bias)", nn.Conv2d, 3, 4, 3, {strid = 2})
  T.raises("nn.Conv2d: argument 4: option 'padding': expected a non-negative integer or {h, w}, got -1", nn.Conv2d, 3, 4, 3, {padding = -1})
  T.raises("nn.Conv2d: argument 4: option 'bias': expected a boolean, got number", nn.Conv2d, 3, 4, 3, {bias = 1})
  T.raises("nn.Conv2d: groups 2 must divide in_channels 3", nn.Conv2d, 3, 4, 3, {groups = 2})
  T.raises("nn.Conv2d: a parameter of shape", nn.Conv2d, 1e6, 1e6, 3)
  T.raises("nn.Conv2d: expected at most 4 arguments, got 5", nn.Conv2d, 3, 4, 3, {}, 5)
  T.raises("nn.Linear: argument 2: expected an integer, got string", nn.Linear, 3, "4")
  T.raises("nn.Linear: a parameter of shape", nn.Linear, 1e6, 1e6)
  T.raises("nn.BatchNorm2d: argument 2: option 'momentum': expected a number in [0, 1], got 2", nn.BatchNorm2d, 4, {momentum = 2})
  T.raises("nn.LeakyReLU: argument 1: expected a number, got string", nn.LeakyReLU, "x")
  T.raises("nn.ReLU: expected at most 0 arguments, got 1", nn.ReLU, 1)
  T.raises("nn.MaxPool2d: argument 2: option 'padding': padding 2x2 must be at most half the kernel 2x2", nn.MaxPool2d, 2, {padding = 2})
  T.raises("nn.AvgPool2d: argument 2: unknown option 'ceil'", nn.AvgPool2d, 2, {ceil = true})
  T.raises("nn.MaxPool2d: argument 2: unknown option 'count_include_pad'", nn.MaxPool2d, 2, {count_include_pad = true})
  T.raises("nn.AdaptiveAvgPool2d: argument 1: expected a positive integer or {h, w}, got no value", nn.AdaptiveAvgPool2d)
  T.raises("nn.Dropout: argument 1: expected a probability in [0, 1), got 1", nn.Dropout, 1)
  T.raises("nn.Dropout: argument 2: option 'seed': expected a non-negative integer, got -3", nn.Dropout, 0.5, {seed = -3})
  T.raises("nn.Flatten: argument 1: expected a dimension >= 1 (1-based), got 0", nn.Flatten, 0)
  T.raises("nn.Sequential: argument 1: expected a table of modules, element 2 is number", nn.Sequential, {nn.ReLU(), 3})
  T.raises("nn.Sequential: argument 1: expected a table of modules, got a single module", nn.Sequential, nn.ReLU())
  T.raises("nn.Sequential: argument 1: expected a table of modules, got a table with non-sequence keys", nn.Sequential, {nn.ReLU(), x = nn.ReLU()})
  T.raises("nn.Concat: argument 1: expected a dimension >= 1 (dimensions are 1-based), got 0", nn.Concat, 0, {nn.ReLU()})
  T.raises("nn.Concat: argument 2: expected a non-empty table of modules", nn.Concat, 2, {})
  T.raises("nn.Parameter: argument 1: expected a tensor, got number", nn.Parameter, 3)
  T.raises("nn.F.conv2d: argument 3: expected a tensor, got string", nn.F.conv2d, t4, tensor.ones{3, 2, 3, 3}, "b")
  T.raises("nn.F.conv2d: input must be 4-d", nn.F.conv2d, tensor.ones{2, 4, 4}, tensor.ones{3, 2, 3, 3})
  T.raises("nn.F.conv2d: argument 4: unknown option 'bias'", nn.F.conv2d, t4, tensor.ones{3, 2, 3, 3}, nil, {bias = false})
  T.raises("nn.F.softmax: argument 2: dimension 3 out of range", nn.F.softmax, tensor.ones{2, 3}, 3)
  T.raises("nn.F.linear: input has 3 features", nn.F.linear, tensor.ones{2, 3}, tensor.ones{4, 5})
  T.raises("nn.F.linear: argument 3: expected a bias of shape [4]", nn.F.linear, tensor.ones{2, 3}, tensor.ones{4, 3}, tensor.ones{3})
  T.raises("nn.F.batch_norm: eval mode needs running_mean", nn.F.batch_norm, t4)
  T.raises("nn.F.dropout: argument 2: expected a probability in [0, 1], got 2", nn.F.dropout, t4, 2)
  T.raises("nn.F.dropout: argument 3: unknown option 'train'", nn.F.dropout, t4, 0.5, {train = false})
end)

T.test("module methods refuse wrong arguments", function()
  local s = nn.Sequential{nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)}
  T.raises("nn.Conv2d: conv2d: input must be 4-d", function() return s[1](tensor.ones{2, 4, 4}) end)
  T.raises("nn.Sequential: conv2d: weight [3, 2, 3, 3] with groups 1 expects 2 input channels", function() return s(tensor.ones{1, 5, 4, 4}) end)
  T.raises("nn.Module.forward: argument 1: expected a tensor, got string", function() return s("x") end)
  T.raises("nn.Module.forward: argument 1: expected a tensor, got no value", function() return s() end)
  T.raises("nn.Module.forward: argument 2: expected a tensor, got number", s.forward, s, t4, 3)
  T.raises("nn.Module.parameters: expected a module, got number (call it with ':' on the object)", s.parameters, 3)
  T.raises("nn.Module.parameters: expected a module, got table", s.parameters, {})
  T.raises("nn.Module.parameters: expected at most 0 arguments, got 1", s.parameters, s, 1)
  T.raises("nn.Module.train: argument 1: expected a boolean, got string", s.train, s, "yes")
  T.raises("nn.Module.load_state_dict: argument 1: expected a table of name → tensor (a state dict), got nil", s.load_state_dict, s, nil)
  T.raises("nn.Module.load_state_dict: argument 1: entry '0.weight' is number, expected a tensor", s.load_state_dict, s, {["0.weight"] = 1})
  T.raises("nn.Module.load_state_dict: argument 1: expected a table of name → tensor, got a number key", s.load_state_dict, s, {tensor.ones{1}})
  T.raises("nn.Module.load_state_dict: argument 2: unknown option 'strct'", s.load_state_dict, s, s:state_dict(), {strct = false})
  T.raises("nn.Module.load_state_dict: 1 problem", s.load_state_dict, s, (function() local sd = s:state_dict(); sd["1.bias"] = nil; return sd end)())
  T.raises("nn.Module.add: argument 1: expected a module, got number", s.add, s, 3)
  T.raises("nn.Module.add: argument 1: expected a module, got no value", s.add, s)
  T.raises("nn.Module.add: only an nn.Sequential can add modules, this is a Conv2d", s[1].add, s[1], nn.ReLU())
  T.raises("nn.Module.register_buffer: expected a Lua-defined module, got module", nn.Module.register_buffer, s, "b", t4)
  assert(s.register_buffer == nil, "native modules have no register_buffer")
  T.raises("fields of a Sequential are named by strings", function() s[1] = nn.ReLU() end)
  assert(#s == 2, "nothing was added by the failed calls")
end)

T.test("Lua module definitions refuse wrong arguments", function()
  T.raises("nn.Module.extend: argument 1: expected a class name (a string such as \"MyBlock\"), got nil", function() return nn.Module:extend() end)
  T.raises("nn.Module.extend: argument 1: expected a class name", function() return nn.Module:extend("has space") end)
  T.raises("nn.Module.extend: call it with ':' on a class", function() return nn.Module.extend("M") end)
  local M = nn.Module:extend("M")
  function M:init(c) self.w = nn.Parameter(tensor.ones{c}) end
  function M:forward(x) return x * self.w end
  local m = M(2)
  T.raises("nn.Module.extend: call it with ':' on a class", function() return m:extend("N") end)
  T.raises("nn.Module.register_buffer: argument 1: expected a string, got number", m.register_buffer, m, 1, t4)
  T.raises("nn.Module.register_buffer: argument 2: expected a tensor, got string", m.register_buffer, m, "b", "x")
  T.raises("M: a field name cannot be NaN", function() m[0/0] = 1 end)
  T.raises("nn.Module.forward: argument 1: expected a tensor, got string", function() return nn.Sequential{m}("x") end)
  T.raises("tensor.mul: shapes [3] and [2] cannot be broadcast", function() return m(tensor.ones{3}) end)
  assert(m(tensor.ones{2}):sum():item() == 2, "the module still works")
end)

return T.done()
