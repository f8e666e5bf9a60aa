-- Every function of every module and every method of every object type, found by walking
-- the registry (so a new binding is covered the day it is added), called with wrong values
-- in each of its first three positions. Each call must either work or fail with a message
-- naming the binding; none may stop the host (huge integers, math.mininteger, NaN, inf
-- and absurd sizes included).
local T = require("testing")

local t = tensor.ones{1, 2, 4, 4}
local wrong = {"/nonexistent/x", {}, true, 1e12, -1, 0, 0/0, math.huge, math.maxinteger, math.mininteger, t, 2.5,
               {math.mininteger}, {math.maxinteger, 2}, {1e300}, {0/0}, {-1, -1}}

local function battery(name, f, before, fill)
  local failures = 0
  for pos = 1, 3 do
    for _, w in ipairs(wrong) do
      local args = {table.unpack(fill)}
      args[pos] = w
      local ok, err = pcall(f, table.unpack(before), table.unpack(args, 1, 3))
      if not ok then
        failures = failures + 1
        if type(err) ~= "string" or not err:find(name, 1, true) then
          error(string.format("%s with %s in position %d: error does not name it: %s", name, tostring(w), pos, tostring(err)), 0)
        end
      end
    end
  end
  return failures
end

T.test("every module function refuses wrong values by name, and the host survives", function()
  local count = 0
  for _, m in ipairs{"tensor", "nn", "nn.F", "optim", "image", "data", "eval", "mer"} do
    local mod = m == "nn.F" and nn.F or _G[m]
    local keys = {}
    for k, v in pairs(mod) do if type(v) == "function" and k:sub(1, 1) ~= "_" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do
      if not (m == "tensor" and k == "no_grad") then -- calls its argument: covered in tensor_basics
        battery(k, mod[k], {}, {t, 2, 2})
        count = count + 1
      end
    end
  end
  assert(count > 90, "walked only " .. count .. " functions")
end)

T.test("every method of every object type refuses wrong values by name", function()
  local m = nn.Sequential{nn.Conv2d(2, 2, 3), nn.BatchNorm2d(2)}
  local opt = optim.SGD(m, {lr = 0.1})
  local ds = data.synthetic{subjects = 2, per_class = 1, size = 16}
  local dir = os.tmpname(); os.remove(dir)
  local objects = {
    tensor = t, module = m, optimizer = opt, schedule = optim.StepLR(opt, {step = 1}), dataset = ds,
    loader = data.loader(ds, {batch = 2}), generator = mer.generator(1), run = eval.run{name = "battery", dir = dir},
    progress = eval.progress(3, "p", {file = os.tmpname()}),
  }
  local skip = {requires_grad = true, backward = true} -- would change t's autograd state for the rest
  local count = 0
  for typeName, object in pairs(objects) do
    local methods = debug.getregistry()["mer." .. typeName].methods
    for k, f in pairs(methods) do
      if not skip[k] then
        battery(k, f, {object}, {1, 1, 1})
        count = count + 1
      end
    end
  end
  assert(count > 90, "walked only " .. count .. " methods")
  T.values(tensor.from{1, 2} + 1, {2, 3}) -- still computing
end)

T.test("option values at the extremes are refused by name or work, never stop the host", function()
  local t4, img = tensor.ones{1, 1, 8, 8}, tensor.ones{1, 16, 16}
  local ds = data.synthetic{subjects = 2, per_class = 1, size = 16}
  local dir = os.tmpname(); os.remove(dir)
  local sgd = function() return optim.SGD({tensor.ones{1}}) end
  local cases = {
    {"nn.Conv2d", function(o) return nn.Conv2d(1, 1, 3, o) end, {"stride", "padding", "dilation", "groups"}},
    {"nn.BatchNorm2d", function(o) return nn.BatchNorm2d(1, o) end, {"eps", "momentum"}},
    {"nn.MaxPool2d", function(o) return nn.MaxPool2d(2, o)(t4) end, {"stride", "padding"}},
    {"nn.AvgPool2d", function(o) return nn.AvgPool2d(2, o)(t4) end, {"stride", "padding"}},
    {"nn.Dropout", function(o) return nn.Dropout(0.5, o)(t4) end, {"seed"}},
    {"nn.CBAM", function(o) return nn.CBAM(4, o) end, {"reduction", "kernel"}},
    {"nn.DBFEM", function(o) return nn.DBFEM(o) end, {"in_channels", "classes", "fused_channels", "reduction", "dropout", "inception_width"}},
    {"nn.F.conv2d", function(o) return nn.F.conv2d(t4, tensor.ones{1, 1, 3, 3}, nil, o) end, {"stride", "padding", "dilation", "groups"}},
    {"nn.F.batch_norm", function(o) return nn.F.batch_norm(t4, tensor.zeros{1}, tensor.ones{1}, nil, nil, o) end, {"momentum", "eps"}},
    {"optim.Adam", function(o) return optim.Adam({tensor.ones{1}:requires_grad(true)}, o) end, {"lr", "eps", "weight_decay"}},
    {"optim.StepLR", function(o) optim.StepLR(sgd(), o):step() end, {"step", "gamma"}},
    {"optim.CosineLR", function(o) optim.CosineLR(sgd(), o):step() end, {"epochs", "eta_min"}},
    {"image.save", function(o) return image.save(img, os.tmpname() .. ".jpg", o) end, {"quality", "bit_depth"}},
    {"image.grid", function(o) return image.grid({img, img}, o) end, {"columns", "padding", "pad_value"}},
    {"image.affine", function(o) return image.affine(img, o) end, {"angle", "scale", "fill"}},
    {"image.adjust", function(o) return image.adjust(img, o) end, {"brightness", "contrast", "gamma"}},
    {"image.random_affine", function(o) return image.random_affine(img, o) end, {"max_angle", "max_translate", "max_shear", "seed"}},
    {"image.random_hflip", function(o) return image.random_hflip(img, o) end, {"p", "seed"}},
    {"image.flow", function(o) return image.flow(img, img, o) end, {"lambda", "tau", "theta", "epsilon", "scale_step"}},
    {"data.loader", function(o) for _ in data.loader(ds, o) do end end, {"batch", "seed", "prefetch"}},
    {"data.validation_split", function(o) return data.validation_split(ds, o) end, {"fraction", "subjects", "seed"}},
    {"data.synthetic", function(o) return data.synthetic(o) end, {"subjects", "per_class", "size", "seed", "head_motion", "noise"}},
    {"eval.progress", function(o) o.file = os.tmpname(); eval.progress(3, "x", o):update(1) end, {"interval"}},
    {"eval.run", function(o) o.name = "x"; o.dir = dir; return eval.run(o) end, {"seed"}},
  }
  local values = {1e12, -1, 0, 0/0, math.huge, -math.huge, math.maxinteger, math.mininteger, 2.5, 1e300}
  for _, c in ipairs(cases) do
    for _, key in ipairs(c[3]) do
      for _, v in ipairs(values) do
        local ok, err = pcall(c[2], {[key] = v})
        if not ok and (type(err) ~= "string" or not err:find(c[1], 1, true)) then
          error(string.format("%s{%s = %s}: error does not name it: %s", c[1], key, tostring(v), tostring(err)), 0)
        end
      end
    end
  end
end)

return T.done()
