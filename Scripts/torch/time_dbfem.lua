-- Times DBFEM in mer-script with the protocol of Scripts/torch/crosscheck.py's PyTorch side.
-- Usage: mer-script --threads 2 Scripts/torch/time_dbfem.lua CONFIG MODE [batch] [warmup] [reps] [autocast]
--   CONFIG: quick (64 px) | paper (112 px); MODE: train | infer; autocast: off (default) | bf16
--   train: one step = zero_grad, forward, cross-entropy, backward, Adam step (lr 1e-3) on a
--          fixed random batch (default dropout 0.5, training mode); ms/sample = step / batch.
--   infer: m:eval(), tensor.no_grad, one forward of `batch` samples (default 1).
-- Prints one line: `RESULT {"config":..., "mode":..., "batch":..., "times_ms":[...per call...]}`.
local config, mode = arg[1] or "quick", arg[2] or "train"
assert(config == "quick" or config == "paper", "argument 1: quick or paper")
assert(mode == "train" or mode == "infer", "argument 2: train or infer")
local size = config == "paper" and 112 or 64
local batch = tonumber(arg[3]) or (mode == "infer" and 1 or (config == "paper" and 16 or 32))
local warmup = tonumber(arg[4]) or 2
local reps = tonumber(arg[5]) or 5
local autocast = arg[6] or "off"
local classes = 5

local m = nn.DBFEM{config = config}
local x = tensor.randn{batch, 2, size, size}
local y = {}
for i = 1, batch do y[i] = (i - 1) % classes + 1 end

local call
if mode == "train" then
  m:train()
  local opt = optim.Adam(m:parameters(), {lr = 1e-3})
  call = function()
    opt:zero_grad()
    local loss = nn.cross_entropy(m(x), y)
    loss:backward()
    opt:step()
  end
else
  m:eval()
  call = function() tensor.no_grad(function() local out = m(x) end) end
end

if autocast ~= "off" then
  local plain = call
  call = function() mer.autocast(autocast, plain) end
end

for _ = 1, warmup do call(); collectgarbage() end
local times = {}
for i = 1, reps do
  collectgarbage()
  local t0 = mer.time()
  call()
  times[i] = string.format("%.3f", (mer.time() - t0) * 1e3)
end
print(string.format('RESULT {"engine": "mer-script", "config": "%s", "mode": "%s", "batch": %d, "autocast": "%s", "times_ms": [%s]}',
  config, mode, batch, autocast, table.concat(times, ", ")))
