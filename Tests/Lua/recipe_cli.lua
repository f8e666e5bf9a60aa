-- Scripts/lib/cli.lua: recipe options from the command line.
local T = require("testing")
local cli = require("cli")

T.test("parses numbers, strings and flags by their defaults' types", function()
  local o = cli.parse({"--epochs", "5", "--data", "/x", "--leaky", "--size", "64"},
                      {epochs = 30, size = 112, data = "", leaky = false, lr = 1e-3})
  assert(o.epochs == 5 and o.size == 64 and o.data == "/x" and o.leaky == true and o.lr == 1e-3)
  assert(cli.parse({"--leaky", "false"}, {leaky = true}).leaky == false)
  assert(cli.parse({"--batch-size", "8"}, {batch_size = 32}).batch_size == 8)
  assert(cli.describe({b = 1, a = "x"}) == "a=x b=1")
end)

T.test("rejects unknown options, missing values and wrong types", function()
  T.raises("unknown option --epoch (known: --epochs)", cli.parse, {"--epoch", "3"}, {epochs = 1})
  T.raises("option --epochs needs a value", cli.parse, {"--epochs"}, {epochs = 1})
  T.raises("option --epochs expects a number, got 'five'", cli.parse, {"--epochs", "five"}, {epochs = 1})
  T.raises("unexpected argument 'x'", cli.parse, {"x"}, {epochs = 1}, "usage: here")
end)

return T.done()
