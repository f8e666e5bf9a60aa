-- mer.mkdir / listdir / exists / remove / read_file / write_file: the file system without
-- a shell, and without writing through symbolic links.
local T = require("testing")

local base = os.tmpname()
os.remove(base)

T.test("directories, listings, existence and removal", function()
  mer.mkdir(base .. "/a/b")
  mer.mkdir(base .. "/a/b")              -- an existing directory is fine
  assert(mer.exists(base .. "/a/b"))
  mer.write_file(base .. "/a/z.txt", "zed")
  mer.write_file(base .. "/a/y.txt", "why")
  local names = mer.listdir(base .. "/a")
  assert(table.concat(names, ",") == "b,y.txt,z.txt", table.concat(names, ","))
  mer.remove(base .. "/a/y.txt")
  assert(not mer.exists(base .. "/a/y.txt"))
  T.raises("mer.remove: cannot remove " .. base .. "/a: directory not empty", mer.remove, base .. "/a")
  T.raises("mer.listdir: cannot list " .. base .. "/none: not a directory", mer.listdir, base .. "/none")
end)

T.test("write_file is atomic and binary-safe; read_file caps the size", function()
  local path = base .. "/bytes.bin"
  local bytes = "a\0b\255c"
  mer.write_file(path, bytes)
  assert(mer.read_file(path) == bytes)
  mer.write_file(path, "second")
  assert(mer.read_file(path) == "second")
  T.raises("more than the 3 this file may have", mer.read_file, path, 3)
  T.raises("mer.read_file: cannot read " .. base .. "/missing: No such file or directory", mer.read_file, base .. "/missing")
  T.raises("mer.write_file: argument 2: expected a string, got number", mer.write_file, path, 5)
  T.raises("mer.read_file: argument 2: expected a byte count", mer.read_file, path, -1)
  T.raises("mer.mkdir: argument 1: expected a string, got nil", mer.mkdir, nil)
  T.raises("mer.exists: expected at most 1 argument, got 2", mer.exists, path, 1)
end)

T.test("image.max_bytes limits a decode before it allocates", function()
  local default = image.max_bytes()
  assert(default == 512 << 20, default)
  local path = base .. "/wide.png"
  image.save(tensor.rand{3, 64, 64}, path)          -- 48 KB of float32 once decoded
  image.max_bytes(16 << 10)
  T.raises("more than the image memory limit", image.load, path)
  image.max_bytes(default)
  assert(image.load(path):numel() == 3 * 64 * 64)
  T.raises("image.max_bytes: argument 1: expected a byte count", image.max_bytes, 0)
  mer.remove(path)
end)

T.test("nothing is left behind", function()
  for _, p in ipairs({"/bytes.bin", "/a/z.txt", "/a/b", "/a", ""}) do mer.remove(base .. p) end
  assert(not mer.exists(base))
end)

return T.done()
