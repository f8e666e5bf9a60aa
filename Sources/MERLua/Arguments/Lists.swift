import CLua
import CLuaBridge

/// Readers of tables: lists of integers, sizes, pairs, strings, and name → value records.
/// An element that fails is reported as part of its table (`element 2 is 1.5`).
extension LuaCall {
    /// A list of integers given as a table `{2, 3}` (or as the remaining arguments when
    /// `allowVarargs` is set and the argument is a number: `tensor.zeros(2, 3)`).
    func integerList(_ i: Int32, what: String = "a table of integers", allowVarargs: Bool = true,
                     minimum: Int? = nil) throws -> [Int] {
        var values: [Int] = []
        if isTable(i) {
            let n = Int(lua_rawlen(L, i))
            for k in 0..<n {
                lua_rawgeti(L, i, lua_Integer(k + 1))
                defer { mer_pop(L, 1) }
                var isInt: Int32 = 0
                let v = lua_tointegerx(L, -1, &isInt)
                guard lua_type(L, -1) == LUA_TNUMBER, isInt != 0 else {
                    let got = isNumber(-1) ? formatNumber(lua_tonumberx(L, -1, nil)) : typeName(-1)
                    throw error(i, "expected \(what), got a table whose element \(k + 1) is \(got)")
                }
                values.append(Int(v))
            }
            // Keys beyond the sequence are a mistake worth reporting ({2, 3, x=1}).
            if hasNonSequenceKeys(i, length: n) { throw error(i, "expected \(what), got a table with non-sequence keys") }
        } else if allowVarargs && isNumber(i) {
            for k in i...max(top, i) { values.append(try integer(k)) }
        } else {
            throw error(i, "expected \(what), got \(typeName(i))")
        }
        if let m = minimum, let bad = values.first(where: { $0 < m }) {
            throw error(i, "expected \(what), got \(bad) in \(formatList(values))")
        }
        return values
    }

    /// A shape: `{2, 3}`, or `2, 3` as separate arguments; sizes must be non-negative.
    func shape(_ i: Int32, allowVarargs: Bool = true) throws -> [Int] {
        let what = "a table of non-negative integers (the shape)"
        if isNil(i) { throw error(i, "expected \(what), got \(typeName(i))") }
        return try integerList(i, what: what, allowVarargs: allowVarargs, minimum: 0)
    }

    /// A size given as `k` or `{h, w}` (each at least `minimum`, at most 2^20).
    func pair(_ i: Int32, minimum: Int = 1) throws -> (Int, Int) {
        let what = minimum > 0 ? "a positive integer or {h, w}" : "a non-negative integer or {h, w}"
        func read(_ idx: Int32) -> Int? {
            guard lua_type(L, idx) == LUA_TNUMBER else { return nil }
            var isInt: Int32 = 0
            let v = lua_tointegerx(L, idx, &isInt)
            guard isInt != 0, v >= minimum, v <= 1 << 20 else { return nil }
            return Int(v)
        }
        if isNumber(i) {
            guard let v = read(i) else { throw error(i, "expected \(what), got \(formatNumber(lua_tonumberx(L, i, nil)))") }
            return (v, v)
        }
        guard isTable(i) else { throw error(i, "expected \(what), got \(typeName(i))") }
        let n = Int(lua_rawlen(L, i))
        guard n == 2, !hasNonSequenceKeys(i, length: 2) else {
            throw error(i, "expected \(what), got a table of \(n) element\(n == 1 ? "" : "s")")
        }
        var out: [Int] = []
        for k in 1...2 {
            lua_rawgeti(L, i, lua_Integer(k))
            defer { mer_pop(L, 1) }
            guard let v = read(-1) else {
                let got = isNumber(-1) ? formatNumber(lua_tonumberx(L, -1, nil)) : typeName(-1)
                throw error(i, "expected \(what), got a table whose element \(k) is \(got)")
            }
            out.append(v)
        }
        return (out[0], out[1])
    }

    /// Two numbers `{a, b}`; `ordered` requires a <= b (a range such as scale={0.8, 1}).
    func floatPair(_ i: Int32, ordered: Bool = false) throws -> (Float, Float) {
        guard isTable(i), lua_rawlen(L, i) == 2 else { throw error(i, "expected a pair {a, b}, got \(typeName(i))") }
        let v = try elements(i, count: 2) { try float($0) }
        if ordered && v[0] > v[1] { throw error(i, "expected {low, high} with low <= high") }
        return (v[0], v[1])
    }

    /// A list of names; numbers are taken as their text, as Lua's own string functions do.
    func stringList(_ i: Int32, what: String = "a table of strings") throws -> [String] {
        guard isTable(i) else { throw error(i, "expected \(what), got \(typeName(i))") }
        return try elements(i, count: Int(lua_rawlen(L, i))) { j in
            guard isString(j) || isNumber(j) else { throw error(j, "expected a string, got \(typeName(j))") }
            return String(cString: mer_tostring(L, j, nil))
        }
    }

    /// Reads elements 1...count of the table at `i`; an element's error is placed inside
    /// the table's argument as `element k`.
    func elements<T>(_ i: Int32, count: Int, _ read: (Int32) throws -> T) throws -> [T] {
        let t = lua_absindex(L, i)
        return try (0..<count).map { k in
            lua_rawgeti(L, t, lua_Integer(k + 1))
            defer { mer_pop(L, 1) }
            do { return try read(top) } catch let e as ArgumentError where e.argument == top {
                throw e.within(t, "element \(k + 1)")
            }
        }
    }

    func hasNonSequenceKeys(_ i: Int32, length: Int) -> Bool {
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            var isInt: Int32 = 0
            let k = lua_type(L, -2) == LUA_TNUMBER ? lua_tointegerx(L, -2, &isInt) : 0
            mer_pop(L, 1)
            if isInt == 0 || k < 1 || k > length { mer_pop(L, 1); return true }
        }
        return false
    }

    /// Visits the string-keyed entries of the table at `i` (raw; any other key is an error),
    /// with the value on top of the stack; an error reading a value is placed under its key.
    func forEachField(_ i: Int32, what: String, _ visit: (String, Int32) throws -> Void) throws {
        guard isTable(i) else { throw error(i, "expected \(what), got \(typeName(i))") }
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            guard isString(-2) else {
                let k = typeName(-2)
                mer_pop(L, 2)
                throw error(t, "expected \(what), got a \(k) key")
            }
            let key = String(cString: mer_tostring(L, -2, nil))
            do { try visit(key, top) } catch {
                mer_pop(L, 2)
                throw error
            }
            mer_pop(L, 1)
        }
    }

    /// The string-keyed entries of the table at `i` whose values are numbers, strings or booleans.
    func namedScalars(_ i: Int32, what: String) throws -> [(String, Scalar)] {
        var out: [(String, Scalar)] = []
        try forEachField(i, what: what) { key, v in
            switch lua_type(L, v) {
            case LUA_TNUMBER:
                out.append((key, lua_isinteger(L, v) != 0 ? .integer(Int(lua_tointegerx(L, v, nil))) : .number(lua_tonumberx(L, v, nil))))
            case LUA_TSTRING: out.append((key, .string(String(cString: mer_tostring(L, v, nil)))))
            case LUA_TBOOLEAN: out.append((key, .boolean(lua_toboolean(L, v) != 0)))
            default: throw error(i, "\(what): '\(key)' is \(typeName(v)), expected a number or a string")
            }
        }
        return out
    }

    func formatList(_ v: [Int]) -> String { "{" + v.map(String.init).joined(separator: ",") + "}" }
}

/// A plain Lua value as a record field (a log row, a run's config).
enum Scalar: Equatable {
    case integer(Int), number(Double), string(String), boolean(Bool)
}
