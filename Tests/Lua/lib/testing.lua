-- A minimal test runner for Lua-level tests: T.test(name, fn) runs fn in a protected
-- call, T.done() raises one error listing every failure with its file:line.
local T = { failures = {}, count = 0 }

function T.test(name, fn)
  T.count = T.count + 1
  local ok, err = xpcall(fn, function(e) return debug.traceback(tostring(e), 2) end)
  if not ok then
    T.failures[#T.failures + 1] = name .. ": " .. err
  end
end

-- Asserts that fn raises an error whose message contains `pattern` (plain text).
function T.raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error containing '" .. pattern .. "', got success", 2) end
  if not tostring(err):find(pattern, 1, true) then
    error("expected an error containing '" .. pattern .. "', got: " .. tostring(err), 2)
  end
  return err
end

-- pcall(fn, ...) without its console output: print and eval.progress are silenced while it
-- runs (recipes print thousands of progress lines), then restored, even when fn raises.
local silent_progress = {update = function() end, done = function() end}
function T.quietly(fn, ...)
  local saved_print, saved_progress = print, eval.progress
  print, eval.progress = function() end, function() return silent_progress end
  local result = table.pack(pcall(fn, ...))
  print, eval.progress = saved_print, saved_progress
  return table.unpack(result, 1, result.n)
end

function T.near(a, b, tol, what)
  tol = tol or 1e-5
  if math.abs(a - b) > tol * math.max(1, math.abs(b)) then
    error(string.format("%s: %.8g is not within %g of %.8g", what or "value", a, tol, b), 2)
  end
end

-- Compares a tensor's values with a flat Lua list.
function T.values(t, expected, tol)
  local flat = t:reshape{-1}
  assert(flat:numel() == #expected, string.format("expected %d values, got %d", #expected, flat:numel()))
  for i = 1, #expected do
    if math.abs(flat[i] - expected[i]) > (tol or 1e-6) then
      error(string.format("element %d: got %.8g, expected %.8g", i, flat[i], expected[i]), 2)
    end
  end
end

-- A battery of wrong arguments: calls f(args) with each of `wrong` (a list of {label,
-- value}) in each position 1..#args in turn, the others from `args` (valid values), and
-- with `extra` also as one argument more than the binding takes.
-- Every call must raise an error naming `name`, except the substitutions listed in
-- `accepted` ("position=label" separated by spaces), which are legal on purpose: the set
-- of calls that succeeded must equal `accepted` exactly, so a binding that starts taking
-- a wrong value, or one that stops taking a right one, fails the test. Returns the
-- number of calls made.
function T.battery(name, f, args, wrong, accepted, extra)
  local ran, succeeded = 0, {}
  local last = extra and #args + 1 or #args
  for pos = 1, last do
    for _, w in ipairs(wrong) do
      local call = {table.unpack(args)}
      call[pos] = w[2]
      local ok, err = pcall(f, table.unpack(call, 1, math.max(#args, pos)))
      ran = ran + 1
      if ok then
        succeeded[#succeeded + 1] = pos .. "=" .. w[1]
      elseif type(err) ~= "string" or not err:find(name, 1, true) then
        error(string.format("%s with %s as argument %d gave an error not naming it: %s",
                            name, w[1], pos, tostring(err)), 2)
      end
    end
  end
  local got = table.concat(succeeded, " ")
  if got ~= (accepted or "") then
    error(string.format("%s: the calls that did not raise were [%s], expected [%s]", name, got, accepted or ""), 2)
  end
  return ran
end

-- A synthetic data set of `subjects` subjects (one clip per class each) and a network that
-- trains on it in milliseconds: for tests that run experiment.loso end to end.
function T.tiny_loso_setup(subjects)
  local ds = data.synthetic{subjects = subjects, per_class = 1, size = 16, seed = 3, input = {"onset", "apex"}}
  local function model()
    return nn.Sequential{nn.Conv2d(2, 4, 3, {padding = 1}), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(4, 5)}
  end
  return ds, model
end

function T.done()
  if #T.failures > 0 then
    error(string.format("%d of %d tests failed:\n%s", #T.failures, T.count, table.concat(T.failures, "\n\n")), 0)
  end
  return T.count
end

return T
