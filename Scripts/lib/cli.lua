-- Command-line options for recipes: `mer-script recipe.lua --epochs 5 --size 64 --data path`.
--
--   local cli = require("cli")
--   local o = cli.parse(arg, {epochs = 30, size = 112, data = "", leaky = false},
--                       "usage: mer-script recipe.lua [--epochs N] [--size S] [--data DIR]")
--
-- Defaults give each option's type: numbers parse as numbers, booleans are flags
-- (`--leaky`, or `--leaky false`), strings stay strings. An unknown option, a missing
-- value or a value of the wrong type stops the script with the usage text.
local cli = {}

local function fail(usage, message)
  error(message .. (usage and ("\n" .. usage) or ""), 0)
end

function cli.parse(args, defaults, usage)
  local o = {}
  for k, v in pairs(defaults) do o[k] = v end
  local i = 1
  args = args or {}
  while args[i] ~= nil do
    local word = args[i]
    if word == "--help" or word == "-h" then
      print(usage or "no usage text"); os.exit(0)
    end
    local name = word:match("^%-%-([%w_%-]+)$")
    if not name then fail(usage, "unexpected argument '" .. word .. "'") end
    local key = name:gsub("%-", "_")
    if defaults[key] == nil then
      local known = {}
      for k in pairs(defaults) do known[#known + 1] = "--" .. k:gsub("_", "-") end
      table.sort(known)
      fail(usage, "unknown option --" .. name .. " (known: " .. table.concat(known, " ") .. ")")
    end
    local kind = type(defaults[key])
    if kind == "boolean" then
      local nxt = args[i + 1]
      if nxt == "true" or nxt == "false" then o[key] = nxt == "true"; i = i + 2
      else o[key] = true; i = i + 1 end
    else
      local value = args[i + 1]
      if value == nil then fail(usage, "option --" .. name .. " needs a value") end
      if kind == "number" then
        local n = tonumber(value)
        if n == nil then fail(usage, "option --" .. name .. " expects a number, got '" .. value .. "'") end
        o[key] = n
      else
        o[key] = value
      end
      i = i + 2
    end
  end
  return o
end

-- The options as "key=value" strings, sorted (for run configs and logs).
function cli.describe(o)
  local keys = {}
  for k in pairs(o) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(o[k]) end
  return table.concat(parts, " ")
end

return cli
