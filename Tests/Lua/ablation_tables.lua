-- Scripts/lib/ablation.lua: variants × seeds through LOSO, one comparison table (Markdown and
-- HTML) with mean ± sd over seeds and links to every run's report.
local T = require("testing")
local ablation = require("ablation")

local root = os.tmpname()
os.remove(root)
mer.mkdir(root)

T.test("mean ± sd over seeds, one row per variant, every run linked", function()
  local ds = data.synthetic{subjects = 2, per_class = 1, size = 16, seed = 2, input = {"diff"}}
  local function tiny(width)
    return function()
      return nn.Sequential{nn.Conv2d(1, width, 3, {padding = 1}), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 5)}
    end
  end
  local ok, rows, dir = T.quietly(ablation.run, "tiny_ablation", {epochs = 1, batch = 4, lr = 1e-3, seeds = "3,4", dir = root}, ds,
                                  {{"narrow", tiny(2)}, {"wide | odd name", tiny(4)}})
  assert(ok, rows)
  assert(#rows == 2 and #rows[1].runs == 2 and rows[2].runs[2].seed == 4)
  local md = mer.read_file(dir .. "/ablation.md")
  local html = mer.read_file(dir .. "/report.html")
  -- The table: header, rule, one row per variant, each cell "mean ± sd" computed here.
  local acc = {rows[1].runs[1].metrics.accuracy, rows[1].runs[2].metrics.accuracy}
  local mean = (acc[1] + acc[2]) / 2
  local sd = math.sqrt(((acc[1] - mean) ^ 2 + (acc[2] - mean) ^ 2) / 1)
  local expected = string.format("| narrow | %.4f ± %.4f |", mean, sd)
  assert(md:find(expected, 1, true), "no row " .. expected .. " in\n" .. md)
  assert(md:find("| wide \\| odd name | ", 1, true), "the pipe in a variant's name is escaped:\n" .. md)
  local table_rows = 0
  for line in md:gmatch("[^\n]+") do
    if line:match("^| .- | %d%.%d%d%d%d ± %d%.%d%d%d%d | %d%.%d%d%d%d ± %d%.%d%d%d%d | %d%.%d%d%d%d ± %d%.%d%d%d%d |") then
      table_rows = table_rows + 1
    end
  end
  assert(table_rows == 2, string.format("%d rows of mean ± sd in\n%s", table_rows, md))
  for _, row in ipairs(rows) do
    for _, run in ipairs(row.runs) do
      assert(mer.exists(dir .. "/" .. run.rel .. "/report.html"), run.rel)
      assert(md:find("(" .. run.rel .. "/report.html)", 1, true), run.rel)
      assert(html:find("href=\"" .. run.rel .. "/report.html\"", 1, true), run.rel)
    end
  end
  assert(html:find("<td>wide | odd name</td>", 1, true) and html:find("seeds 3, 4", 1, true))
  T.raises("--seeds expects a list of non-negative integers", ablation.run, "x", {seeds = "1,x", dir = root}, ds, {})
end)

T.test("evaluated-only rows and a data set drawn per seed", function()
  local drawn = {}
  local function per_seed(seed)
    drawn[#drawn + 1] = seed
    return data.synthetic{subjects = 2, per_class = 1, size = 16, seed = seed, input = {"diff"}}
  end
  -- A method without training: here every sample is called class 1 (accuracy 1/5 exactly).
  local function all_first(ds, seed)
    local pred, target = {}, {}
    for i = 1, #ds do pred[i] = 1; target[i] = ds[i].y end
    return eval.metrics(pred, target, 5)
  end
  local ok, rows, dir = T.quietly(ablation.run, "evaluated", {seeds = "5,6", dir = root}, nil,
                                  {{"all first", nil, dataset = per_seed, evaluate = all_first}})
  assert(ok, rows)
  assert(#drawn == 2 and drawn[1] == 5 and drawn[2] == 6, "the data set is drawn once per seed, with that seed")
  assert(rows[1].runs[1].rel == nil and rows[1].runs[2].seed == 6)
  local md = mer.read_file(dir .. "/ablation.md")
  assert(md:find("| all first | 0.2000 ± 0.0000 | ", 1, true), md)
  assert(md:find("| seed 5 seed 6 |", 1, true), "no run directory, so no link:\n" .. md)
  assert(not mer.read_file(dir .. "/report.html"):find("href=", 1, true))
end)

T.test("one seed has no sd", function()
  local md = ablation.tables("t", {{variant = "v", runs = {{seed = 1, rel = "r", metrics = {accuracy = 0.5, uf1 = 0.25, uar = 0.5}}}}}, {1}, {})
  assert(md:find("| v | 0.5000 ± — | 0.2500 ± — | 0.5000 ± — |", 1, true), md)
end)

return T.done()
