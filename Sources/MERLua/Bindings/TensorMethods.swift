import CLua
import CLuaBridge
import MERKernels
import MERTensor

/// Methods and metamethods of tensor userdata. Dimensions and indices are 1-based, as
/// everywhere a script sees them; negative ones count from the end (-1 is the last).
extension LuaVM {
    func installTensorType() {
        defineType("tensor", methods: { self.installTensorMethods() }, field: { call in
            let t = try call.tensor(1)
            if lua_type(call.L, 2) == LUA_TNUMBER {
                return try call.pushIndexed(t, 2)
            }
            let key = lua_type(call.L, 2) == LUA_TSTRING ? String(cString: mer_tostring(call.L, 2, nil)) : ""
            switch key {
            case "grad":
                if let g = t.grad { call.push(g) } else { call.pushNil() }
                return 1
            default:
                call.pushNil()
                return 1
            }
        })
        setFunction("__newindex", "tensor.__newindex") { call in
            let t = try call.tensor(1)
            if lua_type(call.L, 2) == LUA_TNUMBER {
                try call.assignIndexed(t, 2, 3)
                return 0
            }
            let key = lua_type(call.L, 2) == LUA_TSTRING ? String(cString: mer_tostring(call.L, 2, nil)) : call.typeName(2)
            guard key == "grad" else { throw call.error("cannot set field '\(key)' of a tensor (only grad and integer indices can be assigned)") }
            if call.isNil(3) { t.grad = nil; return 0 }
            let g = try call.tensor(3)
            guard g.shape == t.shape else { throw call.error("grad must have the tensor's shape \(t.shape), got \(g.shape)") }
            t.grad = g
            return 0
        }
        setFunction("__tostring", "tensor.__tostring") { call in
            call.push(TensorFormatter.format(try call.tensor(1)))
            return 1
        }
        setFunction("__len", "tensor.__len") { call in
            let t = try call.tensor(1)
            guard t.rank > 0 else { throw call.error("# of a 0-d tensor (use t:item())") }
            call.push(t.shape[0])
            return 1
        }
        setFunction("__concat", "tensor.__concat") { call in
            var parts: [String] = []
            for i: Int32 in 1...2 {
                if let t = call.object(i, typeName: "tensor", as: Tensor.self) { parts.append(TensorFormatter.format(t)) }
                else if lua_type(call.L, i) == LUA_TSTRING || lua_type(call.L, i) == LUA_TNUMBER { parts.append(String(cString: mer_tostring(call.L, i, nil))) }
                else { throw call.error("cannot concatenate a \(call.typeName(i))") }
            }
            call.push(parts.joined())
            return 1
        }
        func arith(_ meta: String, _ name: String, _ op: @escaping (Tensor, Tensor) throws -> Tensor,
                   _ scalarRight: @escaping (Tensor, Float) -> Tensor, _ scalarLeft: @escaping (Float, Tensor) throws -> Tensor) {
            setFunction(meta, "tensor.\(name)") { call in
                call.push(try call.binary(op, scalarRight, scalarLeft))
                return 1
            }
        }
        arith("__add", "add", { try $0 + $1 }, { $0 + $1 }, { $0 + $1 })
        arith("__sub", "sub", { try $0 - $1 }, { $0 - $1 }, { $0 - $1 })
        arith("__mul", "mul", { try $0 * $1 }, { $0 * $1 }, { $0 * $1 })
        arith("__div", "div", { try $0 / $1 }, { $0 / $1 }, { $0 / $1 })
        arith("__pow", "pow", { try $0.pow($1) }, { $0.pow($1) }, { s, t in try Tensor.full(t.shape, s).pow(t) })
        setFunction("__unm", "tensor.neg") { call in
            call.push(try call.tensor(1).neg())
            return 1
        }
        mer_pop(L, 1) // the metatable
    }

    func installTensorMethods() {
        func method(_ key: String, _ doc: String, _ body: @escaping (LuaCall, Tensor) throws -> Int32) {
            setFunction(key, "tensor.\(key)", doc: doc, method: true) { call in
                try body(call, try call.tensor(1))
            }
        }
        func unary(_ key: String, _ doc: String, _ f: @escaping (Tensor) throws -> Tensor) {
            method(key, "t:\(key)()\n\(doc)") { call, t in
                try call.expectAtMost(1)
                call.push(try f(t))
                return 1
            }
        }

        // MARK: Facts
        method("shape", "t:shape()\nThe sizes as a table {d1, d2, ...}.") { call, t in call.pushIntegers(t.shape); return 1 }
        method("size", "t:size([d])\nSize of dimension d, or the shape table without d.") { call, t in
            if call.isNil(2) { call.pushIntegers(t.shape); return 1 }
            call.push(t.shape[try call.dimension(2, rank: t.rank)])
            return 1
        }
        method("dim", "t:dim()\nNumber of dimensions.") { call, t in call.push(t.rank); return 1 }
        method("numel", "t:numel()\nNumber of elements.") { call, t in call.push(t.count); return 1 }
        method("item", "t:item()\nThe value of a one-element tensor, as a number.") { call, t in call.push(try t.item()); return 1 }
        method("totable", "t:totable()\nThe values as nested Lua tables (a number for a 0-d tensor).") { call, t in
            call.pushNested(t)
            return 1
        }
        method("is_contiguous", "t:is_contiguous()\nWhether the elements are laid out densely in row-major order.") { call, t in
            call.push(t.isContiguous); return 1
        }

        // MARK: Views
        method("reshape", "t:reshape{d1, ...}\nSame elements in a new shape (one size may be -1); a view when possible.") { call, t in
            call.push(try t.reshape(try call.integerList(2, what: "a table of integers (the new shape)")))
            return 1
        }
        method("view", "t:view{d1, ...}\nLike reshape, but the tensor must be contiguous (never copies).") { call, t in
            call.push(try t.view(try call.integerList(2, what: "a table of integers (the new shape)")))
            return 1
        }
        method("permute", "t:permute{p1, ...}\nReorders dimensions: result dimension k is input dimension p_k.") { call, t in
            let order = try call.integerList(2, what: "a table of dimensions")
            guard order.count == t.rank else { throw call.error(2, "expected \(t.rank) dimensions, got \(order.count)") }
            call.push(try t.permute(try order.map { d in
                guard (1...t.rank).contains(d) || (d < 0 && -d <= t.rank) else {
                    throw call.error(2, "dimension \(d) out of range 1..\(t.rank)")
                }
                return d > 0 ? d - 1 : t.rank + d
            }))
            return 1
        }
        method("transpose", "t:transpose(a, b)\nSwaps dimensions a and b (a view).") { call, t in
            try call.expectAtMost(3)
            call.push(try t.transpose(try call.dimension(2, rank: t.rank), try call.dimension(3, rank: t.rank)))
            return 1
        }
        method("narrow", "t:narrow(d, i, n)\nn slices of dimension d starting at index i (1-based); a view.") { call, t in
            try call.expectAtMost(4)
            let d = try call.dimension(2, rank: t.rank)
            let i = try call.index(3, size: t.shape[d], what: "start index")
            let n = try call.integer(4)
            guard n >= 0 && i + n <= t.shape[d] else {
                throw call.error(4, "length \(n) from index \(i + 1) runs past the end of dimension \(d + 1) (size \(t.shape[d]))")
            }
            call.push(try t.narrow(d, i, n))
            return 1
        }
        method("select", "t:select(d, i)\nThe slice at index i (1-based) of dimension d, which is removed; a view.") { call, t in
            try call.expectAtMost(3)
            let d = try call.dimension(2, rank: t.rank)
            call.push(try t.select(d, try call.index(3, size: t.shape[d], what: "index")))
            return 1
        }
        method("unsqueeze", "t:unsqueeze(d)\nInserts a dimension of size 1 at position d.") { call, t in
            call.push(try t.unsqueeze(try call.dimension(2, rank: t.rank, allowInsert: true)))
            return 1
        }
        method("squeeze", "t:squeeze([d])\nRemoves dimension d (of size 1), or all size-1 dimensions.") { call, t in
            call.push(try t.squeeze(call.isNil(2) ? nil : try call.dimension(2, rank: t.rank)))
            return 1
        }
        method("expand", "t:expand{d1, ...}\nA broadcast view with size-1 dimensions repeated.") { call, t in
            call.push(try t.expand(try call.integerList(2, what: "a table of sizes", minimum: 0)))
            return 1
        }
        method("flatten", "t:flatten([d])\nMerges dimensions d (default 1) to the last into one.") { call, t in
            call.push(try t.flatten(from: call.isNil(2) ? 0 : try call.dimension(2, rank: t.rank)))
            return 1
        }
        unary("contiguous", "A contiguous tensor with the same values (itself if already contiguous).") { $0.contiguous() }
        unary("clone", "A contiguous copy (gradients flow through it).") { $0.clone() }
        unary("detach", "The same values, cut from the autograd graph (shares storage).") { $0.detach() }

        // MARK: Maths
        unary("exp", "Elementwise e^x.") { $0.exp() }
        unary("log", "Elementwise natural logarithm.") { $0.log() }
        unary("sqrt", "Elementwise square root.") { $0.sqrt() }
        unary("abs", "Elementwise absolute value.") { $0.abs() }
        unary("neg", "Elementwise -x.") { $0.neg() }
        unary("relu", "Elementwise max(x, 0).") { $0.relu() }
        unary("sigmoid", "Elementwise 1 / (1 + e^-x).") { $0.sigmoid() }
        unary("tanh", "Elementwise hyperbolic tangent.") { $0.tanh() }
        unary("square", "Elementwise x^2.") { $0.square() }
        method("leaky_relu", "t:leaky_relu([slope=0.01])\nElementwise x if x >= 0 else slope*x.") { call, t in
            call.push(t.leakyRelu(try call.optFloat(2, 0.01)))
            return 1
        }
        for (key, doc, f) in [("add", "a + b", { try $0 + $1 }), ("sub", "a - b", { try $0 - $1 }),
                              ("mul", "a * b (elementwise)", { try $0 * $1 }), ("div", "a / b", { try $0 / $1 }),
                              ("pow", "a ^ b", { try $0.pow($1) }), ("maximum", "elementwise max(a, b)", { try $0.maximum($1) }),
                              ("minimum", "elementwise min(a, b)", { try $0.minimum($1) })] as [(String, String, (Tensor, Tensor) throws -> Tensor)] {
            method(key, "t:\(key)(x)\n\(doc), broadcasting; x is a tensor or a number.") { call, t in
                try call.expectAtMost(2)
                call.push(try f(t, try call.tensorOrScalar(2, like: t)))
                return 1
            }
        }
        for (key, f) in [("eq", { try $0.eq($1) }), ("ne", { try $0.ne($1) }), ("lt", { try $0.lt($1) }),
                         ("le", { try $0.le($1) }), ("gt", { try $0.gt($1) }), ("ge", { try $0.ge($1) })] as [(String, (Tensor, Tensor) throws -> Tensor)] {
            method(key, "t:\(key)(x)\nElementwise comparison: 1 where true, 0 elsewhere (x: tensor or number).") { call, t in
                try call.expectAtMost(2)
                call.push(try f(t, try call.tensorOrScalar(2, like: t)))
                return 1
            }
        }
        method("matmul", "t:matmul(u)\nMatrix product (1-d operands are vectors; leading dimensions broadcast).") { call, t in
            try call.expectAtMost(2)
            call.push(try t.matmul(try call.tensor(2)))
            return 1
        }
        method("clamp", "t:clamp(lo, hi)\nLimits values to [lo, hi]; either bound may be nil.") { call, t in
            try call.expectAtMost(3)
            call.push(try t.clamp(call.isNil(2) ? -.infinity : try call.float(2), call.isNil(3) ? .infinity : try call.float(3)))
            return 1
        }

        // MARK: Reductions
        func reduction(_ key: String, _ doc: String, all: @escaping (Tensor) throws -> Tensor,
                       along: @escaping (Tensor, Int, Bool) throws -> Tensor) {
            method(key, "t:\(key)([d [, keepdim]])\n\(doc)") { call, t in
                try call.expectAtMost(3)
                if call.isNil(2) { call.push(try all(t)); return 1 }
                let d = try call.dimension(2, rank: t.rank)
                call.push(try along(t, d, call.isNil(3) ? false : try call.boolean(3)))
                return 1
            }
        }
        reduction("sum", "Sum of all elements (a 0-d tensor), or along dimension d.", all: { $0.sum() }, along: { try $0.sum(dim: $1, keepDim: $2) })
        reduction("mean", "Mean of all elements, or along dimension d.", all: { try $0.mean() }, along: { try $0.mean(dim: $1, keepDim: $2) })
        for (key, largest) in [("max", true), ("min", false)] {
            method(key, "t:\(key)([d [, keepdim]])\nThe \(key)imum of all elements (0-d tensor); along d: values and 1-based indices.") { call, t in
                try call.expectAtMost(3)
                if call.isNil(2) { call.push(largest ? try t.max() : try t.min()); return 1 }
                let d = try call.dimension(2, rank: t.rank)
                let keep = call.isNil(3) ? false : try call.boolean(3)
                let (v, i) = largest ? try t.max(dim: d, keepDim: keep) : try t.min(dim: d, keepDim: keep)
                call.push(v)
                call.push(i + 1)
                return 2
            }
        }
        method("argmax", "t:argmax([d [, keepdim]])\n1-based position of the maximum along d (of the flattened tensor without d).") { call, t in
            try call.expectAtMost(3)
            if call.isNil(2) {
                call.push(try t.reshape([t.count]).argmax(dim: 0) + 1)
                return 1
            }
            call.push(try t.argmax(dim: try call.dimension(2, rank: t.rank), keepDim: call.isNil(3) ? false : try call.boolean(3)) + 1)
            return 1
        }
        method("softmax", "t:softmax(d)\nSoftmax along dimension d.") { call, t in
            try call.expectAtMost(2)
            call.push(try t.softmax(dim: try call.dimension(2, rank: t.rank)))
            return 1
        }
        method("log_softmax", "t:log_softmax(d)\nLog-softmax along dimension d (numerically stable).") { call, t in
            try call.expectAtMost(2)
            call.push(try t.logSoftmax(dim: try call.dimension(2, rank: t.rank)))
            return 1
        }

        // MARK: In place (optimisers, buffers); refused on tensors that require grad while recording
        func inPlace(_ key: String, _ doc: String, _ body: @escaping (LuaCall, Tensor) throws -> Void) {
            method(key, "t:\(key)\(doc)") { call, t in
                try body(call, t)
                lua_pushvalue(call.L, 1)
                return 1
            }
        }
        inPlace("add_", "(x [, alpha])\nIn place: t = t + alpha*x (x: tensor or number). Returns t.") { call, t in
            try call.expectAtMost(3)
            if call.isNumber(2) { try t.addInPlace(try call.float(2) * (try call.optFloat(3, 1))) }
            else { try t.addInPlace(try call.tensor(2), alpha: try call.optFloat(3, 1)) }
        }
        inPlace("sub_", "(x)\nIn place: t = t - x. Returns t.") { call, t in
            try call.expectAtMost(2)
            if call.isNumber(2) { try t.addInPlace(-(try call.float(2))) } else { try t.addInPlace(try call.tensor(2), alpha: -1) }
        }
        inPlace("mul_", "(x)\nIn place: t = t * x (x: tensor or number). Returns t.") { call, t in
            try call.expectAtMost(2)
            if call.isNumber(2) { try t.mulInPlace(try call.float(2)) } else { try t.mulInPlace(try call.tensor(2)) }
        }
        inPlace("div_", "(x)\nIn place: t = t / x. Returns t.") { call, t in
            try call.expectAtMost(2)
            if call.isNumber(2) { try t.mulInPlace(1 / (try call.float(2))) } else { try t.mulInPlace(try call.tensor(2).rdiv(1)) }
        }
        inPlace("fill_", "(v)\nIn place: every element = v. Returns t.") { call, t in
            try call.expectAtMost(2); try t.fill(try call.float(2))
        }
        inPlace("zero_", "()\nIn place: every element = 0. Returns t.") { call, t in try call.expectAtMost(1); try t.zero() }
        inPlace("copy_", "(src)\nIn place: copies src (broadcast) into t. Returns t.") { call, t in
            try call.expectAtMost(2); try t.copy(from: try call.tensor(2))
        }
        inPlace("clamp_", "(lo, hi)\nIn place clamp. Returns t.") { call, t in
            try call.expectAtMost(3)
            try t.clampInPlace(call.isNil(2) ? -.infinity : try call.float(2), call.isNil(3) ? .infinity : try call.float(3))
        }

        // MARK: Autograd
        method("requires_grad", "t:requires_grad([flag])\nWith a flag: sets whether gradients accumulate in t.grad (leaves only) and returns t. Without: the current setting.") { call, t in
            try call.expectAtMost(2)
            if call.isNil(2) && call.top < 2 { call.push(t.requiresGrad); return 1 }
            try t.requiresGrad(call.isNil(2) ? true : try call.boolean(2))
            lua_pushvalue(call.L, 1)
            return 1
        }
        method("save", "t:save(path [, name])\nWrites t to a .safetensors file (atomically: a temporary file, then rename).") { call, t in
            try call.expectAtMost(3)
            try t.save(path: try call.string(2), name: call.isNil(3) ? "tensor" : try call.string(3))
            return 0
        }
        method("is_leaf", "t:is_leaf()\ntrue unless t was computed from tensors that require grad.") { call, t in
            call.push(t.isLeaf); return 1
        }
        method("backward", "t:backward([grad] [, {retain_graph=false}])\nBack-propagates from t (a one-element loss, or with an explicit gradient) into the .grad of leaves.") { call, t in
            try call.expectAtMost(3)
            var gradient: Tensor?
            var optionsIndex: Int32 = 2
            if call.object(2, typeName: "tensor", as: Tensor.self) != nil { gradient = try call.tensor(2); optionsIndex = 3 }
            let opts = try call.options(optionsIndex, allowed: ["retain_graph"])
            try t.backward(gradient, retainGraph: try opts?.boolean("retain_graph") ?? false)
            return 0
        }
    }
}

extension LuaCall {
    /// A 1-based index into a dimension of `size` (negative counts from the end) → 0-based.
    func index(_ i: Int32, size: Int, what: String) throws -> Int {
        let k = try integer(i)
        if k >= 1 && k <= size { return k - 1 }
        if k < 0 && -k <= size { return size + k }
        throw error(i, "\(what) \(k) out of range for a dimension of size \(size) (indices are 1..\(size))")
    }

    /// The argument as a tensor, or a number turned into a 0-d tensor.
    func tensorOrScalar(_ i: Int32, like t: Tensor) throws -> Tensor {
        if isNumber(i) { return Tensor.scalar(try float(i)) }
        if let u = object(i, typeName: "tensor", as: Tensor.self) { return u }
        throw error(i, "expected a tensor or a number, got \(typeName(i))")
    }

    /// Arithmetic metamethod: either operand may be a number.
    func binary(_ op: (Tensor, Tensor) throws -> Tensor, _ right: (Tensor, Float) -> Tensor,
                _ left: (Float, Tensor) throws -> Tensor) throws -> Tensor {
        if let a = object(1, typeName: "tensor", as: Tensor.self) {
            if isNumber(2) { return right(a, try float(2)) }
            if let b = object(2, typeName: "tensor", as: Tensor.self) { return try op(a, b) }
            throw error(2, "expected a tensor or a number, got \(typeName(2))")
        }
        guard isNumber(1) else { throw error(1, "expected a tensor or a number, got \(typeName(1))") }
        return try left(try float(1), try tensor(2))
    }

    /// `t[i]`: a number for 1-d tensors, else the i-th slice of dimension 1 (a view).
    func pushIndexed(_ t: Tensor, _ i: Int32) throws -> Int32 {
        guard t.rank > 0 else { throw error("cannot index a 0-d tensor (use t:item())") }
        let k = try index(i, size: t.shape[0], what: "index")
        if t.rank == 1 { push(try t.value(at: [k])) } else { push(try t.select(0, k)) }
        return 1
    }

    /// `t[i] = v`: v is a number (fills the slice) or a tensor broadcast into it.
    func assignIndexed(_ t: Tensor, _ i: Int32, _ v: Int32) throws {
        guard t.rank > 0 else { throw error("cannot index a 0-d tensor") }
        let k = try index(i, size: t.shape[0], what: "index")
        let slice = try GradMode.disabled { try t.select(0, k) }
        if t.requiresGrad && GradMode.isEnabled { throw error("cannot assign into a tensor that requires grad (use tensor.no_grad)") }
        if isNumber(v) { try GradMode.disabled { try slice.fill(try float(v)) } }
        else if let src = object(v, typeName: "tensor", as: Tensor.self) { try GradMode.disabled { try slice.copy(from: src) } }
        else { throw error(v, "expected a number or a tensor to assign, got \(typeName(v))") }
    }

    func pushNested(_ t: Tensor) {
        let values = t.toArray()
        if t.rank == 0 { push(values[0]); return }
        func build(_ dim: Int, _ start: Int) {
            let n = t.shape[dim]
            let stride = t.shape[(dim + 1)...].reduce(1, *)
            lua_createtable(L, Int32(n), 0)
            for k in 0..<n {
                if dim == t.rank - 1 { lua_pushnumber(L, Double(values[start + k])) } else { build(dim + 1, start + k * stride) }
                lua_rawseti(L, -2, lua_Integer(k + 1))
            }
        }
        build(0, 0)
    }
}
