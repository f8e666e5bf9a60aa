import CLua
import CLuaBridge
import MERNN
import MERTensor

/// A Swift object scripts hold as a userdata (lauxlib's `luaL_checkudata`): the metatable
/// it is registered under and how a complaint describes it.
protocol LuaObject: AnyObject {
    /// The metatable's `__name` ("tensor"), as `type` errors and `help` show it.
    static var luaTypeName: String { get }
    /// What an argument error says was expected ("a run (eval.run)").
    static var expected: String { get }
    /// The object at stack slot `i`, or a complaint naming what was there.
    static func check(_ call: LuaCall, _ i: Int32) throws -> Self
}

extension LuaObject {
    static func check(_ call: LuaCall, _ i: Int32) throws -> Self {
        if let o = call.object(i, as: Self.self) { return o }
        throw call.error(i, "expected \(expected), got \(call.typeName(i))")
    }
}

extension Tensor: LuaObject {
    static var luaTypeName: String { "tensor" }
    static var expected: String { "a tensor" }
}

/// Native modules are userdata; Lua-defined ones are tables with a hidden Swift side.
extension Module: LuaObject {
    static var luaTypeName: String { "module" }
    static var expected: String { "a module" }
    static func check(_ call: LuaCall, _ i: Int32) throws -> Self {
        if let m = call.object(i, typeName: luaTypeName, as: Self.self) ?? (call.luaModule(i) as? Self) { return m }
        throw call.error(i, "expected \(expected), got \(call.typeName(i))")
    }
}

extension LuaCall {
    /// The object of `typeName` at `i`, or nil if the value is something else. The
    /// metatable's identity is compared, so a table posing as an object is never accepted.
    func object<T: AnyObject>(_ i: Int32, typeName: String, as: T.Type) -> T? {
        guard lua_type(L, i) == LUA_TUSERDATA, lua_getmetatable(L, i) != 0 else { return nil }
        let mt = lua_topointer(L, -1)
        mer_pop(L, 1)
        guard mt == vm.metatables[typeName],
              let box = lua_touserdata(L, i)?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self),
              let p = box.pointee else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue() as? T
    }

    func object<T: LuaObject>(_ i: Int32, as type: T.Type) -> T? { object(i, typeName: T.luaTypeName, as: type) }

    /// The checked object at `i` (the type comes from the context: `let t: Tensor = try call.arg(1)`).
    func arg<T: LuaObject>(_ i: Int32) throws -> T { try T.check(self, i) }

    func optArg<T: LuaObject>(_ i: Int32) throws -> T? { isNil(i) ? nil : try T.check(self, i) }

    func tensor(_ i: Int32) throws -> Tensor { try arg(i) }
    func optTensor(_ i: Int32) throws -> Tensor? { try optArg(i) }
    func module(_ i: Int32) throws -> Module { try arg(i) }

    /// The `__name` of a userdata's metatable ("tensor"), for error messages.
    func userdataTypeName(_ i: Int32) -> String? {
        guard lua_type(L, i) == LUA_TUSERDATA, lua_getmetatable(L, i) != 0 else { return nil }
        defer { mer_pop(L, 1) }
        lua_pushstring(L, "__name")
        lua_rawget(L, -2)
        defer { mer_pop(L, 1) }
        return lua_type(L, -1) == LUA_TSTRING ? String(cString: mer_tostring(L, -1, nil)) : nil
    }

    /// The Swift side of the Lua module instance table at `i`, if it is one.
    func luaModule(_ i: Int32) -> LuaModule? {
        guard lua_type(L, i) == LUA_TTABLE else { return nil }
        let idx = lua_absindex(L, i)
        lua_getfield(L, mer_registryindex(), NNRegistry.handles)
        lua_pushvalue(L, idx)
        lua_rawget(L, -2)
        defer { mer_pop(L, 2) }
        return object(-1, typeName: "luamodule", as: LuaModule.self)
    }
}
