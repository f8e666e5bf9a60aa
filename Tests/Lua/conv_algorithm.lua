-- mer.conv_algorithm: switching between the direct and Winograd 3x3 convolutions.
local T = require("testing")

-- Largest |a - b| relative to max(1, max |b|).
local function rel_diff(a, b)
  return (a - b):abs():max():item() / math.max(1, b:abs():max():item())
end

T.test("mode switches and reports itself", function()
  local before = mer.conv_algorithm()
  assert(before == "auto", "default mode is auto, got " .. tostring(before))
  assert(mer.conv_algorithm("direct") == "direct" and mer.conv_algorithm() == "direct")
  assert(mer.conv_algorithm("winograd") == "winograd" and mer.conv_algorithm() == "winograd")
  assert(mer.conv_algorithm("auto") == "auto")
  mer.conv_algorithm(before)
end)

T.test("bad mode names the function and the argument", function()
  T.raises('mer.conv_algorithm: argument 1: expected "auto", "direct" or "winograd", got "fast"',
           mer.conv_algorithm, "fast")
  T.raises("mer.conv_algorithm: argument 1: expected a string, got number", mer.conv_algorithm, 3)
  assert(mer.conv_algorithm() == "auto", "a rejected mode leaves the mode unchanged")
end)

T.test("direct and winograd agree on values and gradients", function()
  mer.seed(3)
  local x = tensor.randn{2, 24, 11, 13}
  local w = tensor.randn{20, 24, 3, 3}
  local b = tensor.randn{20}
  local r = tensor.randn{2, 20, 11, 13}
  local results = {}
  for _, mode in ipairs{"direct", "winograd"} do
    mer.conv_algorithm(mode)
    local xg, wg = x:clone():requires_grad(true), w:clone():requires_grad(true)
    local y = nn.F.conv2d(xg, wg, b, {padding = 1})
    ;(y * r):sum():backward()
    results[mode] = {y = y:detach(), dx = xg.grad, dw = wg.grad}
  end
  mer.conv_algorithm("auto")
  local d, wi = results.direct, results.winograd
  -- Same maths, different rounding: agreement to float32 Winograd accuracy, not bit for bit.
  assert(rel_diff(wi.y, d.y) < 1e-4, "forward differs by " .. rel_diff(wi.y, d.y))
  assert(rel_diff(wi.dx, d.dx) < 1e-4, "input gradient differs by " .. rel_diff(wi.dx, d.dx))
  assert(rel_diff(wi.dw, d.dw) < 1e-4, "weight gradient differs by " .. rel_diff(wi.dw, d.dw))
  assert((wi.y - d.y):abs():max():item() > 0, "winograd mode must not have run the direct kernel")
end)

return T.done()
