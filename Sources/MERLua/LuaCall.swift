import CLua
import CLuaBridge
import MERTensor

/// One call of a binding: typed, checked access to its arguments and pushing of results.
/// Every check failure names the function and the argument as the user numbers them
/// (`tensor.zeros: argument 1: expected a table of positive integers, got string`); for
/// methods, `self` is not counted.
struct LuaCall {
    let L: OpaquePointer
    let vm: LuaVM
    let name: String
    let isMethod: Bool

    var top: Int32 { lua_gettop(L) }

    /// The user-facing position of stack slot `i`.
    func position(_ i: Int32) -> Int32 { isMethod ? i - 1 : i }

    func error(_ i: Int32, _ what: String) -> LuaError {
        if isMethod && i == 1 { return LuaError("\(name): \(what) (call it with ':' on the object)") }
        return LuaError("\(name): argument \(position(i)): \(what)")
    }

    func error(_ what: String) -> LuaError { LuaError("\(name): \(what)") }

    func typeName(_ i: Int32) -> String {
        if let mt = userdataTypeName(i) { return mt }
        return String(cString: lua_typename(L, lua_type(L, i)))
    }

    func isNil(_ i: Int32) -> Bool { mer_isnoneornil(L, i) != 0 }
    func isNumber(_ i: Int32) -> Bool { lua_type(L, i) == LUA_TNUMBER }
    func isTable(_ i: Int32) -> Bool { lua_type(L, i) == LUA_TTABLE }

    /// Rejects calls with more arguments than the binding takes.
    func expectAtMost(_ n: Int32) throws {
        let given = position(top)
        let allowed = position(n)
        if given > allowed {
            throw error("expected at most \(allowed) argument\(allowed == 1 ? "" : "s"), got \(given)")
        }
    }

    // MARK: Scalars

    func number(_ i: Int32) throws -> Double {
        guard lua_type(L, i) == LUA_TNUMBER else { throw error(i, "expected a number, got \(typeName(i))") }
        return lua_tonumberx(L, i, nil)
    }

    func float(_ i: Int32) throws -> Float {
        let v = try number(i)
        return Float(v)
    }

    func optFloat(_ i: Int32, _ fallback: Float) throws -> Float { isNil(i) ? fallback : try float(i) }

    /// An integer-valued number (3 and 3.0 both pass; 3.5 does not).
    func integer(_ i: Int32) throws -> Int {
        guard lua_type(L, i) == LUA_TNUMBER else { throw error(i, "expected an integer, got \(typeName(i))") }
        var isInt: Int32 = 0
        let v = lua_tointegerx(L, i, &isInt)
        guard isInt != 0 else { throw error(i, "expected an integer, got \(formatNumber(lua_tonumberx(L, i, nil)))") }
        return Int(v)
    }

    func optInteger(_ i: Int32, _ fallback: Int) throws -> Int { isNil(i) ? fallback : try integer(i) }

    func boolean(_ i: Int32) throws -> Bool {
        guard lua_type(L, i) == LUA_TBOOLEAN else { throw error(i, "expected a boolean, got \(typeName(i))") }
        return lua_toboolean(L, i) != 0
    }

    func string(_ i: Int32) throws -> String {
        guard lua_type(L, i) == LUA_TSTRING else { throw error(i, "expected a string, got \(typeName(i))") }
        return String(cString: mer_tostring(L, i, nil))
    }

    func function(_ i: Int32) throws {
        guard lua_type(L, i) == LUA_TFUNCTION else { throw error(i, "expected a function, got \(typeName(i))") }
    }

    /// A 1-based dimension (negative counts from the end) converted to a 0-based axis.
    func dimension(_ i: Int32, rank: Int, allowInsert: Bool = false) throws -> Int {
        let d = try integer(i)
        let r = allowInsert ? rank + 1 : rank
        if d >= 1 && d <= r { return d - 1 }
        if d < 0 && -d <= r { return r + d }
        throw error(i, "dimension \(d) out of range for a tensor with \(rank) dimension\(rank == 1 ? "" : "s") (dimensions are numbered 1..\(r), or -1 for the last)")
    }

    // MARK: Lists

    /// A list of integers given as a table `{2, 3}` (or as the remaining arguments when
    /// `varargsFrom` is set and the argument is a number: `tensor.zeros(2, 3)`).
    func integerList(_ i: Int32, what: String = "a table of integers", allowVarargs: Bool = true,
                     minimum: Int? = nil) throws -> [Int] {
        var values: [Int] = []
        if isTable(i) {
            let n = lua_rawlen(L, i)
            for k in 1...max(Int(n), 1) where n > 0 {
                lua_rawgeti(L, i, lua_Integer(k))
                defer { mer_pop(L, 1) }
                var isInt: Int32 = 0
                let v = lua_tointegerx(L, -1, &isInt)
                guard lua_type(L, -1) == LUA_TNUMBER, isInt != 0 else {
                    throw error(i, "expected \(what), got a table whose element \(k) is \(lua_type(L, -1) == LUA_TNUMBER ? formatNumber(lua_tonumberx(L, -1, nil)) : String(cString: lua_typename(L, lua_type(L, -1))))")
                }
                values.append(Int(v))
            }
            // Keys beyond the sequence are a mistake worth reporting ({2, 3, x=1}).
            if hasNonSequenceKeys(i, length: Int(n)) { throw error(i, "expected \(what), got a table with non-sequence keys") }
        } else if allowVarargs && isNumber(i) {
            for k in i...max(top, i) {
                values.append(try integer(k))
            }
        } else {
            throw error(i, "expected \(what), got \(typeName(i))")
        }
        if let m = minimum, let bad = values.first(where: { $0 < m }) {
            throw error(i, "expected \(what), got \(bad) in \(formatList(values))")
        }
        return values
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

    func formatList(_ v: [Int]) -> String { "{" + v.map(String.init).joined(separator: ",") + "}" }

    // MARK: Option tables

    /// The trailing options table at `i` (nil/none allowed). Keys are read raw, and unknown
    /// keys are an error, so a typo (`{strid=2}`) does not pass silently.
    func options(_ i: Int32, allowed: [String]) throws -> LuaOptions? {
        if isNil(i) { return nil }
        guard isTable(i) else { throw error(i, "expected an options table, got \(typeName(i))") }
        let t = lua_absindex(L, i)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            mer_pop(L, 1)
            guard lua_type(L, -1) == LUA_TSTRING else {
                mer_pop(L, 1)
                throw error(i, "options must be given by name ({\(allowed.joined(separator: ", "))})")
            }
            let key = String(cString: mer_tostring(L, -1, nil))
            if !allowed.contains(key) {
                mer_pop(L, 1)
                throw error(i, "unknown option '\(key)' (expected one of: \(allowed.joined(separator: ", ")))")
            }
        }
        return LuaOptions(call: self, index: t)
    }

    // MARK: Results

    func push(_ v: Double) { lua_pushnumber(L, v) }
    func push(_ v: Float) { lua_pushnumber(L, Double(v)) }
    func push(_ v: Int) { lua_pushinteger(L, lua_Integer(v)) }
    func push(_ v: Bool) { lua_pushboolean(L, v ? 1 : 0) }
    func push(_ v: String) { lua_pushstring(L, v) }
    func pushNil() { lua_pushnil(L) }

    func pushIntegers(_ values: [Int]) {
        lua_createtable(L, Int32(values.count), 0)
        for (k, v) in values.enumerated() {
            lua_pushinteger(L, lua_Integer(v))
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    // MARK: Errors from the engine

    /// The message a Swift error shows in Lua: engine messages start with the op name
    /// (`reshape: …`), which becomes the binding's full name (`tensor.reshape: …`).
    static func message(for error: Error, in name: String) -> String {
        if let e = error as? LuaError { return e.message }
        var text = "\(error)"
        let short = name.split(separator: ".").last.map(String.init) ?? name
        if text.hasPrefix(short + ": ") { text.removeFirst(short.count + 2) }
        return "\(name): \(text)"
    }
}

/// Named options read from a Lua table (raw reads: no metamethods run).
struct LuaOptions {
    let call: LuaCall
    let index: Int32

    private func field<T>(_ key: String, _ read: (Int32) throws -> T) throws -> T? {
        lua_pushstring(call.L, key)
        lua_rawget(call.L, index)
        defer { mer_pop(call.L, 1) }
        if lua_type(call.L, -1) == LUA_TNIL { return nil }
        do { return try read(lua_gettop(call.L)) } catch let e as LuaError {
            // Re-word "argument N" as the option's name.
            let detail = e.message.components(separatedBy: ": ").dropFirst(2).joined(separator: ": ")
            throw call.error(index, "option '\(key)': \(detail)")
        }
    }

    /// An option read by any `LuaCall` reader (errors are re-worded to name the option).
    func value<T>(_ key: String, _ read: (Int32) throws -> T) throws -> T? { try field(key, read) }

    func number(_ key: String) throws -> Double? { try field(key) { try call.number($0) } }
    func float(_ key: String) throws -> Float? { try field(key) { try call.float($0) } }
    func integer(_ key: String) throws -> Int? { try field(key) { try call.integer($0) } }
    func boolean(_ key: String) throws -> Bool? { try field(key) { try call.boolean($0) } }
    func string(_ key: String) throws -> String? { try field(key) { try call.string($0) } }
    func integerList(_ key: String) throws -> [Int]? { try field(key) { try call.integerList($0, allowVarargs: false) } }
    func tensor(_ key: String) throws -> Tensor? { try field(key) { try call.tensor($0) } }
}

func formatNumber(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
    return "\(v)"
}
