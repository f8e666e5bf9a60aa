import CLua
import CLuaBridge

/// Readers of single values (lauxlib's `luaL_check*`): every conversion from a Lua value to
/// a Swift number, flag or string goes through here, so range rules live in one place.
extension LuaCall {
    /// A number; NaN is refused (it is never a meaningful argument and poisons comparisons).
    func number(_ i: Int32) throws -> Double {
        guard lua_type(L, i) == LUA_TNUMBER else { throw error(i, "expected a number, got \(typeName(i))") }
        let v = lua_tonumberx(L, i, nil)
        guard !v.isNaN else { throw error(i, "expected a number, got nan") }
        return v
    }

    /// A number within `range` (NaN and infinities fail a bounded range).
    func number(_ i: Int32, in range: ClosedRange<Double>, what: String? = nil) throws -> Double {
        let v = try number(i)
        guard range.contains(v) else { throw error(i, "expected \(what ?? describe(range)), got \(formatNumber(v))") }
        return v
    }

    /// A number as a 32-bit float: finite values beyond Float's range are refused rather
    /// than silently becoming infinite.
    func float(_ i: Int32) throws -> Float {
        let v = try number(i)
        if v.isFinite && abs(v) > Double(Float.greatestFiniteMagnitude) {
            throw error(i, "\(formatNumber(v)) is out of range for a 32-bit float")
        }
        return Float(v)
    }

    func float(_ i: Int32, in range: ClosedRange<Double>, what: String? = nil) throws -> Float {
        _ = try number(i, in: range, what: what)
        return try float(i)
    }

    func optFloat(_ i: Int32, _ fallback: Float) throws -> Float { isNil(i) ? fallback : try float(i) }

    /// An integer-valued number (3 and 3.0 both pass; 3.5 and numbers beyond the 64-bit
    /// integers do not).
    func integer(_ i: Int32) throws -> Int {
        guard lua_type(L, i) == LUA_TNUMBER else { throw error(i, "expected an integer, got \(typeName(i))") }
        var isInt: Int32 = 0
        let v = lua_tointegerx(L, i, &isInt)
        guard isInt != 0 else { throw error(i, "expected an integer, got \(formatNumber(lua_tonumberx(L, i, nil)))") }
        return Int(v)
    }

    /// An integer within `range`; `what` names the expectation ("a positive integer").
    func integer(_ i: Int32, in range: ClosedRange<Int>, what: String? = nil) throws -> Int {
        let v = try integer(i)
        guard range.contains(v) else { throw error(i, "expected \(what ?? describe(range)), got \(v)") }
        return v
    }

    func optInteger(_ i: Int32, _ fallback: Int) throws -> Int { isNil(i) ? fallback : try integer(i) }

    func positiveInteger(_ i: Int32) throws -> Int { try integer(i, in: 1...Int.max, what: "a positive integer") }

    func nonNegativeInteger(_ i: Int32) throws -> Int { try integer(i, in: 0...Int.max, what: "a non-negative integer") }

    /// A seed for a generator: a non-negative integer.
    func seed(_ i: Int32) throws -> UInt64 { UInt64(try nonNegativeInteger(i)) }

    func boolean(_ i: Int32) throws -> Bool {
        guard lua_type(L, i) == LUA_TBOOLEAN else { throw error(i, "expected a boolean, got \(typeName(i))") }
        return lua_toboolean(L, i) != 0
    }

    func optBoolean(_ i: Int32, _ fallback: Bool) throws -> Bool { isNil(i) ? fallback : try boolean(i) }

    func string(_ i: Int32) throws -> String {
        guard lua_type(L, i) == LUA_TSTRING else { throw error(i, "expected a string, got \(typeName(i))") }
        return String(cString: mer_tostring(L, i, nil))
    }

    /// One of a fixed set of names, as an enum whose raw values are the names Lua uses.
    func choice<T: RawRepresentable & CaseIterable>(_ i: Int32, _ type: T.Type) throws -> T where T.RawValue == String {
        let s = try string(i)
        guard let v = T(rawValue: s) else {
            throw error(i, "expected \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(s)\"")
        }
        return v
    }

    func function(_ i: Int32) throws {
        guard lua_type(L, i) == LUA_TFUNCTION else { throw error(i, "expected a function, got \(typeName(i))") }
    }

    /// A 1-based dimension (negative counts from the end) converted to a 0-based axis.
    func dimension(_ i: Int32, rank: Int, allowInsert: Bool = false) throws -> Int {
        let d = try integer(i)
        let r = allowInsert ? rank + 1 : rank
        if d >= 1 && d <= r { return d - 1 }
        if d < 0 && d >= -r { return r + d } // not -d <= r: -math.mininteger overflows
        throw error(i, "dimension \(d) out of range for a tensor with \(rank) dimension\(rank == 1 ? "" : "s") (dimensions are numbered 1..\(r), or -1 for the last)")
    }

    /// A 1-based index into a dimension of `size` (negative counts from the end) → 0-based.
    func index(_ i: Int32, size: Int, what: String) throws -> Int {
        let k = try integer(i)
        if k >= 1 && k <= size { return k - 1 }
        if k < 0 && k >= -size { return size + k }
        throw error(i, "\(what) \(k) out of range for a dimension of size \(size) (indices are 1..\(size))")
    }
}

func describe(_ range: ClosedRange<Double>) -> String {
    "a number in [\(formatNumber(range.lowerBound)), \(formatNumber(range.upperBound))]"
}

func describe(_ range: ClosedRange<Int>) -> String {
    range.upperBound == Int.max ? "an integer >= \(range.lowerBound)" : "an integer in \(range.lowerBound)..\(range.upperBound)"
}

func formatNumber(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    return "\(v)"
}
