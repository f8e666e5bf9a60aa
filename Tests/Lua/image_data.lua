-- image and data from Lua, on the CASME II / SAMM fixtures in CASME II's own layout.
local T = require("testing")
local root = (arg and arg.root) or "Datasets/fixtures"

local function tmpdir()
  local d = os.tmpname(); os.remove(d); os.execute("mkdir -p " .. d); return d
end

T.test("image I/O and operations", function()
  local dir = tmpdir()
  local t = tensor.rand{3, 5, 7}
  image.save(t, dir .. "/a.png")
  local u = image.load(dir .. "/a.png")
  assert(u:size(1) == 3 and u:size(2) == 5 and u:size(3) == 7)
  assert((u - t):abs():max():item() <= 0.5 / 255 + 1e-6, "8-bit PNG round trip")
  image.save(t, dir .. "/a.jpg", {quality = 95})
  assert(image.load(dir .. "/a.jpg"):size(1) == 3)
  local g = image.gray(tensor.from{{{1}}, {{0}}, {{0}}})
  T.near(g:item(), 0.299, 1e-6)
  T.values(image.resize(tensor.arange(16):reshape{1, 4, 4}, 2, 2), {2.5, 4.5, 10.5, 12.5})
  T.values(image.crop(tensor.arange(16):reshape{1, 4, 4}, 2, 3, 2, 1), {9, 10})
  T.values(image.center_crop(tensor.arange(16):reshape{1, 4, 4}, 2, 2), {5, 6, 9, 10})
  local grid = image.grid({tensor.zeros{1, 4, 4}, tensor.ones{3, 4, 4}}, {padding = 1})
  assert(grid:size(1) == 3 and grid:size(2) == 6 and grid:size(3) == 11, table.concat(grid:shape(), "x"))
  T.raises("image.load: /nonexistent.png: no such file", image.load, "/nonexistent.png")
  local bad = io.open(dir .. "/bad.png", "wb"); bad:write("GIF89a not an image"); bad:close()
  T.raises("not a PNG or JPEG file", image.load, dir .. "/bad.png")
  T.raises("image.resize: argument 2: expected a positive integer", image.resize, t, 0, 3)
  T.raises("image.resize: argument 4: option 'mode'", image.resize, t, 2, 2, {mode = "cubic"})
  T.raises("image.crop:", image.crop, t, 6, 1, 3, 3)
  os.execute("rm -rf " .. dir)
end)

T.test("CASME II as distributed", function()
  local ds = data.casme2{root = root .. "/casme2", size = 32}
  assert(#ds == 10, #ds)
  assert(table.concat(ds:classes(), ",") == "happiness,disgust,repression,surprise,others")
  assert(#ds:subjects() == 3 and ds:subjects()[1] == "sub01")
  local s = ds[1]
  assert(s.x:size(1) == 2 and s.x:size(2) == 32 and s.x:size(3) == 32, "onset and apex as 2 channels")
  assert(s.y >= 1 and s.y <= 5)
  local text = ds:counts()
  assert(text:find("total", 1, true))
  assert(#ds:warnings() >= 2, "one warning per quirky row")
  local three = data.casme2{root = root .. "/casme2", classes = 3, input = {"onset", "apex", "diff"}, size = 16}
  assert(three[1].x:size(1) == 3)
  assert(#three:classes() == 3)
  local d = data.casme2{root = root .. "/casme2", input = {"diff"}, size = 16}[1].x
  local oa = data.casme2{root = root .. "/casme2", size = 16}[1].x
  assert((d[1] - (oa[2] - oa[1])):abs():max():item() < 1e-6, "diff = apex - onset")
  T.raises("data.casme2: argument 1: option 'root' is required", data.casme2, {})
  T.raises("is not a directory", data.casme2, {root = "/nonexistent"})
  T.raises("data.casme2: argument 1: option 'classes': expected 5 or 3, got 4", data.casme2, {root = root .. "/casme2", classes = 4})
  T.raises("data.casme2: argument 1: unknown option 'sizes'", data.casme2, {root = root .. "/casme2", sizes = 3})
end)

T.test("SAMM with its preamble rows", function()
  local ds = data.samm{root = root .. "/samm", size = 16}
  assert(#ds > 0 and ds[1].x:size(1) == 2)
end)

T.test("LOSO, k-fold and validation splits never mix subjects", function()
  local ds = data.casme2{root = root .. "/casme2", size = 16}
  local tested = 0
  for fold in data.loso(ds) do
    local train = {}
    for _, s in ipairs(fold.train:subjects()) do train[s] = true end
    for _, s in ipairs(fold.test:subjects()) do assert(not train[s], "subject in both sides") end
    assert(fold.test:subjects()[1] == fold.subject)
    tested = tested + #fold.test
    local tr, val = data.validation_split(fold.train, {subjects = 1, seed = 2})
    assert(#tr + #val == #fold.train and #val > 0)
    for _, s in ipairs(val:subjects()) do assert(s ~= fold.subject) end
  end
  assert(tested == #ds, "every sample tested exactly once")
  assert(#data.loso(ds) == 3)
  local folds = data.kfold(ds, 3, {seed = 1})
  assert(#folds == 3)
end)

T.test("loader: seeded order, batches, drop_last, map and filter", function()
  local ds = data.casme2{root = root .. "/casme2", size = 16}
  local function order(seed)
    local ids = {}
    for b in data.loader(ds, {batch = 3, seed = seed}) do
      assert(b.x:size(1) == #b.ids and b.y:size(1) == #b.ids)
      for _, id in ipairs(b.ids) do ids[#ids + 1] = id end
    end
    return table.concat(ids, " ")
  end
  assert(order(1) == order(1))
  assert(order(1) ~= order(2))
  local l = data.loader(ds, {batch = 4, drop_last = true, shuffle = false})
  local n = 0
  for b in l do n = n + 1; assert(b.x:size(1) == 4) end
  assert(n == 2 and #l == 2)
  -- map runs lazily in Lua, and the same change reaches every frame of the pair.
  local calls = 0
  local flipped = ds:map(function(s) calls = calls + 1; s.x = s.x:narrow(3, 1, 8); return s end)
  assert(calls == 0)
  assert(flipped[2].x:size(3) == 8 and calls == 1)
  for b in data.loader(flipped, {batch = 5}) do assert(b.x:size(4) == 8) end
  assert(calls == 1 + #ds)
  local happy = ds:filter(function(i) return ds:classes()[i.y] == "happiness" end)
  for k = 1, #happy do assert(happy[k].y == 1) end
  T.raises("data.map: the mapping function failed", function() return ds:map(function() error("oops") end)[1] end)
  T.raises("data.loader: argument 2: option 'batch': expected a positive integer", data.loader, ds, {batch = 0})
  T.raises("data.loader: argument 1: expected a data set, got table", data.loader, {})
end)

T.test("imagefolder sorts classes by name", function()
  local dir = tmpdir()
  os.execute("mkdir -p " .. dir .. "/b_cat " .. dir .. "/a_dog")
  image.save(tensor.rand{3, 8, 8}, dir .. "/b_cat/1.png")
  image.save(tensor.rand{3, 8, 8}, dir .. "/a_dog/1.jpg")
  image.save(tensor.rand{3, 8, 8}, dir .. "/a_dog/2.png")
  local ds = data.imagefolder(dir, {size = 4})
  assert(table.concat(ds:classes(), ",") == "a_dog,b_cat")
  assert(#ds == 3 and ds[3].y == 2 and ds[1].x:size(2) == 4)
  os.execute("rm -rf " .. dir)
end)

return T.done()
