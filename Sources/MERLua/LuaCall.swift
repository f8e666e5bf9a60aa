import CLua
import CLuaBridge

/// One call of a binding: the Lua stack it runs on and who it is, for the readers in
/// `Arguments/` and the pushers in `Arguments/Results.swift`. Arguments are numbered as the
/// user numbers them (`tensor.zeros: argument 1: ...`); for methods, `self` is not counted.
struct LuaCall {
    let L: OpaquePointer
    let vm: LuaVM
    let name: String
    let isMethod: Bool

    var top: Int32 { lua_gettop(L) }

    /// A complaint about argument `i` (a stack slot).
    func error(_ i: Int32, _ what: String) -> ArgumentError {
        ArgumentError(function: name, isMethod: isMethod, argument: i, detail: what)
    }

    /// A complaint about the call as a whole.
    func error(_ what: String) -> ArgumentError {
        ArgumentError(function: name, isMethod: isMethod, argument: nil, detail: what)
    }

    func typeName(_ i: Int32) -> String {
        if let mt = userdataTypeName(i) { return mt }
        return String(cString: lua_typename(L, lua_type(L, i)))
    }

    func isNil(_ i: Int32) -> Bool { mer_isnoneornil(L, i) != 0 }
    func isNumber(_ i: Int32) -> Bool { lua_type(L, i) == LUA_TNUMBER }
    func isTable(_ i: Int32) -> Bool { lua_type(L, i) == LUA_TTABLE }
    func isString(_ i: Int32) -> Bool { lua_type(L, i) == LUA_TSTRING }

    /// Rejects calls with more arguments than the binding takes (`n` counts stack slots).
    func expectAtMost(_ n: Int32) throws {
        let given = isMethod ? top - 1 : top
        let allowed = isMethod ? n - 1 : n
        if given > allowed {
            throw error("expected at most \(allowed) argument\(allowed == 1 ? "" : "s"), got \(given)")
        }
    }
}
