-- Dumps a DBFEM, an input and reference outputs for Scripts/torch/crosscheck.py.
-- Usage: mer-script --seed 7 Scripts/torch/dump_dbfem.lua CONFIG OUTDIR [batch] [warm_steps]
--   CONFIG: quick | paper. Builds nn.DBFEM{config=CONFIG, dropout=0}, trains `warm_steps`
--   Adam steps on random data (so weights and BN running statistics are non-trivial),
--   then writes into OUTDIR:
--     weights.safetensors       the state dict before the checks (m:save)
--     x.safetensors, labels.txt the fixed input and its labels (1..C)
--     eval_out.safetensors      m:eval() output under tensor.no_grad
--     train_out.safetensors     m:train() output (batch statistics) on the same x
--     loss.txt                  cross-entropy of train_out
--     after_train.safetensors   the state dict after that one train forward (running stats moved)
--     grad/<name>.safetensors   .grad of every parameter after loss:backward()
--     names.txt                 parameter names in order
local config, dir = arg[1], arg[2]
local batch = tonumber(arg[3]) or 4
local warm = tonumber(arg[4]) or 3
assert(config == "quick" or config == "paper", "argument 1: quick or paper")
assert(dir, "argument 2: output directory")
local size = config == "paper" and 112 or 64
local classes = 5

local m = nn.DBFEM{config = config, dropout = 0}
local opt = optim.Adam(m:parameters(), {lr = 1e-3})
local function labels(n, shift)
  local y = {}
  for i = 1, n do y[i] = (i + shift) % classes + 1 end
  return y
end
m:train()
for step = 1, warm do
  -- Shifted and scaled inputs so the running means and variances move away from 0 / 1.
  local xb = tensor.randn{batch, 2, size, size} * 1.5 + 0.3
  opt:zero_grad()
  local loss = nn.cross_entropy(m(xb), labels(batch, step))
  loss:backward()
  opt:step()
end
opt:zero_grad()
m:save(dir .. "/weights.safetensors")

local x = tensor.randn{batch, 2, size, size}
local y = labels(batch, 0)
x:save(dir .. "/x.safetensors")
local f = assert(io.open(dir .. "/labels.txt", "w"))
f:write(table.concat(y, " "), "\n"); f:close()

m:eval()
tensor.no_grad(function() m(x):save(dir .. "/eval_out.safetensors") end)

m:train()
local out = m(x)
out:save(dir .. "/train_out.safetensors")
local loss = nn.cross_entropy(out, y)
loss:backward()
f = assert(io.open(dir .. "/loss.txt", "w"))
f:write(string.format("%.9g\n", loss:item())); f:close()
m:save(dir .. "/after_train.safetensors")

local params, names = m:named_parameters()
os.execute("mkdir -p '" .. dir .. "/grad'")
f = assert(io.open(dir .. "/names.txt", "w"))
for _, name in ipairs(names) do
  f:write(name, "\n")
  params[name].grad:save(dir .. "/grad/" .. name .. ".safetensors")
end
f:close()
print(string.format("dumped %s (batch %d, %d params tensors) to %s, loss %.6f", config, batch, #names, dir, loss:item()))
