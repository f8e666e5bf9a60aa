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
        defineType(Module.self, prefix: "nn.Module", methods: moduleMethods(), meta: [
            .meta("__call", name: "nn.Module.forward", method: true) { call in try call.pushForward(try call.module(1), from: 2) },
            .meta("__tostring") { call in call.push(try call.module(1).description) },
            .meta("__len") { call in call.push(try call.module(1).children.count) },
        ], index: { call, m in try call.moduleField(m) }, newIndex: { call, m in
            try call.setModuleField(m)
            return true
        })

        // The hidden owner of a Lua module's Swift object (never handed to scripts): only __gc.
        luaL_newmetatable(L, "mer.luamodule")
        metatables["luamodule"] = lua_topointer(L, -1)
        register([.release], prefix: "luamodule", into: -1)
        mer_pop(L, 1)
    }

    /// Methods shared by native module userdata and (through `nn.Module`) Lua-defined modules.
    func moduleMethods() -> [Method<Module>] {
        func chaining(_ key: String, arity: Int32, _ doc: String, _ body: @escaping (LuaCall, Module) throws -> Void) -> Method<Module> {
            Method(key, arity: arity, doc) { call, m in
                try body(call, m)
                return call.pushArgument(1)
            }
        }
        return [
            Method("forward", "m:forward(x, ...)\nRuns the module on one or more tensors (m(x) is the same).") { call, m in
                if m is LuaModule {
                    throw call.error("\(m.typeName): forward is not defined (define function \(m.typeName):forward(x) ... end)")
                }
                return try call.pushForward(m, from: 2)
            },
            Method("save", arity: 1, """
                m:save(path)
                Writes the state dict (parameters and buffers, PyTorch's dotted names) to a .safetensors
                file atomically (a temporary file, then rename); PyTorch loads it with safetensors.torch.load_file.
                """) { call, m in
                try m.save(path: try call.string(2))
                return 0
            },
            Method("load", arity: 2, """
                m:load(path [, {strict=true}])
                Loads a .safetensors state dict by name (F16/BF16/F64/I64 entries convert to float32). Strict: every
                missing or unexpected name and every shape mismatch is reported in one error, and nothing changes;
                num_batches_tracked counters absent from the file (files converted for sharing) start at 0, as in
                PyTorch. Returns m, and the missing and unexpected names (with strict=false they are skipped).
                """) { call, m in
                let strict = try call.option(3, "strict", Read.boolean) ?? true
                let report = try m.load(path: try call.string(2), strict: strict)
                return call.pushArgument(1) + call.pushStrings(report.missing) + call.pushStrings(report.unexpected)
            },
            Method("parameters", arity: 0, "m:parameters()\nThe trainable tensors of the whole tree, as an array (shared tensors once).") { call, m in
                call.pushTensors(m.parameters())
            },
            Method("named_parameters", arity: 0, """
                m:named_parameters()
                A table dotted name → parameter ("0.weight", "body.conv.bias"), and an array of the names in order.
                """) { call, m in call.pushNamedTensors(m.namedParameters()) },
            Method("named_buffers", arity: 0, """
                m:named_buffers()
                A table dotted name → buffer ("1.running_mean"), and an array of the names in order.
                """) { call, m in call.pushNamedTensors(m.namedBuffers()) },
            Method("state_dict", arity: 0, """
                m:state_dict()
                A table dotted name → tensor of every parameter and buffer (PyTorch's names; the tensors
                share storage with the module, detached). Only the table is returned, so
                b:load_state_dict(a:state_dict()) works; m:state_dict_keys() gives the names in order.
                """) { call, m in
                call.pushNamedTensors(m.stateDict().map { ($0.name, $0.tensor.detach()) })
                mer_pop(call.L, 1)
                return 1
            },
            Method("state_dict_keys", arity: 0, "m:state_dict_keys()\nThe names of m:state_dict() in PyTorch's order (parameters, then buffers, then each child's).") { call, m in
                call.pushStrings(m.stateDict().map(\.name))
            },
            Method("load_state_dict", arity: 2, """
                m:load_state_dict(sd [, {strict=true}])
                Copies the tensors of sd (name → tensor) into the module's parameters and buffers, which
                keep their identity. Strict: every name must match and shapes agree, else nothing is
                changed and the error lists every problem. Returns the missing and unexpected names.
                """) { call, m in
                let entries = try call.namedTensors(2)
                let report = try m.loadStateDict(entries, strict: try call.option(3, "strict", Read.boolean) ?? true)
                return call.pushStrings(report.missing) + call.pushStrings(report.unexpected)
            },
            chaining("train", arity: 1, "m:train([on=true])\nTraining mode (batch statistics, dropout on) for the whole tree. Returns m.") { call, m in
                m.train(try call.optBoolean(2, true))
            },
            chaining("eval", arity: 0, "m:eval()\nEvaluation mode (running statistics, no dropout) for the whole tree. Returns m.") { _, m in m.eval() },
            Method("num_parameters", arity: 0, "m:num_parameters()\nNumber of scalar parameters in the tree.") { call, m in call.push(m.parameterCount) },
            Method("children", arity: 0, "m:children()\nThe direct submodules as an array, and an array of their names.") { call, m in
                let children = m.children
                return call.pushList(children) { call.pushModule($0.module) } + call.pushStrings(children.map(\.name))
            },
            chaining("zero_grad", arity: 0, "m:zero_grad()\nClears the .grad of every parameter. Returns m.") { _, m in
                for p in m.parameters() { p.grad = nil }
            },
            Method("add", "m:add(module, ...)\nAppends modules to an nn.Sequential (named \"0\", \"1\", ...). Returns m.") { call, m in
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
            },
        ]
    }
}

extension LuaCall {
    /// Pushes the one Lua value of `m` (its userdata, made on first use, or its Lua table).
    @discardableResult func pushModule(_ m: Module) -> Int32 {
        let key = Unmanaged.passUnretained(m).toOpaque()
        lua_getfield(L, mer_registryindex(), NNRegistry.objects)
        lua_pushlightuserdata(L, key)
        lua_rawget(L, -2)
        if m is LuaModule {
            // The table is alive whenever something can reach the module (see keepAlive);
            // nil only if a script dropped every reference while Swift kept the module.
            mer_remove(L, -2)
            return 1
        }
        if object(-1, as: Module.self) === m {
            mer_remove(L, -2)
            return 1
        }
        mer_pop(L, 1)
        vm.pushObject(m, typeName: Module.luaTypeName, userValues: 2)
        lua_pushlightuserdata(L, key)
        lua_pushvalue(L, -2)
        lua_rawset(L, -4)
        mer_remove(L, -2)
        return 1
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
    func moduleField(_ m: Module) throws -> Int32 {
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
    func setModuleField(_ m: Module) throws {
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
}
