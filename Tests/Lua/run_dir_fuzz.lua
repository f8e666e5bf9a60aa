-- Run directories are files other people made (a colleague's run, a cluster's scratch
-- space): every file in one is hostile. This fuzzer builds a small real run directory with
-- experiment.loso, then, case after case, copies it, damages one file (flipped bytes,
-- truncation, hostile numbers and code spliced in, a file replaced by a folder, removed)
-- and reopens it the two ways a user does: `merge` (pooling finished folds) and resuming an
-- interrupted run. Each case must end in success or a Lua error that names a file of the
-- damaged run directory; never a crash, a hang, or a write outside the run directory.
--
-- MER_RUNDIR_FUZZ_COUNT=10000 for a long run (default 200); MER_RUNDIR_FUZZ_SEED varies it.
local T = require("testing")
local experiment = require("experiment")

local count = tonumber(os.getenv("MER_RUNDIR_FUZZ_COUNT") or "") or 200
local seed = tonumber(os.getenv("MER_RUNDIR_FUZZ_SEED") or "") or 1
local root = os.tmpname()
os.remove(root)
mer.mkdir(root)

-- Three subjects, a tiny network: a fold trains in milliseconds.
local ds, model = T.tiny_loso_setup(3)
local quietly = T.quietly
local function loso(dir, epochs, fold)
  return experiment.loso{dataset = ds, model = model, epochs = epochs, batch = 4, seed = 5,
                         dir = root, name = "base", resume = dir, fold = fold}
end

-- The base run: three folds of 2 epochs, finished. Merge cases pool it as it is; resume
-- cases remove fold 3's result first and ask for 3 epochs, so fold 3 loads its checkpoint
-- (model, optimizer, generator state) and trains on.
local base = root .. "/base"
local ok, err = quietly(loso, base, 2)
assert(ok, err)

local function files_under(dir, prefix, out)
  for _, name in ipairs(mer.listdir(dir)) do
    local path, rel = dir .. "/" .. name, (prefix and prefix .. "/" or "") .. name
    if pcall(mer.listdir, path) then files_under(path, rel, out) else out[#out + 1] = rel end
  end
  return out
end
local base_files = files_under(base, nil, {})
table.sort(base_files)
for _, need in ipairs{"config.json", "log.csv", "folds.lua", "fold-01/result.lua", "fold-03/checkpoint.lua",
                      "fold-03/checkpoint.safetensors", "fold-03/optimizer.safetensors"} do
  local found = false
  for _, f in ipairs(base_files) do found = found or f == need end
  assert(found, "the base run has no " .. need .. " (it has " .. table.concat(base_files, ", ") .. ")")
end

local function remove_tree(path)
  if pcall(mer.listdir, path) then
    for _, name in ipairs(mer.listdir(path)) do remove_tree(path .. "/" .. name) end
  end
  mer.remove(path)
end

local function copy_run(to)
  for _, rel in ipairs(base_files) do
    local dir = (to .. "/" .. rel):match("^(.*)/[^/]*$")
    mer.mkdir(dir)
    mer.write_file(to .. "/" .. rel, mer.read_file(base .. "/" .. rel))
  end
end

-- Damage: what a broken disk, an editor, a truncated copy or an adversary leaves.
local hostile = {"1e308", "-1e308", "1e999", "nan", "0/0", "-0", "9223372036854775807", "-9223372036854775808",
                 "18446744073709551616", "math.huge", "while true do end", "string.rep('x', 1 << 40)",
                 "\"../../../../tmp/x\"", "{", "}", "[[", "\0", "\255\254", ",", "\n", "\"", "-1", "0", "1e17",
                 "{{{{{{{{{{{{{{{{{{{{", "[\"epoch\"]=1", "setmetatable", ("9"):rep(400)}
local rng = (function(s)
  local state = s
  return function(n)                       -- a small LCG, independent of mer's generator
    state = (state * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (state >> 17) % n + 1
  end
end)(seed)

local function damage(path)
  local text = mer.read_file(path)
  local kind = rng(7)
  if kind == 1 then                        -- flip a few bytes
    local bytes = {text:byte(1, -1)}
    for _ = 1, rng(8) do
      local i = rng(math.max(#bytes, 1))
      if bytes[i] then bytes[i] = bytes[i] ~ (1 << (rng(8) - 1)) end
    end
    text = string.char(table.unpack(bytes))
  elseif kind == 2 then                    -- truncate
    text = text:sub(1, rng(#text + 1) - 1)
  elseif kind <= 5 then                    -- splice a hostile token in, over or between bytes
    local at = rng(#text + 1)
    local token = hostile[rng(#hostile)]
    local cut = kind == 4 and rng(16) - 1 or 0
    text = text:sub(1, at - 1) .. token .. text:sub(at + cut)
  elseif kind == 6 then                    -- replace numbers by hostile ones
    text = text:gsub("%-?%d+%.?%d*[eE]?[-+]?%d*", function(n)
      return rng(3) == 1 and hostile[rng(9)] or n
    end)
  else                                     -- gone, or a folder where a file was
    mer.remove(path)
    if rng(2) == 1 then mer.mkdir(path) end
    return
  end
  mer.write_file(path, text)
end

local outside_before = table.concat(mer.listdir(root), ",")
local outcomes = {merge_ok = 0, merge_error = 0, resume_ok = 0, resume_error = 0}

T.test(string.format("%d damaged run directories: success or an error naming a file of the run", count), function()
  for case = 1, count do
    local dir = string.format("%s/case-%d", root, case)
    copy_run(dir)
    local op = rng(2) == 1 and "merge" or "resume"
    if op == "resume" then mer.remove(dir .. "/fold-03/result.lua") end
    local victim = base_files[rng(#base_files)]
    if mer.exists(dir .. "/" .. victim) then damage(dir .. "/" .. victim) end
    local okc, e
    if op == "merge" then
      okc, e = quietly(experiment.merge, dir)
    else
      okc, e = quietly(loso, dir, 3)
    end
    if okc then
      outcomes[op .. "_ok"] = outcomes[op .. "_ok"] + 1
    else
      outcomes[op .. "_error"] = outcomes[op .. "_error"] + 1
      e = tostring(e)
      -- The message names the damaged run (a file in it, or the folder) so the user knows where to look.
      assert(e:find(dir, 1, true), string.format("case %d (%s of %s, damaged %s): the error does not name the run directory: %s",
                                                 case, op, dir, victim, e))
    end
    -- Nothing appears beside the run directories (no write through a damaged path).
    local now = table.concat(mer.listdir(root), ",")
    assert(now == "base,case-" .. case, string.format("case %d: %s now holds %s", case, root, now))
    remove_tree(dir)
    if case % 50 == 0 then collectgarbage() end
  end
  -- Both outcomes occur for both operations, or the damage is not reaching the readers.
  for k, v in pairs(outcomes) do assert(v > 0, k .. " never happened in " .. count .. " cases") end
  assert(outside_before == "base")
end)

remove_tree(root)

return T.done()
