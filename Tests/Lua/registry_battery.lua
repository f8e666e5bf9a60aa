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

return T.done()
