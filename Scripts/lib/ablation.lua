-- Runs several model variants through the same LOSO protocol, over several seeds, and
-- writes one comparison table (as the paper's ablation tables):
--   require("ablation").run(name, o, ds, {{"label", function() return model end}, ...})
-- Each variant and seed is a run directory of its own (report.html, curves, confusion)
-- inside runs/<name>-<time>/, which also gets ablation.md and report.html: variant,
-- accuracy, UF1 and UAR as mean ± sd over the seeds (sample sd; "—" for one seed), with
-- links to every run's report. o.seeds: "1,2,3" (the default) or any list.
local experiment = require("experiment")
local ablation = {}

local function mean_sd(values)
  local n, sum = #values, 0
  for _, v in ipairs(values) do sum = sum + v end
  local mean = sum / n
  if n < 2 then return mean, nil end
  local ss = 0
  for _, v in ipairs(values) do ss = ss + (v - mean) ^ 2 end
  return mean, math.sqrt(ss / (n - 1))
end

local function cell(values)
  local mean, sd = mean_sd(values)
  return sd and string.format("%.4f ± %.4f", mean, sd) or string.format("%.4f ± —", mean)
end

local function seeds_of(o)
  local seeds = {}
  for s in tostring(o.seeds or o.seed or 1):gmatch("[^,%s]+") do
    local n = math.tointeger(tonumber(s))
    if not n or n < 0 then error("--seeds expects a list of non-negative integers such as 1,2,3, got '" .. tostring(o.seeds) .. "'", 0) end
    seeds[#seeds + 1] = n
  end
  if #seeds == 0 then error("--seeds names no seed", 0) end
  return seeds
end

local function html_escape(s)
  return (tostring(s):gsub("[&<>\"]", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;"}))
end

-- The comparison as Markdown and as a self-contained HTML page.
function ablation.tables(name, rows, seeds, settings)
  local md = {string.format("# %s\n", name),
              string.format("LOSO, pooled over all folds; mean ± sd over seeds %s (sample sd).\n", table.concat(seeds, ", ")),
              "| variant | accuracy | UF1 | UAR | runs |", "|---|---|---|---|---|"}
  local html = {"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" .. html_escape(name) .. " — mer-script ablation</title>\n",
                "<style>body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;color:#222;margin:24px auto;max-width:1100px}",
                "table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #d8dde6;padding:4px 10px;text-align:left}",
                "th{background:#eef2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#666;font-size:12px}</style>\n</head>\n<body>\n",
                "<h1>" .. html_escape(name) .. "</h1>\n<h2>Ablation</h2>\n",
                "<p class=\"note\">LOSO, pooled over all folds; mean ± sd over seeds " .. html_escape(table.concat(seeds, ", ")) .. " (sample sd). The epoch is never chosen on the test fold.</p>\n",
                "<table>\n<tr><th>variant</th><th>accuracy</th><th>UF1</th><th>UAR</th><th>runs</th></tr>\n"}
  for _, r in ipairs(rows) do
    local acc, uf1, uar, links_md, links_html = {}, {}, {}, {}, {}
    for _, run in ipairs(r.runs) do
      acc[#acc + 1], uf1[#uf1 + 1], uar[#uar + 1] = run.metrics.accuracy, run.metrics.uf1, run.metrics.uar
      if run.rel then   -- an evaluated-only row (chance) has no run directory to link
        links_md[#links_md + 1] = string.format("[seed %d](%s/report.html)", run.seed, run.rel)
        links_html[#links_html + 1] = string.format("<a href=\"%s/report.html\">seed %d</a>", html_escape(run.rel), run.seed)
      else
        links_md[#links_md + 1] = string.format("seed %d", run.seed)
        links_html[#links_html + 1] = string.format("seed %d", run.seed)
      end
    end
    local name_md = r.variant:gsub("|", "\\|")   -- a pipe would end the Markdown cell
    md[#md + 1] = string.format("| %s | %s | %s | %s | %s |", name_md, cell(acc), cell(uf1), cell(uar), table.concat(links_md, " "))
    html[#html + 1] = string.format("<tr><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s</td></tr>\n",
                                    html_escape(r.variant), cell(acc), cell(uf1), cell(uar), table.concat(links_html, " "))
  end
  html[#html + 1] = "</table>\n<h2>Configuration</h2>\n<table>\n"
  md[#md + 1] = "\n## Configuration\n"
  local keys = {}
  for k in pairs(settings) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    md[#md + 1] = string.format("- %s: %s", k, tostring(settings[k]))
    html[#html + 1] = string.format("<tr><td>%s</td><td>%s</td></tr>\n", html_escape(k), html_escape(settings[k]))
  end
  html[#html + 1] = "</table>\n</body>\n</html>\n"
  return table.concat(md, "\n") .. "\n", table.concat(html)
end

function ablation.run(name, o, ds, variants)
  local seeds = seeds_of(o)
  local dir = string.format("%s/%s-%s", o.dir or "runs", name, os.date("%Y%m%d-%H%M%S"))
  mer.mkdir(dir)
  print("comparison directory: " .. dir)
  local rows, t0 = {}, mer.time()
  for _, v in ipairs(variants) do
    local row = {variant = v[1], runs = {}}
    for _, seed in ipairs(seeds) do
      print(string.format("== %s: %s, seed %d", name, v[1], seed))
      -- v.dataset: one set for every seed, or a function of the seed (a fresh draw per seed).
      local vds = v.dataset or ds
      if type(vds) == "function" then vds = vds(seed) end
      if v.evaluate then   -- a method without training (chance): metrics straight from the data
        row.runs[#row.runs + 1] = {seed = seed, metrics = v.evaluate(vds, seed)}
      else
        local metrics, run = experiment.loso{
          name = v[1]:gsub("[^%w]+", "_") .. "-seed" .. seed, dir = dir, dataset = vds, options = o, model = v[2],
          epochs = o.epochs, batch = o.batch, lr = o.lr, step = o.step or 10, gamma = o.gamma or 0.5, seed = seed,
          validation = o.validation or 0,
        }
        row.runs[#row.runs + 1] = {seed = seed, metrics = metrics, rel = run.dir:sub(#dir + 2)}
      end
    end
    rows[#rows + 1] = row
  end
  local settings = {}
  for k, v in pairs(o) do settings[k] = tostring(v) end
  local md, html = ablation.tables(name, rows, seeds, settings)
  mer.write_file(dir .. "/ablation.md", md)
  mer.write_file(dir .. "/report.html", html)
  print("\n" .. md)
  print(string.format("written to %s/ablation.md and %s/report.html (%.0f s)", dir, dir, mer.time() - t0))
  return rows, dir
end

-- The data set a recipe asked for: --data DIR for CASME II, else the synthetic set, drawn
-- with data_seed (default o.data_seed or 1: the same set for every training seed).
-- `input` overrides o.input ("diff", "onset,apex", ...).
function ablation.dataset(o, input, data_seed)
  if not input then
    input = {}
    for kind in tostring(o.input or "onset,apex"):gmatch("[^,]+") do input[#input + 1] = kind end
  end
  if o.data ~= "" then return data.casme2{root = o.data, size = o.size, input = input} end
  local lo, hi = tostring(o.intensity or "1-3"):match("^([%d.]+)%-([%d.]+)$")
  if not lo then error("--intensity expects LO-HI in pixels at 112 px, e.g. 2-4, got '" .. tostring(o.intensity) .. "'", 0) end
  return data.synthetic{subjects = o.subjects, per_class = o.per_class, size = o.size, seed = data_seed or o.data_seed or 1, input = input,
                        intensity = {tonumber(lo), tonumber(hi)},
                        head_motion = o.head_motion, noise = o.noise, illumination = o.illumination}
end

-- The quickstart's recipe (Scripts/quickstart.lua says why), on 4 subjects and 2 seeds so that
-- each ablation recipe ends within 15 minutes on 2 cores.
ablation.defaults = {data = "", subjects = 4, per_class = 8, epochs = 12, size = 32, batch = 16, lr = 2e-3, step = 8, gamma = 0.3,
                     seeds = "1,2", input = "diff", intensity = "2-4", validation = 0, dir = "runs"}

return ablation
