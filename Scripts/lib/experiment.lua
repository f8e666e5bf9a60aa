-- Leave-one-subject-out experiments: train a fresh model per fold, predict the held-out
-- subject, pool the predictions (the MEGC convention) and write a run directory.
--
--   local experiment = require("experiment")
--   local metrics = experiment.loso{
--     name = "quickstart", dataset = ds, model = function() return nn.DBFEM{config = "quick"} end,
--     epochs = 10, batch = 32, lr = 1e-3, step = 10, gamma = 0.5, seed = 1,
--     validation = 0,      -- > 0: carve that fraction of training subjects for early stopping
--     fold = nil,          -- run only fold k (1-based) into the run directory
--     resume = nil,        -- continue the run directory given (checkpoints per fold)
--     leaky = false,       -- also report the best-epoch-per-test-subject figure, labelled LEAKY
--     autocast = "off",    -- "bf16": every fold's products in bfloat16 (mer.autocast)
--     options = o,         -- the recipe's command-line options, recorded in the run's config
--   }
--
-- Honest protocol (ARCHITECTURE.md): the reported epoch is never chosen by looking at the
-- test subject — a fixed schedule, or the epoch with the best accuracy on a validation split
-- carved from the training subjects. Each fold is seeded from (seed, fold) alone, so a fold
-- run on its own (--fold k, in parallel) gives the same numbers as in a full run.
--
-- Fault drills (environment variables), so that tests kill or preempt a run at a known
-- point instead of racing a timer; both act right after fold k has checkpointed epoch e:
--   MER_CRASH_AFTER=k:e  ends the process abruptly (exit status 137, as after SIGKILL);
--   MER_HOLD_AFTER=k:e   keeps the process busy until something kills it (a scheduler's
--                        preemption or requeue); a restarted run resumes past epoch e.
local experiment = {}
local crash_after, hold_after = os.getenv("MER_CRASH_AFTER"), os.getenv("MER_HOLD_AFTER")

local function serialize(v)
  local t = type(v)
  if t == "number" then return string.format("%.17g", v)
  elseif t == "string" then return string.format("%q", v)
  elseif t == "boolean" then return tostring(v)
  elseif t == "table" then
    local parts = {}
    for i = 1, #v do parts[#parts + 1] = serialize(v[i]) end
    local keys = {}
    for k in pairs(v) do if type(k) == "string" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. " = " .. serialize(v[k]) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  error("cannot serialize a " .. t)
end

-- A table written by `serialize`, from a file someone else may have made: read as text (a
-- FIFO or an oversized file is an error, not a hang), run with an empty environment and an
-- instruction budget (a data file is table constructors; a loop in it is hostile), and
-- required to return a table. Nil when it is missing; an error naming the file otherwise.
local function load_table(path)
  if not mer.exists(path) then return nil end
  local text = mer.read_file(path, 16 << 20)
  local chunk, why = load(text, "=" .. path, "t", {})
  if not chunk then error(path .. ": not a data file (" .. tostring(why) .. ")", 0) end
  local hook, mask, count = debug.gethook()
  debug.sethook(function() error(path .. ": runs too long for a data file", 0) end, "", 10000000)
  local ok, value = pcall(chunk)
  debug.sethook(hook, mask, count)
  if not ok then error(tostring(value), 0) end
  if type(value) ~= "table" then error(path .. ": holds a " .. type(value) .. ", expected a table", 0) end
  return value
end

-- Checks of the fields a run directory's data files must have, so a hostile or damaged
-- one is an error naming it instead of a wrong result or a crash later.
local function check_labels(path, name, list, classes)
  if type(list) ~= "table" then error(string.format("%s: %s is not a list", path, name), 0) end
  for i = 1, #list do
    local v = list[i]
    if math.type(v) ~= "integer" or v < 1 or v > classes then
      error(string.format("%s: %s[%d] is %s, not a class 1..%d", path, name, i, tostring(v), classes), 0)
    end
  end
end

local function check_result(path, r)
  if type(r.subject) ~= "string" or type(r.classes) ~= "table" or #r.classes < 1 or #r.classes > 4096 then
    error(path .. ": not a fold result (subject, classes)", 0)
  end
  for i = 1, #r.classes do
    if type(r.classes[i]) ~= "string" then
      error(string.format("%s: classes[%d] is a %s, not a class name", path, i, type(r.classes[i])), 0)
    end
  end
  check_labels(path, "pred", r.pred, #r.classes)
  check_labels(path, "target", r.target, #r.classes)
  if #r.pred ~= #r.target then error(string.format("%s: %d predictions for %d targets", path, #r.pred, #r.target), 0) end
  if r.leaky_pred ~= nil then check_labels(path, "leaky_pred", r.leaky_pred, #r.classes) end
  return r
end

local function check_checkpoint(path, meta, epochs)
  if math.type(meta.epoch) ~= "integer" or meta.epoch < 1 or meta.epoch > epochs or type(meta.rng) ~= "string" then
    error(string.format("%s: not a checkpoint of this run (epoch 1..%d and the generator state)", path, epochs), 0)
  end
  if meta.best_epoch ~= nil and (math.type(meta.best_epoch) ~= "integer" or meta.best_epoch < 1 or meta.best_epoch > meta.epoch
                                 or type(meta.best_acc) ~= "number" or meta.best_acc ~= meta.best_acc) then
    error(path .. ": its best epoch is not one of its epochs", 0)
  end
  return meta
end

local exists = mer.exists

-- Predictions (1-based labels) and mean loss of `model` on a data set, without a tape.
function experiment.predict(model, ds, batch)
  model:eval()
  local pred, target, loss_sum, n = {}, {}, 0, 0
  tensor.no_grad(function()
    for b in data.loader(ds, {batch = batch or 64, shuffle = false}) do
      local logits = model(b.x)
      loss_sum = loss_sum + nn.cross_entropy(logits, b.y):item() * b.x:size(1)
      n = n + b.x:size(1)
      local p = logits:argmax(2)
      for i = 1, b.x:size(1) do
        pred[#pred + 1] = p[i]
        target[#target + 1] = b.y[i]
      end
    end
  end)
  return pred, target, (n > 0 and loss_sum / n or 0)
end

local function accuracy(pred, target)
  local hit = 0
  for i = 1, #pred do if pred[i] == target[i] then hit = hit + 1 end end
  return #pred > 0 and hit / #pred or 0
end

-- A copy of the model's state (parameters and buffers), for keeping the best epoch.
local function snapshot(model)
  local copy = {}
  for name, t in pairs(model:state_dict()) do copy[name] = t:clone():detach() end
  return copy
end

-- Trains and evaluates fold k; returns {subject, pred, target, leaky_best}.
local function run_fold(spec, run, k, fold)
  local dir = run.dir .. string.format("/fold-%02d", k)
  mer.mkdir(dir)
  local done_path = dir .. "/result.lua"
  if exists(done_path) then return check_result(done_path, load_table(done_path)), true end

  mer.seed(spec.seed * 1000 + k)
  local model = spec.model()
  local opt = optim.Adam(model:parameters(), {lr = spec.lr, weight_decay = spec.weight_decay or 0})
  local sched = optim.StepLR(opt, {step = spec.step or 10, gamma = spec.gamma or 0.5})
  local train, val = fold.train, nil
  if (spec.validation or 0) > 0 then
    train, val = data.validation_split(fold.train, {fraction = spec.validation, seed = spec.seed * 1000 + k})
  end
  local loader = data.loader(train, {batch = spec.batch, seed = spec.seed * 1000 + k, shuffle = true})

  local first_epoch = 1
  local ckpt, meta_path = dir .. "/checkpoint.safetensors", dir .. "/checkpoint.lua"
  local best = {acc = -1}
  if exists(meta_path) then
    local meta = check_checkpoint(meta_path, load_table(meta_path), spec.epochs)
    model:load(ckpt)
    opt:load(dir .. "/optimizer.safetensors")
    sched.epoch = meta.epoch
    if not pcall(mer.set_rng_state, meta.rng) then
      error(meta_path .. ": its generator state is not one written by mer.rng_state()", 0)
    end
    first_epoch = meta.epoch + 1
    if meta.best_epoch and exists(dir .. "/best.safetensors") then
      best = {acc = meta.best_acc, epoch = meta.best_epoch, file = dir .. "/best.safetensors"}
    end
  end

  local leaky = spec.leaky and {acc = -1} or nil
  local progress = eval.progress(spec.epochs * #loader, string.format("fold %d/%d %s", k, spec.folds, fold.subject))
  for epoch = first_epoch, spec.epochs do
    model:train()
    local loss_sum, n, hit, batch_index, t0 = 0, 0, 0, 0, mer.time()
    local lr = opt.lr   -- the rate this epoch trains with (the schedule steps after it)
    -- loader:epoch(epoch): the batch order of epoch e depends on e alone, so a run resumed
    -- after epoch e - 1 sees the order the uninterrupted run would have seen.
    for b in loader:epoch(epoch) do
      opt:zero_grad()
      local logits = model(b.x)
      local loss = nn.cross_entropy(logits, b.y)
      loss:backward()
      opt:step()
      local size = b.x:size(1)
      loss_sum = loss_sum + loss:item() * size
      n = n + size
      hit = hit + logits:argmax(2):eq(b.y):sum():item()
      batch_index = batch_index + 1
      progress:update((epoch - 1) * #loader + batch_index,
                      {epoch = epoch, loss = string.format("%.4f", loss_sum / n),
                       ["samples/s"] = string.format("%.0f", n / math.max(mer.time() - t0, 1e-9))})
    end
    sched:step()
    local row = {fold = k, subject = fold.subject, epoch = epoch, loss = loss_sum / math.max(n, 1),
                 acc = hit / math.max(n, 1), lr = lr}
    if val then
      local vp, vt, vloss = experiment.predict(model, val, spec.batch)
      row.val_loss, row.val_acc = vloss, accuracy(vp, vt)
      if row.val_acc > best.acc then
        best = {acc = row.val_acc, epoch = epoch, file = dir .. "/best.safetensors"}
        model:save(best.file)
      end
    end
    if leaky then
      local tp, tt = experiment.predict(model, fold.test, spec.batch)
      local a = accuracy(tp, tt)
      if a > leaky.acc then leaky = {acc = a, epoch = epoch, pred = tp} end
    end
    run:log(row)
    -- Checkpoint after every epoch (mer.write_file: a temporary file renamed over the old,
    -- never written through a symbolic link).
    model:save(ckpt)
    opt:save(dir .. "/optimizer.safetensors")
    mer.write_file(meta_path, "return " .. serialize({epoch = epoch, rng = mer.rng_state(),
                                                     best_epoch = best.epoch, best_acc = best.epoch and best.acc or nil}))
    local here = k .. ":" .. epoch
    if crash_after == here then os.exit(137, false) end
    if hold_after == here then
      print(string.format("MER_HOLD_AFTER: fold %d holds after epoch %d until it is killed", k, epoch))
      io.stdout:flush()
      while true do end
    end
  end
  progress:done()

  if val and best.file then model:load(best.file) end
  local pred, target = experiment.predict(model, fold.test, spec.batch)
  local result = {subject = fold.subject, pred = pred, target = target, classes = spec.dataset:classes(),
                  chosen_epoch = val and best.epoch or spec.epochs,
                  leaky_pred = leaky and leaky.pred or nil, leaky_epoch = leaky and leaky.epoch or nil}
  mer.write_file(done_path, "return " .. serialize(result))
  return result, false
end

function experiment.loso(spec)
  assert(spec.dataset, "experiment.loso: dataset is required")
  assert(type(spec.model) == "function", "experiment.loso: model must be a function returning a fresh model")
  spec.seed = spec.seed or 1
  spec.batch = spec.batch or 32
  spec.lr = spec.lr or 1e-3
  local folds = data.loso(spec.dataset)
  spec.folds = #folds
  if spec.fold and (spec.fold < 1 or spec.fold > #folds) then
    error(string.format("--fold %d: the data set has %d folds (subjects)", spec.fold, #folds), 0)
  end
  -- config.json keeps numbers, booleans and strings as they are; anything else as text.
  local config = {}
  for k, v in pairs(spec.options or {}) do
    local t = type(v)
    if t == "number" or t == "boolean" or t == "string" then config[k] = v else config[k] = tostring(v) end
  end
  config.autocast = spec.autocast or "off"
  local run = eval.run{name = spec.name or "experiment", dir = spec.dir or "runs", seed = spec.seed,
                       config = config, resume = spec.resume}
  -- A resumed run continues in the precision it started in: mixing float32 and bfloat16 epochs
  -- (or folds) would give results neither setting reproduces. (Runs from before autocast was
  -- recorded have none stored: they ran in float32.)
  local started = run.config.autocast or "off"
  if started ~= config.autocast then
    error(string.format("--resume %s: the run was started with autocast %s; resume it with the same setting " ..
                        "(this call asks for %s), or start a new run", run.dir, started, config.autocast), 0)
  end
  print("run directory: " .. run.dir)
  -- The fold list, so that `merge` knows which folds a complete run has. Every fold task
  -- of a split run writes the same content (the split depends on the data set alone).
  local subjects = {}
  for k, fold in ipairs(folds) do subjects[k] = fold.subject end
  mer.write_file(run.dir .. "/folds.lua", "return " .. serialize({count = #folds, subjects = subjects}))
  local results = {}
  for k, fold in ipairs(folds) do
    if spec.fold == nil or spec.fold == k then
      local fold_t0 = mer.time()
      local r, reused = mer.autocast(spec.autocast or "off", function() return run_fold(spec, run, k, fold) end)
      if reused then
        print(string.format("fold %d (%s): done earlier, reusing its predictions", k, fold.subject))
      else
        local hit = 0
        for i = 1, #r.target do if r.pred[i] == r.target[i] then hit = hit + 1 end end
        print(string.format("fold %d/%d (%s): %d of %d held-out samples right, %.1f s", k, #folds, fold.subject,
                            hit, #r.target, mer.time() - fold_t0))
      end
      results[#results + 1] = r
      run:fold_result{subject = r.subject, pred = r.pred, target = r.target}
    end
  end
  if spec.fold then
    print(string.format("fold %d written to %s; pool all folds with: mer-script merge %s", spec.fold, run.dir, run.dir))
    return nil, run
  end
  local metrics = run:finish{classes = spec.dataset:classes()}
  if spec.leaky then
    local lp, lt = {}, {}
    for _, r in ipairs(results) do
      for i = 1, #r.target do lp[#lp + 1] = r.leaky_pred[i]; lt[#lt + 1] = r.target[i] end
    end
    local leaky = eval.metrics(lp, lt, #spec.dataset:classes())
    print(string.format("LEAKY best-epoch-per-test-subject figure (peeks at the test fold; for comparison with peers only): accuracy %.4f, UF1 %.4f, UAR %.4f",
                        leaky.accuracy, leaky.uf1, leaky.uar))
  end
  return metrics, run
end

-- Pools the folds of a run directory (each written by a `--fold k` run, possibly on
-- different machines) into the final metrics: `mer-script merge runs/<dir>`. Every fold of
-- the run must have finished: a missing one is named and nothing is pooled (an error, so
-- the command exits non-zero and a scheduler's dependent jobs see the failure).
function experiment.merge(dir)
  assert(dir, "usage: mer-script merge runs/<dir>")
  local manifest = load_table(dir .. "/folds.lua")
  if type(manifest) ~= "table" or math.type(manifest.count) ~= "integer" or manifest.count < 1
     or manifest.count > 100000 or type(manifest.subjects) ~= "table" then
    error("merge: " .. dir .. "/folds.lua is missing or malformed (is this a run directory made by experiment.loso?)", 0)
  end
  local results, missing = {}, {}
  for k = 1, manifest.count do
    local path = string.format("%s/fold-%02d/result.lua", dir, k)
    local r = load_table(path)
    if r then
      results[#results + 1] = check_result(path, r)
    else
      missing[#missing + 1] = string.format("%d (%s)", k, tostring(manifest.subjects[k]))
    end
  end
  if #missing > 0 then
    error(string.format("merge: %d of %d folds have not finished: %s; no pooled metrics written to %s",
                        #missing, manifest.count, table.concat(missing, ", "), dir), 0)
  end
  -- Pooling needs one label set: a fold written with other class names cannot join.
  local classes = table.concat(results[1].classes, "\0")
  for k = 2, #results do
    if table.concat(results[k].classes, "\0") ~= classes then
      error(string.format("merge: %s/fold-%02d/result.lua has other classes than fold 1 (%s vs %s)", dir, k,
                          table.concat(results[k].classes, ", "), table.concat(results[1].classes, ", ")), 0)
    end
  end
  local run = eval.run{resume = dir}
  for _, r in ipairs(results) do run:fold_result{subject = r.subject, pred = r.pred, target = r.target} end
  local metrics = run:finish{classes = results[1].classes}
  print(string.format("merged %d folds from %s", #results, dir))
  experiment.report(metrics, results[1].classes)
  return metrics
end

-- Prints pooled metrics and the confusion matrix.
function experiment.report(metrics, classes)
  print(string.format("pooled over all folds: accuracy %.4f  UF1 %.4f  UAR %.4f", metrics.accuracy, metrics.uf1, metrics.uar))
  if metrics.per_fold then
    print(string.format("mean of per-fold:      accuracy %.4f  UF1 %.4f  UAR %.4f",
                        metrics.per_fold.accuracy, metrics.per_fold.uf1, metrics.per_fold.uar))
  end
  local width = 12
  local header = string.format("%-" .. width .. "s", "true \\ pred")
  for _, c in ipairs(classes) do header = header .. string.format("%" .. width .. "s", c:sub(1, width - 1)) end
  print(header)
  for i, c in ipairs(classes) do
    local line = string.format("%-" .. width .. "s", c:sub(1, width - 1))
    for j = 1, #classes do line = line .. string.format("%" .. width .. "d", metrics.confusion[i][j]) end
    print(line)
  end
end

return experiment
