-- eval: metrics, run directories (files, metrics.json, report.html) and progress output.
local T = require("testing")

local function tmpdir()
  local d = os.tmpname(); os.remove(d); os.execute("mkdir -p " .. d); return d
end

local function read(path)
  local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close(); return s
end

local function exists(path)
  local f = io.open(path, "rb"); if f then f:close() return true end return false
end

T.test("metrics, hand case", function()
  -- target 1 1 1 2 2 3, pred 1 1 2 2 3 3 (labels 1..C):
  -- confusion rows (true) {2,1,0} {0,1,1} {0,0,1}; accuracy 4/6
  -- F1: class 1 = 2*2/(4+0+1) = 0.8, class 2 = 2/(2+1+1) = 0.5, class 3 = 2/(2+1+0) = 2/3
  -- UF1 = (0.8 + 0.5 + 2/3)/3; recall 2/3, 1/2, 1 → UAR = (2/3 + 1/2 + 1)/3
  local m = eval.metrics({1, 1, 2, 2, 3, 3}, {1, 1, 1, 2, 2, 3}, 3)
  T.near(m.accuracy, 4 / 6)
  T.near(m.uf1, (0.8 + 0.5 + 2 / 3) / 3)
  T.near(m.uar, (2 / 3 + 0.5 + 1) / 3)
  assert(m.n == 6)
  assert(table.concat(m.confusion[1], ",") == "2,1,0" and table.concat(m.confusion[3], ",") == "0,0,1")
  T.near(m.per_class[2].precision, 0.5); T.near(m.per_class[1].recall, 2 / 3)
  assert(m.per_class[1].support == 3 and m.per_class[3].support == 1)
  -- tensors work too, and (N, C) scores are taken by argmax
  local t = eval.metrics(tensor.from{1, 1, 2, 2, 3, 3}, tensor.from{1, 1, 1, 2, 2, 3})
  T.near(t.uf1, m.uf1)
  local scores = tensor.from{{0.9, 0.1}, {0.2, 0.8}}
  assert(eval.metrics(scores, {1, 1}, 2).accuracy == 0.5)
  -- pooled vs per fold: A t{1,2} p{1,1}; B t{2,2} p{2,2} (see MetricsTests for the arithmetic)
  local p = eval.pooled({{pred = {1, 1}, target = {1, 2}}, {{2, 2}, {2, 2}}}, 2)
  T.near(p.accuracy, 0.75); T.near(p.uf1, (2 / 3 + 0.8) / 2); T.near(p.uar, (1 + 2 / 3) / 2)
  T.near(p.per_fold.uf1, 2 / 3); T.near(p.per_fold.uar, 0.75)
  T.raises("eval.metrics: argument 1: expected a table of class labels 1..C, got 0", eval.metrics, {0, 1}, {1, 1})
  T.raises("eval.metrics: 1 predictions but 2 targets", eval.metrics, {1}, {1, 2})
  T.raises("eval.metrics: argument 3: a label is 3 but nclasses is 2", eval.metrics, {1, 3}, {1, 2}, 2)
  T.raises("eval.metrics: argument 2: expected class labels", eval.metrics, {1}, "x")
  T.raises("eval.pooled: argument 1: element 1: target:", eval.pooled, {{pred = {1}, target = "x"}})
end)

T.test("a fake two-fold run", function()
  local dir = tmpdir()
  local run = eval.run{name = "fake", dir = dir, seed = 3, config = {model = "dbfem", lr = 0.001}}
  assert(type(run.dir) == "string" and run.dir:find(dir, 1, true) == 1, tostring(run.dir))
  assert(exists(run.dir .. "/config.json") and exists(run.dir .. "/recipe.lua"))
  assert(read(run.dir .. "/recipe.lua"):find("a fake two-fold run", 1, true), "recipe.lua is this script")
  local cfg = read(run.dir .. "/config.json")
  assert(cfg:find('"model": "dbfem"', 1, true) and cfg:find('"seed": 3', 1, true), cfg)
  for f, subject in ipairs{"sub01", "sub02"} do
    for epoch = 1, 4 do
      run:log{fold = subject, epoch = epoch, loss = 1.5 / epoch + f * 0.1, acc = 0.4 + 0.1 * epoch}
    end
  end
  run:fold_result{subject = "sub01", pred = {1, 2, 2}, target = {1, 2, 3}}
  run:fold_result{subject = "sub02", pred = tensor.from{3, 3}, target = {3, 1}}
  T.raises("eval.run.fold_result: argument 1: pred has 1 labels but target has 2", function() run:fold_result{subject = "x", pred = {1}, target = {1, 2}} end)
  T.raises("eval.run.log: argument 1: a table of values {epoch=1, loss=0.5}: 'loss' is table", function() run:log{loss = {}} end)
  T.raises("eval.run.finish: argument 1: unknown option 'class'", function() run:finish{class = {}} end)
  local m = run:finish{classes = {"negative", "positive", "surprise"}}
  -- pooled: t 1 2 3 3 1, p 1 2 2 3 3 → 3 of 5
  T.near(m.accuracy, 0.6)
  assert(m.per_fold.folds[1].subject == "sub01" and m.per_fold.folds[2].n == 2)
  assert(m.per_class[1].class == "negative")
  for _, f in ipairs{"log.csv", "metrics.json", "curves.png", "confusion.png", "report.html"} do
    assert(exists(run.dir .. "/" .. f), f .. " missing")
  end
  local log = read(run.dir .. "/log.csv")
  assert(log:sub(1, 24) == "fold,epoch,acc,loss\nsub0", log:sub(1, 40))
  -- A tiny JSON check: the keys are there and the braces balance.
  local js = read(run.dir .. "/metrics.json")
  for _, key in ipairs{'"pooled"', '"per_fold"', '"classes"', '"accuracy": 0.600000', '"uf1"', '"uar"', '"confusion"', '"per_class"', '"subject": "sub02"'} do
    assert(js:find(key, 1, true), key .. " not in metrics.json")
  end
  local _, open = js:gsub("{", ""); local _, close = js:gsub("}", "")
  assert(open == close and js:sub(1, 1) == "{", "balanced JSON object")
  local png = read(run.dir .. "/confusion.png")
  assert(png:sub(2, 4) == "PNG")
  local c = image.load(run.dir .. "/curves.png")
  assert(c:size(1) == 3 and c:size(3) == 1120, table.concat(c:shape(), "x"))
  local html = read(run.dir .. "/report.html")
  for _, s in ipairs{"negative", "positive", "surprise", "<svg", "sub01", "dbfem"} do
    assert(html:find(s, 1, true), s .. " not in report.html")
  end
  assert(not html:find("<script", 1, true) and not html:find('src="', 1, true), "self-contained")
  T.raises("eval.run: argument 1: option 'name' is missing", eval.run, {dir = dir})
  T.raises("eval.run: argument 1: unknown option 'nam'", eval.run, {nam = "x"})
  os.execute("rm -rf " .. dir)
end)

T.test("run.config keeps extreme numbers exactly and cannot be assigned", function()
  local run = eval.run{name = "cfg", dir = tmpdir(), config = {lr = 0.0012345, n = math.maxinteger, big = 1e308,
                                                        nan = 0 / 0, inf = math.huge, flag = false}}
  local c = run.config
  assert(c.lr == "0.0012345" and c.n == tostring(math.maxinteger) and c.big == "1e+308" and c.flag == "false",
         "run.config: " .. tostring(c.lr) .. " " .. tostring(c.n) .. " " .. tostring(c.big) .. " " .. tostring(c.flag))
  assert(c.nan == "nan" and c.inf == "inf", "non-finite numbers are kept as text: " .. tostring(c.nan) .. " " .. tostring(c.inf))
  local text = mer.read_file(run.dir .. "/config.json")
  for _, want in ipairs{'"lr": 0.0012345', '"n": 9223372036854775807', '"big": 1e+308', '"nan": "nan"', '"inf": "inf"'} do
    assert(text:find(want, 1, true), "config.json lacks " .. want .. ":\n" .. text)
  end
  T.raises("cannot set field 'config' of a run", function() run.config = {} end)
end)

T.test("run:checkpoint writes model and optimiser state that load back", function()
  local dir = tmpdir()
  local run = eval.run{name = "ckpt", dir = dir}
  mer.seed(2)
  local m = nn.Linear(3, 2)
  local opt = optim.Adam(m:parameters(), {lr = 0.1})
  nn.mse(m(tensor.ones{4, 3}), tensor.zeros{4, 2}):backward()
  opt:step()
  local path = run:checkpoint(m, opt, {name = "epoch-1"})
  assert(path == run.dir .. "/epoch-1.safetensors")
  local m2 = nn.Linear(3, 2)
  m2:load(path)
  assert((m2(tensor.ones{1, 3}) - m(tensor.ones{1, 3})):abs():max():item() == 0)
  local opt2 = optim.Adam(m2:parameters(), {lr = 0.5})
  opt2:load(path)
  assert(opt2.steps == 1 and math.abs(opt2.lr - 0.1) < 1e-12)
  assert(run:checkpoint(m):find("checkpoint.safetensors", 1, true))
  T.raises("eval.run.checkpoint: argument 1: expected a module", run.checkpoint, run, "x")
  os.execute("rm -rf " .. dir)
end)

T.test("progress without a terminal prints plain lines", function()
  local dir = tmpdir()
  local path = dir .. "/progress.txt"
  local p = eval.progress(8, "train", {file = path, unit = "samples"})
  for k = 1, 8 do p:update(k, {loss = 1 / k, epoch = 1}) end
  p:done()
  local out = read(path)
  assert(not out:find("\r", 1, true), "no carriage returns")
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  -- the first step, 25/50/75/100 % and the final line
  assert(#lines == 6, out)
  assert(lines[1]:find("^train: 1/8 12%% | epoch 1 | loss 1"), lines[1])
  assert(lines[6]:find("^train: done 8/8 in 0:00"), lines[6])
  assert(p.total == 8 and p.current == 8)
  T.raises("eval.progress: argument 1: expected a non-negative number of steps", eval.progress, -1, "x")
  T.raises("eval.progress.update: argument 2: a table of fields {loss=0.5}: 'loss' is table", function() p:update(1, {loss = {}}) end)
  os.execute("rm -rf " .. dir)
end)

return T.done()
