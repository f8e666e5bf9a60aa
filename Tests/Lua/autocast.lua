-- mer.autocast: bfloat16 products for convolutions, linear layers and matmul.
local T = require("testing")

local function rel_diff(a, b)
  return (a - b):abs():max():item() / math.max(1, b:abs():max():item())
end

local supported = pcall(mer.autocast, "bf16", function() end)

T.test("mode names, setting and scoping", function()
  assert(mer.autocast() == "off", "default is off, got " .. tostring(mer.autocast()))
  T.raises('mer.autocast: argument 1: expected "off", "bf16", got "fp16"', mer.autocast, "fp16")
  T.raises("mer.autocast: argument 2: expected a function, got number", mer.autocast, "off", 3)
  if not supported then
    T.raises('mer.autocast: argument 1: "bf16" needs a CPU with AVX512_BF16', mer.autocast, "bf16")
    return
  end
  assert(mer.autocast("bf16") == "bf16" and mer.autocast() == "bf16")
  assert(mer.autocast("off") == "off" and mer.autocast() == "off")
  -- With a function: its results come back, and the previous mode is restored.
  local a, b, c = mer.autocast("bf16", function() return 1, mer.autocast(), nil end)
  assert(a == 1 and b == "bf16" and c == nil, "results of fn")
  assert(mer.autocast() == "off")
  -- Nested scopes restore in order.
  mer.autocast("bf16", function()
    mer.autocast("off", function() assert(mer.autocast() == "off") end)
    assert(mer.autocast() == "bf16")
  end)
  -- An error in fn propagates unchanged (the same value), and the mode is restored.
  local boom = {}
  local ok, err = pcall(mer.autocast, "bf16", function() error(boom) end)
  assert(not ok and err == boom, "the error value itself propagates")
  assert(mer.autocast() == "off", "restored after an error")
end)

T.test("bf16 products: bf16-close to float32, deterministic, gradients in the forward's mode", function()
  if not supported then return end
  mer.seed(5)
  mer.conv_algorithm("direct")
  local x = tensor.randn{2, 24, 11, 13}
  local w = tensor.randn{20, 24, 3, 3}
  local r = tensor.randn{2, 20, 11, 13}
  local function run(forward_mode, backward_mode)
    local xg, wg = x:clone():requires_grad(true), w:clone():requires_grad(true)
    local y = mer.autocast(forward_mode, function() return nn.F.conv2d(xg, wg, nil, {padding = 1}) end)
    mer.autocast(backward_mode, function() (y * r):sum():backward() end)
    return {y = y:detach(), dx = xg.grad, dw = wg.grad}
  end
  local f32, b16, again, mixed = run("off", "off"), run("bf16", "bf16"), run("bf16", "bf16"), run("bf16", "off")
  mer.conv_algorithm("auto")
  for _, k in ipairs{"y", "dx", "dw"} do
    local d = rel_diff(b16[k], f32[k])
    -- bf16 keeps 8 mantissa bits: ~2e-3 of the largest value here, against ~1e-7 in float32.
    assert(d < 1e-2 and d > 1e-5, k .. ": bf16 vs float32 differs by " .. d)
    assert(rel_diff(again[k], b16[k]) == 0, k .. ": the same inputs give the same bits")
    -- The backward pass multiplies in the precision its forward pass did, wherever it runs.
    assert(rel_diff(mixed[k], b16[k]) == 0, k .. ": backward outside the scope still bf16")
  end
  -- Linear layers and matmul too.
  local lin = nn.Linear(300, 40)
  local a = tensor.randn{64, 300}
  local d = rel_diff(mer.autocast("bf16", function() return lin(a) end), lin(a))
  assert(d < 1e-2 and d > 1e-5, "linear bf16 vs float32: " .. d)
  local m1, m2 = tensor.randn{70, 200}, tensor.randn{200, 90}
  d = rel_diff(mer.autocast("bf16", function() return m1:matmul(m2) end), m1:matmul(m2))
  assert(d < 1e-2 and d > 1e-5, "matmul bf16 vs float32: " .. d)
end)

T.test("Winograd convolutions stay float32 under bf16", function()
  if not supported then return end
  mer.seed(6)
  mer.conv_algorithm("winograd")
  local x, w = tensor.randn{2, 32, 12, 12}, tensor.randn{32, 32, 3, 3}
  local plain = nn.F.conv2d(x, w, nil, {padding = 1})
  local scoped = mer.autocast("bf16", function() return nn.F.conv2d(x, w, nil, {padding = 1}) end)
  mer.conv_algorithm("auto")
  assert(rel_diff(scoped, plain) == 0, "Winograd under bf16 gave other bits than in float32")
end)

T.test("experiment.loso records autocast and a resume refuses another setting", function()
  local experiment = require("experiment")
  local root = os.tmpname()
  os.remove(root)
  mer.mkdir(root)
  local ds, model = T.tiny_loso_setup(2)
  local function loso(resume, autocast)
    return experiment.loso{dataset = ds, model = model, epochs = 1, batch = 4, seed = 5, dir = root, name = "run",
                           resume = resume, autocast = autocast, options = {epochs = 1, lr = 0.0012345, leaky = false, input = "diff"}}
  end
  local ok, err = T.quietly(loso, root .. "/run", "off")
  assert(ok, err)
  -- config.json keeps each option's type.
  local text = mer.read_file(root .. "/run/config.json")
  for _, want in ipairs{'"epochs": 1', '"lr": 0.0012345\n', '"leaky": false', '"input": "diff"', '"autocast": "off"'} do
    assert(text:find(want, 1, true), "config.json lacks " .. want .. ":\n" .. text)
  end
  local err2 = select(2, T.quietly(loso, root .. "/run", "bf16"))
  assert(tostring(err2):find("the run was started with autocast off; resume it with the same setting (this call asks for bf16)", 1, true),
         "resume with bf16: " .. tostring(err2))
  -- The same setting resumes (both folds are done: their predictions are reused).
  ok, err = T.quietly(loso, root .. "/run", nil)
  assert(ok, err)
end)

return T.done()
