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

function T.done()
  if #T.failures > 0 then
    error(string.format("%d of %d tests failed:\n%s", #T.failures, T.count, table.concat(T.failures, "\n\n")), 0)
  end
  return T.count
end

return T
