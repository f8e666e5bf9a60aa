import CLua
import CLuaBridge
import MERTensor

/// The `tensor` global: creation functions, joins, `no_grad`, file I/O.
extension LuaVM {
    func installTensorModule() {
        func creator(_ key: String, _ doc: String, _ make: @escaping ([Int]) throws -> Tensor) -> Binding {
            .function(key, doc) { call in
                // `{d1, d2}` or `d1, d2`: after a table nothing may follow (it was ignored).
                if call.isTable(1) && call.top > 1 { throw call.error(2, "expected nothing after the shape table, got \(call.typeName(2))") }
                return call.push(try make(try call.shape(1)))
            }
        }
        defineModule("tensor", [
            creator("zeros", "tensor.zeros{d1, d2, ...} or tensor.zeros(d1, d2, ...)\nA tensor of zeros with the given shape.") { try Tensor.zeros($0) },
            creator("ones", "tensor.ones{d1, d2, ...}\nA tensor of ones.") { try Tensor.ones($0) },
            creator("rand", "tensor.rand{d1, ...}\nUniform random numbers in [0, 1) from the global generator (mer.seed).") { try Tensor.rand($0) },
            creator("randn", "tensor.randn{d1, ...}\nStandard normal random numbers from the global generator (mer.seed).") { try Tensor.randn($0) },
            .function("full", arity: 2, "tensor.full({d1, ...}, value)\nA tensor filled with value.") { call in
                call.push(try Tensor.full(try call.shape(1, allowVarargs: false), try call.float(2)))
            },
            .function("arange", arity: 3, """
                tensor.arange(n) | tensor.arange(start, stop [, step])
                1-d tensor of start, start+step, ... below stop (as PyTorch: tensor.arange(3) is 0, 1, 2).
                """) { call in
                if call.isNil(2) { return call.push(try Tensor.arange(0, try call.float(1))) }
                return call.push(try Tensor.arange(try call.float(1), try call.float(2), step: try call.optFloat(3, 1)))
            },
            .function("from", arity: 1, """
                tensor.from(values)
                A tensor from a number or a (nested) table of numbers: tensor.from{{1,2},{3,4}} is 2x2.
                """) { call in call.push(try call.nestedTable(1)) },
            .function("cat", arity: 2, "tensor.cat({a, b, ...}, dim)\nJoins tensors along an existing dimension (default 1).") { call in
                let list = try call.tensorList(1)
                return call.push(try Tensor.cat(list, dim: call.isNil(2) ? 0 : try call.dimension(2, rank: list[0].rank)))
            },
            .function("stack", arity: 2, "tensor.stack({a, b, ...}, dim)\nJoins same-shaped tensors along a new dimension (default 1).") { call in
                let list = try call.tensorList(1)
                return call.push(try Tensor.stack(list, dim: call.isNil(2) ? 0 : try call.dimension(2, rank: list[0].rank, allowInsert: true)))
            },
            .function("no_grad", """
                tensor.no_grad(fn, ...)
                Calls fn(...) with gradient recording off and returns its results (evaluation, optimiser updates).
                """) { call in
                try call.callFunction(1) { run in GradMode.disabled { run() } }
            },
            .function("load", arity: 2, """
                tensor.load(path [, name])
                Reads a .safetensors file: its only tensor, the entry called name, or (for a file of several
                tensors, as safetensors.torch.load_file) a table name → tensor. F16, BF16, F64 and integer
                entries are converted to float32.
                """) { call in
                let path = try call.string(1)
                if !call.isNil(2) { return call.push(try Tensor.load(path: path, name: try call.string(2))) }
                let entries = try SafeTensors.read(path: path)
                if entries.count == 1 { return call.push(entries[0].tensor) }
                lua_createtable(call.L, 0, Int32(entries.count))
                for e in entries {
                    call.push(e.tensor)
                    lua_setfield(call.L, -2, e.name)
                }
                return 1
            },
            .function("save", arity: 3, """
                tensor.save(t, path [, name]) | tensor.save({name = t, ...}, path)
                Writes one tensor (named "tensor" unless name is given) or a table name → tensor to a .safetensors
                file, atomically (a temporary file, then rename); tensor.load and safetensors.torch.load_file read it.
                """) { call in
                let path = try call.string(2)
                if let t = call.object(1, as: Tensor.self) {
                    try t.save(path: path, name: call.isNil(3) ? "tensor" : try call.string(3))
                    return 0
                }
                try call.expectAtMost(2)
                let entries = try call.namedTensors(1)
                if entries.isEmpty { throw call.error(1, "expected a tensor or a non-empty table name → tensor") }
                try SafeTensors.write(entries, to: path)
                return 0
            },
            .function("is_tensor", arity: 1, "tensor.is_tensor(x)\ntrue if x is a tensor.") { call in
                call.push(call.object(1, as: Tensor.self) != nil)
            },
        ])
    }
}
