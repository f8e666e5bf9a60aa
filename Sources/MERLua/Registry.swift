import CLua
import CLuaBridge

/// A binding as the dispatcher finds it: the trampoline's upvalue is its index in `LuaVM.bindings`.
struct RegisteredBinding {
    let name: String
    let isMethod: Bool
    let arity: Int32?
    let body: (LuaCall) throws -> Int32
}

/// One entry of the API reference that `help` and `mer-script doc` show.
struct ReferenceEntry {
    enum Kind { case function, method, field }
    let name: String
    let kind: Kind
    let doc: String
}

extension LuaVM {
    /// Pushes a Lua function running `binding`, named `name` in errors and help.
    func pushBinding(_ binding: Binding, name: String) {
        let id = bindings.count
        bindings.append(RegisteredBinding(name: name, isMethod: binding.isMethod, arity: binding.arity, body: binding.body))
        mer_push_binding(L, Int32(id))
        if let doc = binding.doc {
            registerDoc(at: -1, doc: doc)
            reference.append(ReferenceEntry(name: name, kind: binding.isMethod ? .method : .function, doc: doc))
        }
    }

    /// Stores each binding in the table at `table` under its key, named `<prefix>.<key>`.
    func register(_ list: [Binding], prefix: String, into table: Int32) {
        let t = lua_absindex(L, table)
        for b in list {
            pushBinding(b, name: b.name ?? "\(prefix).\(b.key)")
            lua_setfield(L, t, b.key)
        }
    }

    /// Fills the global table at `path` ("nn.F"; made if missing) with `list`.
    func defineModule(_ path: String, _ list: [Binding]) {
        pushModuleTable(path)
        register(list, prefix: path, into: -1)
        mer_pop(L, 1)
    }

    /// Pushes the global table at a dotted path, creating the missing tables on the way.
    func pushModuleTable(_ path: String) {
        mer_pushglobaltable(L)
        for part in path.split(separator: ".").map(String.init) {
            if lua_getfield(L, -1, part) != LUA_TTABLE {
                mer_pop(L, 1)
                lua_createtable(L, 0, 16)
                lua_pushvalue(L, -1)
                lua_setfield(L, -3, part)
            }
            mer_remove(L, -2)
        }
    }

    /// Records help text for the value at `index` in the registry's docs table, where
    /// `help(f)` finds it by the function value itself.
    func registerDoc(at index: Int32, doc: String) {
        let idx = lua_absindex(L, index)
        lua_getfield(L, mer_registryindex(), "mer.docs")
        lua_pushvalue(L, idx)
        lua_pushstring(L, doc)
        lua_rawset(L, -3)
        mer_pop(L, 1)
    }
}

/// The one entry from the trampoline into Swift. Arity is checked here, for every binding
/// alike; any error becomes a message on the stack and `MER_ERROR`, which the trampoline
/// (a C frame) raises — no longjmp crosses a Swift frame.
let luaDispatch: mer_Dispatcher = { state, id in
    guard let L = state else { return MER_ERROR }
    let vm = LuaVM.from(L)
    let binding = vm.bindings[Int(id)]
    let call = LuaCall(L: L, vm: vm, name: binding.name, isMethod: binding.isMethod)
    let outerState = vm.currentState
    vm.currentState = L
    defer { vm.currentState = outerState }
    do {
        if let n = binding.arity { try call.expectAtMost(binding.isMethod ? n + 1 : n) }
        return try binding.body(call)
    } catch let error as LuaError where error.valueOnStack {
        return MER_ERROR
    } catch let error as LuaError where error.located {
        // The message already starts with the Lua file:line where it was raised.
        lua_pushstring(L, error.message)
        return MER_ERROR
    } catch {
        luaL_where(L, 1)
        lua_pushstring(L, luaMessage(for: error, in: binding.name))
        lua_concat(L, 2)
        return MER_ERROR
    }
}
