import CLua
import CLuaBridge
import MERNN
import MERTensor

/// Registry keys of the `nn` bindings.
enum NNRegistry {
    /// Weak-valued: lightuserdata(object pointer) → the Lua value standing for a Swift
    /// module (its `module` userdata, or the instance table of a Lua-defined module), so
    /// pushing the same module twice gives the same Lua value.
    static let objects = "mer.nn.objects"
    /// Weak-keyed (an ephemeron table): Lua module instance table → the userdata holding
    /// its `LuaModule`. The table owns the Swift object through it.
    static let handles = "mer.nn.handles"
    /// `function(self, ...) return self:forward(...) end`, for Swift calling Lua forwards.
    static let invoke = "mer.nn.invoke"
}

/// The `module` userdata type: any `MERNN.Module` seen from Lua.
///
/// A module userdata has two user values: 1, a table of fields scripts set on it
/// (`conv.tag = "stem"`), and 2, a keep-alive list of the Lua values of the modules it was
/// built from (`nn.Sequential{...}`, `m:add(...)`), so Lua-defined children — whose Swift
/// side holds its Lua table only weakly — live as long as the container is reachable.
extension LuaVM {
    func installModuleType() {
        for (key, mode) in [(NNRegistry.objects, "v"), (NNRegistry.handles, "k")] {
            lua_createtable(L, 0, 0)
            lua_createtable(L, 0, 1)
            lua_pushstring(L, mode)
            lua_setfield(L, -2, "__mode")
            lua_setmetatable(L, -2)
            lua_setfield(L, mer_registryindex(), key)
        }

        defineType("module", methods: { self.installModuleMethods() }, field: { call in try call.moduleField() })
        setFunction("__newindex", "nn.Module.__newindex") { call in
            try call.setModuleField()
            return 0
        }
        setFunction("__call", "nn.Module.forward", method: true) { call in
            try call.pushForward(try call.module(1), from: 2)
        }
        setFunction("__tostring", "nn.Module.__tostring") { call in
            call.push(try call.module(1).description)
            return 1
        }
        setFunction("__len", "nn.Module.__len") { call in
            call.push(try call.module(1).children.count)
            return 1
        }
        mer_pop(L, 1)

        // The hidden owner of a Lua module's Swift object (never handed to scripts).
        defineType("luamodule", methods: {}, field: { call in call.pushNil(); return 1 })
        mer_pop(L, 1)
    }

    /// Methods shared by native module userdata and (through `nn.Module`) Lua-defined modules.
    func installModuleMethods() {
        func method(_ key: String, _ doc: String, _ body: @escaping (LuaCall, Module) throws -> Int32) {
            setFunction(key, "nn.Module.\(key)", doc: doc, method: true) { call in
                try body(call, try call.module(1))
            }
        }
        method("forward", "m:forward(x, ...)\nRuns the module on one or more tensors (m(x) is the same).") { call, m in
            if m is LuaModule {
                throw call.error("\(m.typeName): forward is not defined (define function \(m.typeName):forward(x) ... end)")
            }
            return try call.pushForward(m, from: 2)
        }
        method("save", """
            m:save(path)
            Writes the state dict (parameters and buffers, PyTorch's dotted names) to a .safetensors
            file atomically (a temporary file, then rename); PyTorch loads it with safetensors.torch.load_file.
            """) { call, m in
            try call.expectAtMost(2)
            try m.save(path: try call.string(2))
            return 0
        }
        method("load", """
            m:load(path [, {strict=true}])
            Loads a .safetensors state dict by name (F16/BF16/F64/I64 entries convert to float32). Every
            missing or unexpected name and every shape mismatch is reported in one error; nothing changes then.
            """) { call, m in
            try call.expectAtMost(3)
            let o = try call.options(3, allowed: ["strict"])
            try m.load(path: try call.string(2), strict: try o?.boolean("strict") ?? true)
            lua_pushvalue(call.L, 1)
            return 1
        }
        method("parameters", "m:parameters()\nThe trainable tensors of the whole tree, as an array (shared tensors once).") { call, m in
            try call.expectAtMost(1)
            call.pushTensorArray(m.parameters())
            return 1
        }
        method("named_parameters", """
            m:named_parameters()
            A table dotted name → parameter ("0.weight", "body.conv.bias"), and an array of the names in order.
            """) { call, m in
            try call.expectAtMost(1)
            call.pushNamedTensors(m.namedParameters())
            return 2
        }
        method("named_buffers", """
            m:named_buffers()
            A table dotted name → buffer ("1.running_mean"), and an array of the names in order.
            """) { call, m in
            try call.expectAtMost(1)
            call.pushNamedTensors(m.namedBuffers())
            return 2
        }
        method("state_dict", """
            m:state_dict()
            A table dotted name → tensor of every parameter and buffer (PyTorch's names; the tensors
            share storage with the module, detached). Only the table is returned, so
            b:load_state_dict(a:state_dict()) works; m:state_dict_keys() gives the names in order.
            """) { call, m in
            try call.expectAtMost(1)
            call.pushNamedTensors(m.stateDict().map { ($0.name, $0.tensor.detach()) })
            mer_pop(call.L, 1)
            return 1
        }
        method("state_dict_keys", "m:state_dict_keys()\nThe names of m:state_dict() in PyTorch's order (parameters, then buffers, then each child's).") { call, m in
            try call.expectAtMost(1)
            call.pushStrings(m.stateDict().map { $0.name })
            return 1
        }
        method("load_state_dict", """
            m:load_state_dict(sd [, {strict=true}])
            Copies the tensors of sd (name → tensor) into the module's parameters and buffers, which
            keep their identity. Strict: every name must match and shapes agree, else nothing is
            changed and the error lists every problem. Returns the missing and unexpected names.
            """) { call, m in
            try call.expectAtMost(3)
            let entries = try call.namedTensors(2)
            let strict = try call.options(3, allowed: ["strict"])?.boolean("strict") ?? true
            try m.loadStateDict(entries, strict: strict)
            let mine = Set(m.stateDict().map { $0.name })
            let given = Set(entries.map { $0.name })
            call.pushStrings(m.stateDict().map { $0.name }.filter { !given.contains($0) })
            call.pushStrings(entries.map { $0.name }.filter { !mine.contains($0) }.sorted())
            return 2
        }
        method("train", "m:train([on=true])\nTraining mode (batch statistics, dropout on) for the whole tree. Returns m.") { call, m in
            try call.expectAtMost(2)
            m.train(call.isNil(2) ? true : try call.boolean(2))
            lua_pushvalue(call.L, 1)
            return 1
        }
        method("eval", "m:eval()\nEvaluation mode (running statistics, no dropout) for the whole tree. Returns m.") { call, m in
            try call.expectAtMost(1)
            m.eval()
            lua_pushvalue(call.L, 1)
            return 1
        }
        method("num_parameters", "m:num_parameters()\nNumber of scalar parameters in the tree.") { call, m in
            try call.expectAtMost(1)
            call.push(m.parameterCount)
            return 1
        }
        method("children", "m:children()\nThe direct submodules as an array, and an array of their names.") { call, m in
            try call.expectAtMost(1)
            let children = m.children
            lua_createtable(call.L, Int32(children.count), 0)
            for (k, c) in children.enumerated() {
                call.pushModule(c.module)
                lua_rawseti(call.L, -2, lua_Integer(k + 1))
            }
            call.pushStrings(children.map { $0.name })
            return 2
        }
        method("zero_grad", "m:zero_grad()\nClears the .grad of every parameter. Returns m.") { call, m in
            try call.expectAtMost(1)
            for p in m.parameters() { p.grad = nil }
            lua_pushvalue(call.L, 1)
            return 1
        }
        method("add", "m:add(module, ...)\nAppends modules to an nn.Sequential (named \"0\", \"1\", ...). Returns m.") { call, m in
            guard let seq = m as? Sequential else { throw call.error("only an nn.Sequential can add modules, this is a \(m.typeName)") }
            guard call.top >= 2 else { throw call.error(2, "expected a module, got no value") }
            for i in 2...call.top {
                let child = try call.module(i)
                try call.checkNoCycle(adding: child, to: seq, argument: i)
                seq.append(child)
                call.keepAlive(container: 1, value: i)
            }
            lua_settop(call.L, 1)
            return 1
        }
    }
}

extension LuaCall {
    /// The module at `i`: a native module userdata or a Lua-defined module instance.
    func module(_ i: Int32) throws -> Module {
        if let m = object(i, typeName: "module", as: Module.self) { return m }
        if let m = luaModule(i) { return m }
        throw error(i, "expected a module, got \(typeName(i))")
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

    /// Pushes the one Lua value of `m` (its userdata, made on first use, or its Lua table).
    func pushModule(_ m: Module) {
        let key = Unmanaged.passUnretained(m).toOpaque()
        lua_getfield(L, mer_registryindex(), NNRegistry.objects)
        lua_pushlightuserdata(L, key)
        lua_rawget(L, -2)
        if m is LuaModule {
            // The table is alive whenever something can reach the module (see keepAlive);
            // nil only if a script dropped every reference while Swift kept the module.
            mer_remove(L, -2)
            return
        }
        if object(-1, typeName: "module", as: Module.self) === m {
            mer_remove(L, -2)
            return
        }
        mer_pop(L, 1)
        let box = lua_newuserdatauv(L, MemoryLayout<UnsafeMutableRawPointer?>.size, 2)!
            .assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        box.pointee = Unmanaged.passRetained(m).toOpaque()
        luaL_setmetatable(L, "mer.module")
        lua_pushlightuserdata(L, key)
        lua_pushvalue(L, -2)
        lua_rawset(L, -4)
        mer_remove(L, -2)
    }

    /// Records the Lua value at `value` in the keep-alive list of the module userdata at `container`.
    func keepAlive(container: Int32, value: Int32) {
        guard lua_type(L, container) == LUA_TUSERDATA else { return }
        let c = lua_absindex(L, container), v = lua_absindex(L, value)
        if lua_getiuservalue(L, c, 2) != LUA_TTABLE {
            mer_pop(L, 1)
            lua_createtable(L, 4, 0)
            lua_pushvalue(L, -1)
            lua_setiuservalue(L, c, 2)
        }
        lua_pushvalue(L, v)
        lua_rawseti(L, -2, lua_Integer(lua_rawlen(L, -2) + 1))
        mer_pop(L, 1)
    }

    /// Refuses to make a module contain itself (traversals would never end).
    func checkNoCycle(adding child: Module, to parent: Module, argument i: Int32) throws {
        if child.namedModules().contains(where: { $0.module === parent }) {
            throw error(i, "a \(child.typeName) that contains this \(parent.typeName) cannot become its child (modules must form a tree)")
        }
    }

    /// Runs `m` on the tensors from stack slot `first` to the top and pushes the result.
    func pushForward(_ m: Module, from first: Int32) throws -> Int32 {
        guard top >= first else { throw error(first, "expected a tensor, got no value") }
        var inputs: [Tensor] = []
        for i in first...top { inputs.append(try tensor(i)) }
        do {
            push(try m.forward(inputs))
        } catch let e as LuaError {
            throw e
        } catch {
            throw LuaError("nn.\(m.typeName): \(error)")
        }
        return 1
    }

    /// `m.key`: an own parameter, buffer or child by name, `m[i]` the i-th child, `m.training`,
    /// then fields a script set on the userdata.
    func moduleField() throws -> Int32 {
        let m = try module(1)
        if isNumber(2) {
            var isInt: Int32 = 0
            let k = Int(lua_tointegerx(L, 2, &isInt))
            let children = m.children
            if isInt != 0 && k >= 1 && k <= children.count { pushModule(children[k - 1].module) } else { pushNil() }
            return 1
        }
        guard lua_type(L, 2) == LUA_TSTRING else { pushNil(); return 1 }
        let key = String(cString: mer_tostring(L, 2, nil))
        if let p = m.ownParameters.first(where: { $0.name == key }) { push(p.tensor); return 1 }
        if let b = m.ownBuffers.first(where: { $0.name == key }) { push(b.tensor); return 1 }
        if let c = m.children.first(where: { $0.name == key }) { pushModule(c.module); return 1 }
        if key == "training" { push(m.isTraining); return 1 }
        if lua_getiuservalue(L, 1, 1) == LUA_TTABLE {
            lua_pushvalue(L, 2)
            lua_rawget(L, -2)
            mer_remove(L, -2)
        }
        return 1
    }

    /// `m.key = v` on a native module: script fields are kept with the userdata; the module's
    /// own parameters, buffers and children cannot be replaced this way.
    func setModuleField() throws {
        let m = try module(1)
        guard lua_type(L, 2) == LUA_TSTRING else {
            throw error("fields of a \(m.typeName) are named by strings, got \(typeName(2)) (children are read with m[i])")
        }
        let key = String(cString: mer_tostring(L, 2, nil))
        if m.ownParameters.contains(where: { $0.name == key }) || m.ownBuffers.contains(where: { $0.name == key })
            || m.children.contains(where: { $0.name == key }) {
            throw error("cannot replace '\(key)' of a \(m.typeName) (copy values in with \(key):copy_(t) or m:load_state_dict)")
        }
        if key == "training" { throw error("set training mode with m:train() or m:eval()") }
        if lua_getiuservalue(L, 1, 1) != LUA_TTABLE {
            mer_pop(L, 1)
            lua_createtable(L, 0, 4)
            lua_pushvalue(L, -1)
            lua_setiuservalue(L, 1, 1)
        }
        lua_pushvalue(L, 2)
        lua_pushvalue(L, 3)
        lua_rawset(L, -3)
        mer_pop(L, 1)
    }

    func pushTensorArray(_ list: [Tensor]) {
        lua_createtable(L, Int32(list.count), 0)
        for (k, t) in list.enumerated() {
            push(t)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    func pushStrings(_ list: [String]) {
        lua_createtable(L, Int32(list.count), 0)
        for (k, s) in list.enumerated() {
            lua_pushstring(L, s)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
    }

    /// Pushes a table name → tensor and an array of the names in order.
    func pushNamedTensors(_ list: [(name: String, tensor: Tensor)]) {
        lua_createtable(L, 0, Int32(list.count))
        for (name, t) in list {
            push(t)
            lua_setfield(L, -2, name)
        }
        pushStrings(list.map { $0.name })
    }

    /// A table name → tensor (a state dict), read raw.
    func namedTensors(_ i: Int32) throws -> [(name: String, tensor: Tensor)] {
        guard isTable(i) else { throw error(i, "expected a table of name → tensor (a state dict), got \(typeName(i))") }
        let t = lua_absindex(L, i)
        var out: [(String, Tensor)] = []
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            guard lua_type(L, -2) == LUA_TSTRING else {
                let k = typeName(-2)
                mer_pop(L, 2)
                throw error(i, "expected a table of name → tensor, got a \(k) key")
            }
            let name = String(cString: mer_tostring(L, -2, nil))
            guard let v = object(-1, typeName: "tensor", as: Tensor.self) else {
                let k = typeName(-1)
                mer_pop(L, 2)
                throw error(i, "entry '\(name)' is \(k), expected a tensor")
            }
            out.append((name, v))
            mer_pop(L, 1)
        }
        return out.sorted { $0.0 < $1.0 }
    }
}
