import CLua
import CLuaBridge
import MERTensor

/// Swift objects in Lua: a full userdata holding one retained reference, with a metatable
/// per type: `__name`, `__gc`, `__index` = the methods table, then the declared properties
/// and the type's own lookup (`t[i]`), `__newindex` = property setters, then the type's own.
extension LuaVM {
    func defineType<Object: LuaObject>(_ type: Object.Type, prefix: String, methods: [Method<Object>],
                                       properties: [Property<Object>] = [], meta: [Binding] = [],
                                       index: ((LuaCall, Object) throws -> Int32?)? = nil,
                                       newIndex: ((LuaCall, Object) throws -> Bool)? = nil) {
        let typeName = Object.luaTypeName
        typePrefixes[typeName] = prefix
        luaL_newmetatable(L, "mer." + typeName)
        metatables[typeName] = lua_topointer(L, -1)
        lua_pushstring(L, typeName)
        lua_setfield(L, -2, "__name")
        let settable = properties.filter { $0.set != nil }.map(\.key)
        register(meta + [
            .release,
            .meta("__newindex") { call in
                let object = try Object.check(call, 1)
                let key = call.isString(2) ? try call.string(2) : nil
                if let key = key, let p = properties.first(where: { $0.key == key }), let set = p.set {
                    do { try set(call, object) } catch let e as ArgumentError where e.argument == 3 {
                        throw e.within(nil, "field '\(key)'")
                    }
                    return 0
                }
                if try newIndex?(call, object) == true { return 0 }
                let only = settable.isEmpty ? "" : " (only \(settable.joined(separator: ", ")) can be set)"
                throw call.error("cannot set field '\(key ?? call.typeName(2))' of \(Object.expected)\(only)")
            },
        ], prefix: prefix, into: -1)
        for p in properties {
            reference.append(ReferenceEntry(name: "\(prefix).\(p.key)", kind: .field, doc: p.doc))
        }
        lua_createtable(L, 0, Int32(methods.count))
        register(methods.map(\.binding), prefix: prefix, into: -1)
        pushBinding(.meta("__index") { call in
            let object = try Object.check(call, 1)
            if call.isString(2), let p = properties.first(where: { $0.key == (try? call.string(2)) }) {
                return try p.get(call, object)
            }
            return try index?(call, object) ?? call.pushNil()
        }, name: "\(prefix).__index")
        mer_push_indexer(L, -2, -1)
        lua_setfield(L, -4, "__index")
        mer_pop(L, 1)              // the fallback
        lua_setfield(L, -2, "methods") // keep the table reachable for help and completion
        mer_pop(L, 1)
    }

    /// Pushes `object` as a userdata of `typeName` (with `userValues` Lua values attached:
    /// modules keep their script fields and keep-alive list there).
    func pushObject(_ object: AnyObject, typeName: String, userValues: Int32 = 0) {
        let L = activeState
        let box = lua_newuserdatauv(L, MemoryLayout<UnsafeMutableRawPointer?>.size, userValues)!
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

extension Binding {
    /// `__gc` of every userdata type: drops the retained Swift object once.
    static let release = Binding.meta("__gc") { call in
        // A script can reach this function (getmetatable(t).__gc) and hand it any value:
        // only a userdata whose metatable is one of ours holds a Swift object.
        guard lua_type(call.L, 1) == LUA_TUSERDATA, lua_getmetatable(call.L, 1) != 0 else {
            throw call.error("expected a mer-script object, got \(call.typeName(1))")
        }
        let metatable = lua_topointer(call.L, -1)
        mer_pop(call.L, 1)
        guard call.vm.metatables.values.contains(where: { $0 == metatable }) else {
            throw call.error("expected a mer-script object, got \(call.typeName(1))")
        }
        if let box = lua_touserdata(call.L, 1)?.assumingMemoryBound(to: UnsafeMutableRawPointer?.self),
           let p = box.pointee {
            Unmanaged<AnyObject>.fromOpaque(p).release()
            box.pointee = nil
        }
        return 0
    }
}
