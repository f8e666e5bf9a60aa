-- Inference with a saved model: classifies one onset/apex pair (two image files) or every
-- sample of a data set folder with a coding sheet, printing class probabilities and latency.
-- The model file is a state dict written by m:save (for example a fold checkpoint
-- runs/<dir>/fold-01/checkpoint.safetensors).
--
-- Usage:
--   mer-script Scripts/predict.lua --model m.safetensors --onset a.jpg --apex b.jpg [--size 64 --config quick]
--   mer-script Scripts/predict.lua --model m.safetensors --data /path/to/CASME2 [--size 112 --config paper]
--   mer-script Scripts/predict.lua --model m.safetensors --synthetic 1   (a sample of the built-in set, for a demo)
local cli = require("cli")
local o = cli.parse(arg, {model = "", onset = "", apex = "", data = "", synthetic = 0, size = 64, config = "quick",
                          classes = "happiness,disgust,repression,surprise,others"},
                    "usage: mer-script Scripts/predict.lua --model FILE (--onset A --apex B | --data DIR | --synthetic N)")
if o.model == "" then error("--model is required (a .safetensors state dict written by m:save)", 0) end
local classes = {}
for c in o.classes:gmatch("[^,]+") do classes[#classes + 1] = c end

local model = nn.DBFEM{config = o.config, classes = #classes}
model:load(o.model)
model:eval()

local function frame(path)
  return image.resize(image.gray(image.load(path)), o.size, o.size)
end

local function classify(x)
  local t0 = mer.time()
  local p = tensor.no_grad(function() return model(x:unsqueeze(1)):softmax(2)[1] end)
  return p, (mer.time() - t0) * 1e3
end

local function show(label, p, ms)
  local best = p:argmax():item()
  local parts = {}
  for i = 1, #classes do parts[#parts + 1] = string.format("%s %.3f", classes[i], p[i]) end
  print(string.format("%-28s -> %-11s (%s)  %.1f ms", label, classes[best], table.concat(parts, ", "), ms))
end

if o.onset ~= "" then
  if o.apex == "" then error("--apex is required with --onset", 0) end
  local x = tensor.cat({frame(o.onset), frame(o.apex)}, 1)
  show(o.apex, classify(x))
elseif o.data ~= "" or o.synthetic > 0 then
  local ds = o.data ~= "" and data.casme2{root = o.data, size = o.size}
                          or data.synthetic{subjects = 2, per_class = 1, size = o.size, seed = o.synthetic}
  local hits, total = 0, 0
  for i = 1, #ds do
    local s = ds[i]
    local p, ms = classify(s.x)
    show(s.id .. " (" .. classes[s.y] .. ")", p, ms)
    total = total + ms
    if p:argmax():item() == s.y then hits = hits + 1 end
  end
  print(string.format("%d samples, accuracy %.3f, mean latency %.1f ms", #ds, hits / #ds, total / #ds))
else
  error("give --onset and --apex, --data DIR, or --synthetic N", 0)
end
