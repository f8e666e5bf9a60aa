import CLua
import CLuaBridge
import MERKernels
import MERTensor

/// Methods and metamethods of tensor userdata. Dimensions and indices are 1-based, as
/// everywhere a script sees them; negative ones count from the end (-1 is the last).
extension LuaVM {
    func installTensorType() {
        func arith(_ meta: String, _ name: String, _ op: @escaping (Tensor, Tensor) throws -> Tensor,
                   _ right: @escaping (Tensor, Float) throws -> Tensor, _ left: @escaping (Float, Tensor) throws -> Tensor) -> Binding {
            .meta(meta, name: "tensor.\(name)") { call in
                if let a = call.object(1, as: Tensor.self) {
                    if call.isNumber(2) { return call.push(try right(a, try call.float(2))) }
                    return call.push(try op(a, try call.tensorOrScalar(2)))
                }
                guard call.isNumber(1) else { throw call.error(1, "expected a tensor or a number, got \(call.typeName(1))") }
                return call.push(try left(try call.float(1), try call.tensor(2)))
            }
        }
        defineType(Tensor.self, prefix: "tensor", methods: tensorMethods(), properties: [
            Property("grad", "t.grad\nThe accumulated gradient of a leaf that requires grad (nil before backward); assignable (same shape) or nil.",
                     get: { call, t in t.grad.map { call.push($0) } ?? call.pushNil() },
                     set: { call, t in
                         if call.isNil(3) { t.grad = nil; return }
                         let g = try call.tensor(3)
                         guard g.shape == t.shape else { throw call.error(3, "expected the tensor's shape \(t.shape), got \(g.shape)") }
                         t.grad = g
                     }),
        ], meta: [
            .meta("__tostring") { call in call.push(TensorFormatter.format(try call.tensor(1))) },
            .meta("__len") { call in
                let t = try call.tensor(1)
                guard t.rank > 0 else { throw call.error("# of a 0-d tensor (use t:item())") }
                return call.push(t.shape[0])
            },
            .meta("__concat") { call in
                let parts = try (1...2 as ClosedRange<Int32>).map { i -> String in
                    if let t = call.object(i, as: Tensor.self) { return TensorFormatter.format(t) }
                    guard call.isString(i) || call.isNumber(i) else { throw call.error("cannot concatenate a \(call.typeName(i))") }
                    return String(cString: mer_tostring(call.L, i, nil))
                }
                return call.push(parts.joined())
            },
            arith("__add", "add", { try $0 + $1 }, { try $0 + $1 }, { try $0 + $1 }),
            arith("__sub", "sub", { try $0 - $1 }, { try $0 - $1 }, { try $0 - $1 }),
            arith("__mul", "mul", { try $0 * $1 }, { try $0 * $1 }, { try $0 * $1 }),
            arith("__div", "div", { try $0 / $1 }, { try $0 / $1 }, { try $0 / $1 }),
            arith("__pow", "pow", { try $0.pow($1) }, { try $0.pow($1) }, { s, t in try Tensor.full(t.shape, s).pow(t) }),
            .meta("__unm", name: "tensor.neg") { call in call.push(try call.tensor(1).neg()) },
        ], index: { call, t in
            if !call.isNumber(2) { return nil }
            return try call.pushIndexed(t, 2)
        }, newIndex: { call, t in
            guard call.isNumber(2) else { return false }
            try call.assignIndexed(t, 2, 3)
            return true
        })
    }

    func tensorMethods() -> [Method<Tensor>] {
        func unary(_ key: String, _ doc: String, _ f: @escaping (Tensor) throws -> Tensor) -> Method<Tensor> {
            Method(key, arity: 0, "t:\(key)()\n\(doc)") { call, t in call.push(try f(t)) }
        }
        func binary(_ key: String, _ doc: String, _ f: @escaping (Tensor, Tensor) throws -> Tensor) -> Method<Tensor> {
            Method(key, arity: 1, "t:\(key)(x)\n\(doc) (x: a tensor, broadcast, or a number).") { call, t in
                call.push(try f(t, try call.tensorOrScalar(2)))
            }
        }
        func reduction(_ key: String, _ doc: String, all: @escaping (Tensor) throws -> Tensor,
                       along: @escaping (Tensor, Int, Bool) throws -> Tensor) -> Method<Tensor> {
            Method(key, arity: 2, "t:\(key)([d [, keepdim]])\n\(doc)") { call, t in
                if call.isNil(2) { return call.push(try all(t)) }
                return call.push(try along(t, try call.dimension(2, rank: t.rank), try call.optBoolean(3, false)))
            }
        }
        func extremum(_ key: String, largest: Bool) -> Method<Tensor> {
            Method(key, arity: 2, "t:\(key)([d [, keepdim]])\nThe \(key)imum of all elements (0-d tensor); along d: values and 1-based indices.") { call, t in
                if call.isNil(2) { return call.push(largest ? try t.max() : try t.min()) }
                let d = try call.dimension(2, rank: t.rank), keep = try call.optBoolean(3, false)
                let (v, i) = largest ? try t.max(dim: d, keepDim: keep) : try t.min(dim: d, keepDim: keep)
                return try call.push(v) + call.push(i + 1)
            }
        }
        /// In place (optimisers, buffers), refused on tensors that require grad while recording; returns t.
        func inPlace(_ key: String, arity: Int32, _ doc: String, _ body: @escaping (LuaCall, Tensor) throws -> Void) -> Method<Tensor> {
            Method(key, arity: arity, "t:\(key)\(doc)") { call, t in
                try body(call, t)
                return call.pushArgument(1)
            }
        }
        func bound(_ call: LuaCall, _ i: Int32, _ fallback: Float) throws -> Float { call.isNil(i) ? fallback : try call.float(i) }
        return [
            // Facts
            Method("shape", arity: 0, "t:shape()\nThe sizes as a table {d1, d2, ...}.") { call, t in call.pushIntegers(t.shape) },
            Method("size", arity: 1, "t:size([d])\nSize of dimension d, or the shape table without d.") { call, t in
                if call.isNil(2) { return call.pushIntegers(t.shape) }
                return call.push(t.shape[try call.dimension(2, rank: t.rank)])
            },
            Method("dim", arity: 0, "t:dim()\nNumber of dimensions.") { call, t in call.push(t.rank) },
            Method("numel", arity: 0, "t:numel()\nNumber of elements.") { call, t in call.push(t.count) },
            Method("item", arity: 0, "t:item()\nThe value of a one-element tensor, as a number.") { call, t in call.push(try t.item()) },
            Method("totable", arity: 0, "t:totable()\nThe values as nested Lua tables (a number for a 0-d tensor).") { call, t in try call.pushNested(t) },
            Method("is_contiguous", arity: 0, "t:is_contiguous()\nWhether the elements are laid out densely in row-major order.") { call, t in
                call.push(t.isContiguous)
            },
            // Views
            Method("reshape", arity: 1, "t:reshape{d1, ...}\nSame elements in a new shape (one size may be -1); a view when possible.") { call, t in
                call.push(try t.reshape(try call.integerList(2, what: "a table of integers (the new shape)")))
            },
            Method("view", arity: 1, "t:view{d1, ...}\nLike reshape, but the tensor must be contiguous (never copies).") { call, t in
                call.push(try t.view(try call.integerList(2, what: "a table of integers (the new shape)")))
            },
            Method("permute", arity: 1, "t:permute{p1, ...}\nReorders dimensions: result dimension k is input dimension p_k.") { call, t in
                let order = try call.integerList(2, what: "a table of dimensions")
                guard order.count == t.rank else { throw call.error(2, "expected \(t.rank) dimensions, got \(order.count)") }
                return call.push(try t.permute(try order.map { d in
                    guard (1...max(t.rank, 1)).contains(d) || (d < 0 && d >= -t.rank) else {
                        throw call.error(2, "dimension \(d) out of range 1..\(t.rank)")
                    }
                    return d > 0 ? d - 1 : t.rank + d
                }))
            },
            Method("transpose", arity: 2, "t:transpose(a, b)\nSwaps dimensions a and b (a view).") { call, t in
                call.push(try t.transpose(try call.dimension(2, rank: t.rank), try call.dimension(3, rank: t.rank)))
            },
            Method("narrow", arity: 3, "t:narrow(d, i, n)\nn slices of dimension d starting at index i (1-based); a view.") { call, t in
                let d = try call.dimension(2, rank: t.rank)
                let i = try call.index(3, size: t.shape[d], what: "start index")
                let n = try call.integer(4)
                guard n >= 0 && n <= t.shape[d] - i else { // not i + n: n may be math.maxinteger
                    throw call.error(4, "length \(n) from index \(i + 1) runs past the end of dimension \(d + 1) (size \(t.shape[d]))")
                }
                return call.push(try t.narrow(d, i, n))
            },
            Method("select", arity: 2, "t:select(d, i)\nThe slice at index i (1-based) of dimension d, which is removed; a view.") { call, t in
                let d = try call.dimension(2, rank: t.rank)
                return call.push(try t.select(d, try call.index(3, size: t.shape[d], what: "index")))
            },
            Method("unsqueeze", arity: 1, "t:unsqueeze(d)\nInserts a dimension of size 1 at position d.") { call, t in
                call.push(try t.unsqueeze(try call.dimension(2, rank: t.rank, allowInsert: true)))
            },
            Method("squeeze", arity: 1, "t:squeeze([d])\nRemoves dimension d (of size 1), or all size-1 dimensions.") { call, t in
                call.push(try t.squeeze(call.isNil(2) ? nil : try call.dimension(2, rank: t.rank)))
            },
            Method("expand", arity: 1, "t:expand{d1, ...}\nA broadcast view with size-1 dimensions repeated.") { call, t in
                call.push(try t.expand(try call.integerList(2, what: "a table of sizes", minimum: 0)))
            },
            Method("flatten", arity: 1, "t:flatten([d])\nMerges dimensions d (default 1) to the last into one.") { call, t in
                call.push(try t.flatten(from: call.isNil(2) ? 0 : try call.dimension(2, rank: t.rank)))
            },
            unary("contiguous", "A contiguous tensor with the same values (itself if already contiguous).") { try $0.contiguous() },
            unary("clone", "A contiguous copy (gradients flow through it).") { try $0.clone() },
            unary("detach", "The same values, cut from the autograd graph (shares storage).") { $0.detach() },
            // Maths
            unary("exp", "Elementwise e^x.") { try $0.exp() },
            unary("log", "Elementwise natural logarithm.") { try $0.log() },
            unary("sqrt", "Elementwise square root.") { try $0.sqrt() },
            unary("abs", "Elementwise absolute value.") { try $0.abs() },
            unary("neg", "Elementwise -x.") { try $0.neg() },
            unary("relu", "Elementwise max(x, 0).") { try $0.relu() },
            unary("sigmoid", "Elementwise 1 / (1 + e^-x).") { try $0.sigmoid() },
            unary("tanh", "Elementwise hyperbolic tangent.") { try $0.tanh() },
            unary("square", "Elementwise x^2.") { try $0.square() },
            Method("leaky_relu", arity: 1, "t:leaky_relu([slope=0.01])\nElementwise x if x >= 0 else slope*x.") { call, t in
                call.push(try t.leakyRelu(try call.optFloat(2, 0.01)))
            },
            binary("add", "a + b") { try $0 + $1 }, binary("sub", "a - b") { try $0 - $1 },
            binary("mul", "a * b (elementwise)") { try $0 * $1 }, binary("div", "a / b") { try $0 / $1 },
            binary("pow", "a ^ b") { try $0.pow($1) },
            binary("maximum", "Elementwise max(a, b)") { try $0.maximum($1) }, binary("minimum", "Elementwise min(a, b)") { try $0.minimum($1) },
            binary("eq", "1 where a == b, else 0") { try $0.eq($1) }, binary("ne", "1 where a ~= b, else 0") { try $0.ne($1) },
            binary("lt", "1 where a < b, else 0") { try $0.lt($1) }, binary("le", "1 where a <= b, else 0") { try $0.le($1) },
            binary("gt", "1 where a > b, else 0") { try $0.gt($1) }, binary("ge", "1 where a >= b, else 0") { try $0.ge($1) },
            Method("matmul", arity: 1, "t:matmul(u)\nMatrix product (1-d operands are vectors; leading dimensions broadcast).") { call, t in
                call.push(try t.matmul(try call.tensor(2)))
            },
            Method("clamp", arity: 2, "t:clamp(lo, hi)\nLimits values to [lo, hi]; either bound may be nil.") { call, t in
                call.push(try t.clamp(try bound(call, 2, -.infinity), try bound(call, 3, .infinity)))
            },
            // Reductions
            reduction("sum", "Sum of all elements (a 0-d tensor), or along dimension d.", all: { try $0.sum() }, along: { try $0.sum(dim: $1, keepDim: $2) }),
            reduction("mean", "Mean of all elements, or along dimension d.", all: { try $0.mean() }, along: { try $0.mean(dim: $1, keepDim: $2) }),
            extremum("max", largest: true), extremum("min", largest: false),
            Method("argmax", arity: 2, "t:argmax([d [, keepdim]])\n1-based position of the maximum along d (of the flattened tensor without d).") { call, t in
                if call.isNil(2) { return call.push(try t.reshape([t.count]).argmax(dim: 0) + 1) }
                return call.push(try t.argmax(dim: try call.dimension(2, rank: t.rank), keepDim: try call.optBoolean(3, false)) + 1)
            },
            Method("softmax", arity: 1, "t:softmax(d)\nSoftmax along dimension d.") { call, t in
                call.push(try t.softmax(dim: try call.dimension(2, rank: t.rank)))
            },
            Method("log_softmax", arity: 1, "t:log_softmax(d)\nLog-softmax along dimension d (numerically stable).") { call, t in
                call.push(try t.logSoftmax(dim: try call.dimension(2, rank: t.rank)))
            },
            // In place
            inPlace("add_", arity: 2, "(x [, alpha])\nIn place: t = t + alpha*x (x: tensor or number). Returns t.") { call, t in
                if call.isNumber(2) { try t.addInPlace(try call.float(2) * (try call.optFloat(3, 1))) }
                else { try t.addInPlace(try call.tensor(2), alpha: try call.optFloat(3, 1)) }
            },
            inPlace("sub_", arity: 1, "(x)\nIn place: t = t - x. Returns t.") { call, t in
                if call.isNumber(2) { try t.addInPlace(-(try call.float(2))) } else { try t.addInPlace(try call.tensor(2), alpha: -1) }
            },
            inPlace("mul_", arity: 1, "(x)\nIn place: t = t * x (x: tensor or number). Returns t.") { call, t in
                if call.isNumber(2) { try t.mulInPlace(try call.float(2)) } else { try t.mulInPlace(try call.tensor(2)) }
            },
            inPlace("div_", arity: 1, "(x)\nIn place: t = t / x. Returns t.") { call, t in
                if call.isNumber(2) { try t.mulInPlace(1 / (try call.float(2))) } else { try t.mulInPlace(try call.tensor(2).rdiv(1)) }
            },
            inPlace("fill_", arity: 1, "(v)\nIn place: every element = v. Returns t.") { call, t in try t.fill(try call.float(2)) },
            inPlace("zero_", arity: 0, "()\nIn place: every element = 0. Returns t.") { _, t in try t.zero() },
            inPlace("copy_", arity: 1, "(src)\nIn place: copies src (broadcast) into t. Returns t.") { call, t in try t.copy(from: try call.tensor(2)) },
            inPlace("clamp_", arity: 2, "(lo, hi)\nIn place clamp. Returns t.") { call, t in
                try t.clampInPlace(try bound(call, 2, -.infinity), try bound(call, 3, .infinity))
            },
            // Autograd and files
            Method("requires_grad", arity: 1, "t:requires_grad([flag])\nWith a flag: sets whether gradients accumulate in t.grad (leaves only) and returns t. Without: the current setting.") { call, t in
                if call.top < 2 { return call.push(t.requiresGrad) }
                try t.requiresGrad(try call.optBoolean(2, true))
                return call.pushArgument(1)
            },
            Method("save", arity: 2, "t:save(path [, name])\nWrites t to a .safetensors file (atomically: a temporary file, then rename).") { call, t in
                try t.save(path: try call.string(2), name: call.isNil(3) ? "tensor" : try call.string(3))
                return 0
            },
            Method("is_leaf", arity: 0, "t:is_leaf()\ntrue unless t was computed from tensors that require grad.") { call, t in call.push(t.isLeaf) },
            Method("backward", arity: 2, "t:backward([grad] [, {retain_graph=false}])\nBack-propagates from t (a one-element loss, or with an explicit gradient) into the .grad of leaves.") { call, t in
                let gradient = call.object(2, as: Tensor.self)
                let retain = try call.option(gradient == nil ? 2 : 3, "retain_graph", Read.boolean) ?? false
                try t.backward(gradient, retainGraph: retain)
                return 0
            },
        ]
    }
}

extension LuaCall {
    /// `t[i]`: a number for 1-d tensors, else the i-th slice of dimension 1 (a view).
    func pushIndexed(_ t: Tensor, _ i: Int32) throws -> Int32 {
        guard t.rank > 0 else { throw error("cannot index a 0-d tensor (use t:item())") }
        let k = try index(i, size: t.shape[0], what: "index")
        return t.rank == 1 ? push(try t.value(at: [k])) : push(try t.select(0, k))
    }

    /// `t[i] = v`: v is a number (fills the slice) or a tensor broadcast into it.
    func assignIndexed(_ t: Tensor, _ i: Int32, _ v: Int32) throws {
        guard t.rank > 0 else { throw error("cannot index a 0-d tensor") }
        let k = try index(i, size: t.shape[0], what: "index")
        let slice = try GradMode.disabled { try t.select(0, k) }
        if t.requiresGrad && GradMode.isEnabled { throw error("cannot assign into a tensor that requires grad (use tensor.no_grad)") }
        if isNumber(v) { try GradMode.disabled { try slice.fill(try float(v)) } }
        else if let src = object(v, as: Tensor.self) { try GradMode.disabled { try slice.copy(from: src) } }
        else { throw error(v, "expected a number or a tensor to assign, got \(typeName(v))") }
    }
}
