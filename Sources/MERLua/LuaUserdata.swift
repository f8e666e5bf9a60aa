import CLua
import CLuaBridge
import MERTensor

/// Swift objects in Lua: a full userdata holding one retained reference, with a metatable
/// per type (`__name`, `__gc`, `__index` = methods table then a field fallback).
extension LuaVM {
    /// Creates the metatable for `typeName` (e.g. "tensor") and leaves it on the stack.
    /// `methods` fills the methods table (on top of the stack when called); `field` answers
    /// `obj.key` for keys that are not methods.
    func defineType(_ typeName: String, methods: () -> Void,
                    field: @escaping (LuaCall) throws -> Int32) {
        luaL_newmetatable(L, "mer." + typeName)
        metatables[typeName] = lua_topointer(L, -1)
        lua_pushstring(L, typeName)
        lua_setfield(L, -2, "__name")
        setFunction("__gc", "\(typeName).__gc") { call in
            if let box = lua_touserdata(call.L, 1)?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self),
               let p = box.pointee {
                Unmanaged<AnyObject>.fromOpaque(p).release()
                box.pointee = nil
            }
            return 0
        }
        lua_createtable(L, 0, 64)
        methods()
        pushFunction("\(typeName).__index", field)
        mer_push_indexer(L, -2, -1)
        lua_setfield(L, -4, "__index")
        mer_pop(L, 1)              // the fallback
        lua_setfield(L, -2, "methods") // keep the table reachable for help and completion
    }

    /// Pushes `object` as a userdata of `typeName`.
    func pushObject(_ object: AnyObject, typeName: String) {
        let L = activeState
        let box = lua_newuserdatauv(L, MemoryLayout<UnsafeMutableRawPointer?>.size, 0)!
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        box.pointee = Unmanaged.passRetained(object).toOpaque()
        luaL_setmetatable(L, "mer." + typeName)
    }

    func pushTensor(_ t: Tensor) {
        pushObject(t, typeName: "tensor")
        noteNativeAllocation(bytes: t.count * 4)
    }

    /// The methods table of a type (for completion and help), pushed on the stack.
    func pushMethods(of typeName: String) {
        let L = activeState
        lua_getfield(L, mer_registryindex(), "mer." + typeName)
        lua_getfield(L, -1, "methods")
        mer_remove(L, -2)
    }
}

extension LuaCall {
    /// The object of `typeName` at `i`, or nil if the value is something else.
    func object<T: AnyObject>(_ i: Int32, typeName: String, as: T.Type) -> T? {
        guard lua_type(L, i) == LUA_TUSERDATA, lua_getmetatable(L, i) != 0 else { return nil }
        let mt = lua_topointer(L, -1)
        mer_pop(L, 1)
        guard mt == vm.metatables[typeName],
              let box = lua_touserdata(L, i)?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self),
              let p = box.pointee else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue() as? T
    }

    /// The `__name` of a userdata's metatable ("tensor"), for error messages.
    func userdataTypeName(_ i: Int32) -> String? {
        guard lua_type(L, i) == LUA_TUSERDATA, lua_getmetatable(L, i) != 0 else { return nil }
        defer { mer_pop(L, 1) }
        lua_pushstring(L, "__name")
        lua_rawget(L, -2)
        defer { mer_pop(L, 1) }
        return lua_type(L, -1) == LUA_TSTRING ? String(cString: mer_tostring(L, -1, nil)) : nil
    }

    func tensor(_ i: Int32) throws -> Tensor {
        if let t = object(i, typeName: "tensor", as: Tensor.self) { return t }
        throw error(i, "expected a tensor, got \(typeName(i))")
    }

    func optTensor(_ i: Int32) throws -> Tensor? { isNil(i) ? nil : try tensor(i) }

    func push(_ t: Tensor) { vm.pushTensor(t) }
}
