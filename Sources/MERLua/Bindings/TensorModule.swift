import CLua
import CLuaBridge
import MERTensor

/// The `tensor` global: creation functions, joins, `no_grad`, file I/O.
extension LuaVM {
    func installTensorModule() {
        lua_createtable(L, 0, 32)

        func creator(_ key: String, doc: String, _ make: @escaping ([Int], LuaCall) throws -> Tensor) {
            setFunction(key, "tensor.\(key)", doc: doc) { call in
                let shape = try call.shape(1)
                call.push(try make(shape, call))
                return 1
            }
        }
        creator("zeros", doc: "tensor.zeros{d1, d2, ...} or tensor.zeros(d1, d2, ...)\nA tensor of zeros with the given shape.") { s, _ in try Tensor.zeros(s) }
        creator("ones", doc: "tensor.ones{d1, d2, ...}\nA tensor of ones.") { s, _ in try Tensor.ones(s) }
        creator("rand", doc: "tensor.rand{d1, ...}\nUniform random numbers in [0, 1) from the global generator (mer.seed).") { s, _ in try Tensor.rand(s) }
        creator("randn", doc: "tensor.randn{d1, ...}\nStandard normal random numbers from the global generator (mer.seed).") { s, _ in try Tensor.randn(s) }

        setFunction("full", "tensor.full", doc: "tensor.full({d1, ...}, value)\nA tensor filled with value.") { call in
            try call.expectAtMost(2)
            let shape = try call.shape(1, allowVarargs: false)
            call.push(try Tensor.full(shape, try call.float(2)))
            return 1
        }

        setFunction("arange", "tensor.arange", doc: """
            tensor.arange(n) | tensor.arange(start, stop [, step])
            1-d tensor of start, start+step, ... below stop (as PyTorch: tensor.arange(3) is 0, 1, 2).
            """) { call in
            try call.expectAtMost(3)
            let t: Tensor
            if call.isNil(2) {
                t = try Tensor.arange(0, try call.float(1))
            } else {
                t = try Tensor.arange(try call.float(1), try call.float(2), step: try call.optFloat(3, 1))
            }
            call.push(t)
            return 1
        }

        setFunction("from", "tensor.from", doc: """
            tensor.from(values)
            A tensor from a number or a (nested) table of numbers: tensor.from{{1,2},{3,4}} is 2x2.
            """) { call in
            try call.expectAtMost(1)
            call.push(try call.nestedTable(1))
            return 1
        }

        setFunction("cat", "tensor.cat", doc: "tensor.cat({a, b, ...}, dim)\nJoins tensors along an existing dimension (default 1).") { call in
            try call.expectAtMost(2)
            let list = try call.tensorList(1)
            let d = call.isNil(2) ? 0 : try call.dimension(2, rank: list[0].rank)
            call.push(try Tensor.cat(list, dim: d))
            return 1
        }

        setFunction("stack", "tensor.stack", doc: "tensor.stack({a, b, ...}, dim)\nJoins same-shaped tensors along a new dimension (default 1).") { call in
            try call.expectAtMost(2)
            let list = try call.tensorList(1)
            let d = call.isNil(2) ? 0 : try call.dimension(2, rank: list[0].rank, allowInsert: true)
            call.push(try Tensor.stack(list, dim: d))
            return 1
        }

        setFunction("no_grad", "tensor.no_grad", doc: """
            tensor.no_grad(fn, ...)
            Calls fn(...) with gradient recording off and returns its results (evaluation, optimiser updates).
            """) { call in
            try call.function(1)
            let args = call.top - 1
            let base = call.top - args - 1
            let status = GradMode.disabled { mer_pcall(call.L, args, LUA_MULTRET, 0) }
            if status != LUA_OK { throw LuaError(propagatingValueOnStack: "no_grad") }
            return call.top - base
        }

        setFunction("load", "tensor.load", doc: """
            tensor.load(path [, name])
            Reads a tensor from a .safetensors file (the only one, or the entry called name).
            F16, BF16, F64 and integer entries are converted to float32.
            """) { call in
            try call.expectAtMost(2)
            call.push(try Tensor.load(path: try call.string(1), name: call.isNil(2) ? nil : try call.string(2)))
            return 1
        }

        setFunction("is_tensor", "tensor.is_tensor", doc: "tensor.is_tensor(x)\ntrue if x is a tensor.") { call in
            call.push(call.object(1, typeName: "tensor", as: Tensor.self) != nil)
            return 1
        }

        lua_setglobal(L, "tensor")
    }
}

extension LuaCall {
    /// A shape: `{2, 3}`, or `2, 3` as separate arguments; sizes must be non-negative.
    func shape(_ i: Int32, allowVarargs: Bool = true) throws -> [Int] {
        if isNil(i) { throw error(i, "expected a table of non-negative integers (the shape), got \(typeName(i))") }
        return try integerList(i, what: "a table of non-negative integers (the shape)", allowVarargs: allowVarargs, minimum: 0)
    }

    /// A list of tensors given as a table.
    func tensorList(_ i: Int32) throws -> [Tensor] {
        guard isTable(i) else { throw error(i, "expected a table of tensors, got \(typeName(i))") }
        let n = Int(lua_rawlen(L, i))
        if n == 0 { throw error(i, "expected a non-empty table of tensors") }
        var list: [Tensor] = []
        for k in 1...n {
            lua_rawgeti(L, i, lua_Integer(k))
            defer { mer_pop(L, 1) }
            guard let t = object(-1, typeName: "tensor", as: Tensor.self) else {
                throw error(i, "expected a table of tensors, element \(k) is \(typeName(-1))")
            }
            list.append(t)
        }
        return list
    }

    /// A tensor from a number or nested tables of numbers; rows must agree in length.
    func nestedTable(_ i: Int32) throws -> Tensor {
        if isNumber(i) { return Tensor.scalar(try float(i)) }
        guard isTable(i) else { throw error(i, "expected a number or a table of numbers, got \(typeName(i))") }
        var shape: [Int] = []
        // The shape is read down the first elements, then every element is checked against it.
        lua_pushvalue(L, i)
        var depth = 0
        while lua_type(L, -1) == LUA_TTABLE {
            let n = Int(lua_rawlen(L, -1))
            shape.append(n)
            if n == 0 { break }
            lua_rawgeti(L, -1, 1)
            depth += 1
        }
        mer_pop(L, Int32(depth + 1))
        var values: [Float] = []
        values.reserveCapacity(shape.reduce(1, *))
        func walk(_ index: Int32, _ level: Int, _ path: String) throws {
            if level == shape.count {
                guard lua_type(L, index) == LUA_TNUMBER else {
                    throw error(i, "element \(path) is \(typeName(index)), expected a number")
                }
                values.append(Float(lua_tonumberx(L, index, nil)))
                return
            }
            guard lua_type(L, index) == LUA_TTABLE else {
                throw error(i, "element \(path) is \(typeName(index)), expected a table of \(shape[level]) elements")
            }
            let n = Int(lua_rawlen(L, index))
            guard n == shape[level] else {
                throw error(i, "rows have different lengths: element \(path) has \(n) elements, expected \(shape[level])")
            }
            for k in 0..<n {
                lua_rawgeti(L, index, lua_Integer(k + 1))
                defer { mer_pop(L, 1) }
                try walk(lua_gettop(L), level + 1, path.isEmpty ? "[\(k + 1)]" : "\(path)[\(k + 1)]")
            }
        }
        try walk(lua_absindex(L, i), 0, "")
        return try Tensor.from(values, shape: shape)
    }
}
