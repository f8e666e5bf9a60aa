-- plot: figures drawn from Lua, saved as PNG (checked pixel by pixel) and SVG; argument
-- checks; display() outside a notebook.
local T = require("testing")

local function tmpdir()
  local d = os.tmpname(); os.remove(d); mer.mkdir(d); return d
end
local dir = tmpdir()

local function read(path)
  local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close(); return s
end

-- Palette colours (Tableau 10) as 0..1 RGB: blue, orange, green.
local blue, orange, green = {0x1f / 255, 0x77 / 255, 0xb4 / 255}, {0xff / 255, 0x7f / 255, 0x0e / 255}, {0x2c / 255, 0xa0 / 255, 0x2c / 255}

local function pixel(img, x, y) return {img[1][y][x], img[2][y][x], img[3][y][x]} end
local function same(a, b, tol)
  tol = tol or 0.02
  return math.abs(a[1] - b[1]) < tol and math.abs(a[2] - b[2]) < tol and math.abs(a[3] - b[3]) < tol
end
-- How many pixels of `img` have colour `c` (a scan of every pixel through a mask tensor).
local function count(img, c)
  local d = (img[1] - c[1]):abs() + (img[2] - c[2]):abs() + (img[3] - c[3]):abs()
  return d:lt(0.05):sum():item()
end

T.test("plot.line draws every series and saves PNG and SVG", function()
  local fig = plot.line({{1, 2, 3, 2}, tensor.from{3, 3, 1, 1}}, {names = {"up", "down"}, title = "two", xlabel = "epoch",
                                                                 width = 400, height = 300})
  assert(tostring(fig) == "figure 'two' 400x300", tostring(fig))
  assert(fig.width == 400 and fig.height == 300 and fig.title == "two")
  assert(fig:save(dir .. "/line.png") == dir .. "/line.png")
  local img = image.load(dir .. "/line.png")
  T.values(tensor.from(img:shape()), {3, 300, 400})
  assert(same(pixel(img, 1, 1), {1, 1, 1}), "the background is white")
  assert(count(img, blue) > 150, "the first series is drawn in blue: " .. count(img, blue))
  assert(count(img, orange) > 150, "the second series is drawn in orange: " .. count(img, orange))
  fig:save(dir .. "/line.svg")
  local svg = read(dir .. "/line.svg")
  assert(svg:find("<svg", 1, true) and select(2, svg:gsub("<polyline", "")) >= 4 and svg:find(">two</text>", 1, true))
  -- x given: its values set the axis; extreme but finite values draw without trouble.
  plot.line({1e308, -1e308, 1e-308}, {x = {0.5, 1, 1.5}}):save(dir .. "/huge.png")
  T.values(tensor.from(image.load(dir .. "/huge.png"):shape()), {3, 400, 640})
end)

T.test("plot.scatter colours points by class", function()
  local fig = plot.scatter({1, 2, 3, 4}, {1, 4, 9, 16}, {labels = {1, 1, 2, 3}, names = {"a", "b", "c"}, width = 320, height = 240})
  fig:save(dir .. "/scatter.png")
  local img = image.load(dir .. "/scatter.png")
  assert(count(img, blue) > 10 and count(img, orange) > 10 and count(img, green) > 10,
         string.format("dots of three classes: %d %d %d", count(img, blue), count(img, orange), count(img, green)))
  assert(count(plot.scatter({1, 2}, {2, 1}):save(dir .. "/s2.png") and image.load(dir .. "/s2.png"), orange) == 0,
         "without labels every point is one colour")
end)

T.test("plot.bar draws one bar per value, heights in proportion", function()
  plot.bar({1, 2, 4}, {names = {"a", "b", "c"}, width = 300, height = 200}):save(dir .. "/bar.png")
  local img = image.load(dir .. "/bar.png")
  -- Each bar is a solid column of its palette colour; their heights go 1 : 2 : 4.
  local heights = {}
  for k, c in ipairs{blue, orange, green} do heights[k] = count(img, c) end
  T.near(heights[2] / heights[1], 2, 0.08, "bar 2 / bar 1")
  T.near(heights[3] / heights[1], 4, 0.08, "bar 3 / bar 1")
end)

T.test("plot.images tiles images, clamped or normalised", function()
  local red = tensor.zeros{3, 8, 8}
  red[1]:fill_(1)
  local ramp = tensor.arange(64):reshape{8, 8} / 32 - 1   -- -1 .. 0.97
  local fig = plot.images({red, ramp}, {cell = 32})
  assert(fig.width == 2 * (32 + 8) + 8 and fig.height == 32 + 16, fig.width .. "x" .. fig.height)
  fig:save(dir .. "/images.png")
  local img = image.load(dir .. "/images.png")
  assert(same(pixel(img, 8 + 16, 8 + 16), {1, 0, 0}), "the red image is red")
  assert(same(pixel(img, 48 + 2, 8 + 2), {0, 0, 0}), "a negative value is clamped to black")
  plot.images({ramp}, {cell = 32, normalize = true}):save(dir .. "/norm.png")
  local n = image.load(dir .. "/norm.png")
  assert(same(pixel(n, 8 + 2, 8 + 2), {0, 0, 0}) and same(pixel(n, 8 + 31, 8 + 31), {1, 1, 1}), "normalize stretches min..max")
  -- A batch works as a table of images; titles sit above each one.
  local batch = tensor.rand{3, 1, 16, 16}
  assert(plot.images(batch, {titles = {"a", "b", "c"}, columns = 3}).width == 3 * (128 + 8) + 8)
end)

T.test("plot.confusion counts predictions", function()
  local fig = plot.confusion({1, 1, 2, 3}, {1, 2, 2, 3}, {classes = {"x", "y", "z"}, title = "cm"})
  assert(fig.title == "cm")
  fig:save(dir .. "/cm.png")
  local img = image.load(dir .. "/cm.png")
  assert(img:size(2) == fig.height and img:size(3) == fig.width)
  local m = plot.confusion({{5, 0}, {1, 4}})
  assert(m.width > 100)
  fig:save(dir .. "/cm.svg")
  local svg = read(dir .. "/cm.svg")
  assert(svg:find(">x</text>", 1, true) and svg:find("50.0%", 1, true), "class names and row shares are drawn")
end)

T.test("bad arguments are Lua errors naming the argument", function()
  T.raises("plot.line: argument 1: element 2 is nan, expected a finite number", plot.line, {1, 0 / 0, 3})
  T.raises("plot.line: argument 1: element 2 is inf, expected a finite number", plot.line, {1, math.huge})
  T.raises("plot.line: argument 1: element 1 is -inf", plot.line, tensor.from{-math.huge, 1})
  T.raises("plot.line: argument 2: option 'x': element 2 is -inf", plot.line, {1, 2}, {x = {1, -math.huge}})
  T.raises("plot.line: argument 2: option 'x': x has 3 values but series 1 has 2", plot.line, {1, 2}, {x = {1, 2, 3}})
  T.raises("plot.line: argument 2: option 'width': expected a size in pixels in 64..4096, got 1000000000", plot.line, {1}, {width = 1e9})
  T.raises("plot.line: argument 2: option 'height': expected an integer, got", plot.line, {1}, {height = 0 / 0})
  T.raises("plot.line: argument 2: unknown option 'bogus'", plot.line, {1}, {bogus = 1})
  T.raises("plot.line: argument 1: element 2: expected a table of numbers or a 1-D tensor, got string", plot.line, {{1}, "x"})
  T.raises("plot.line: argument 1: expected a table of numbers or a 1-D tensor, got a tensor of shape {2,2}", plot.line, tensor.zeros{2, 2})
  T.raises("plot.scatter: argument 2: y has 1 values but x has 2", plot.scatter, {1, 2}, {1})
  T.raises("plot.scatter: argument 3: option 'labels': labels has 1 values but there are 2 points", plot.scatter, {1, 2}, {1, 2}, {labels = {1}})
  T.raises("plot.bar: argument 1: expected 1..1000 values, got 0", plot.bar, {})
  T.raises("plot.images: argument 1: image 1: expected a (C, H, W) tensor with C = 1 or 3", plot.images, {tensor.zeros{2, 8, 8}})
  T.raises("plot.images: argument 1: image 1: it holds nan, expected finite values", plot.images, {tensor.zeros{1, 8, 8} / 0})
  T.raises("plot.images: argument 2: option 'cell': expected an integer, got 1e+300", plot.images, {tensor.zeros{8, 8}}, {cell = 1e300})
  T.raises("plot.confusion: argument 1: row 2 has 1 counts, expected 2 (a square matrix)", plot.confusion, {{1, 2}, {3}})
  T.raises("plot.confusion: argument 2: target has 1 labels but pred has 2", plot.confusion, {1, 2}, {1})
  T.raises("plot.confusion: argument 1: expected class labels", plot.confusion, 5, {1})
  T.raises("plot.confusion: argument 1: expected class labels", plot.confusion, "x")
  T.raises("plot.figure.save: argument 1: expected a path ending in .png or .svg", function() plot.line({1}):save(dir .. "/x.jpg") end)
  T.raises("plot.figure.save: argument 1: expected a path ending in .png or .svg, got \"a\"", function() plot.line({1}):save("a") end)
  T.raises("expected a path ending in .png or .svg", function() plot.line({1}):save(dir .. "/png") end)
  T.raises("display: argument 2: option 'id': expected a string, got number", display, 1, {id = 5})
  -- Sizes that would make a figure too large to draw are refused before anything is drawn.
  T.raises("plot.images: the figure would be 66056x1040 pixels, more than 40 million", plot.images, tensor.zeros{64, 1, 8, 8},
           {cell = 1024, columns = 64})
  T.raises("plot.confusion: argument 1: labels up to 70, more than 64 classes", plot.confusion, {1, 70}, {1, 2})
  local many = {}
  for k = 1, 65 do many[k] = {1} end
  T.raises("plot.line: argument 1: 65 series, more than 64 in one chart", plot.line, many)
end)

T.test("display prints the text form outside a notebook", function()
  local lines = {}
  local saved = print
  print = function(...)
    local parts = {}
    for k = 1, select("#", ...) do parts[k] = tostring((select(k, ...))) end
    lines[#lines + 1] = table.concat(parts, " ")
  end
  local ok, err = pcall(function()
    display("hello", 42)
    display(plot.bar({1}), {id = "curve"})
  end)
  print = saved
  assert(ok, err)
  -- display calls print as the REPL does: the raw global, so this override is seen.
  assert(#lines == 2 and lines[1] == "hello 42" and lines[2] == "figure 640x400", table.concat(lines, " | "))
end)

return T.done()
