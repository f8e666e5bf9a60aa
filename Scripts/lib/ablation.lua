-- Runs several model variants through the same LOSO protocol and prints one table.
--   require("ablation").run(o, ds, {{"label", function() return model end}, ...})
local experiment = require("experiment")
local ablation = {}

function ablation.run(name, o, ds, variants)
  local rows = {}
  for _, v in ipairs(variants) do
    print(string.format("== %s: %s", name, v[1]))
    local metrics = experiment.loso{
      name = name .. "-" .. v[1]:gsub("[^%w]+", "_"), dataset = v.dataset or ds, options = o, model = v[2],
      epochs = o.epochs, batch = o.batch, lr = o.lr, step = o.step or 10, gamma = o.gamma or 0.5, seed = o.seed,
      validation = o.validation or 0,
    }
    rows[#rows + 1] = {v[1], metrics}
  end
  print(string.format("\n%-28s %9s %9s %9s", name, "accuracy", "UF1", "UAR"))
  for _, r in ipairs(rows) do
    print(string.format("%-28s %9.4f %9.4f %9.4f", r[1], r[2].accuracy, r[2].uf1, r[2].uar))
  end
  return rows
end

-- The data set a recipe asked for: --data DIR for CASME II, else the synthetic set.
function ablation.dataset(o, input)
  if o.data ~= "" then return data.casme2{root = o.data, size = o.size, input = input} end
  return data.synthetic{subjects = o.subjects, per_class = o.per_class, size = o.size, seed = o.seed, input = input}
end

ablation.defaults = {data = "", subjects = 4, per_class = 6, epochs = 6, size = 64, batch = 16, lr = 1e-3, seed = 1, validation = 0}

return ablation
