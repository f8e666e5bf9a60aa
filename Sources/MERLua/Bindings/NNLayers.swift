import CLua
import CLuaBridge
import MERNN
import MERTensor

/// The `nn` global: layer constructors, containers, `nn.Parameter`, `nn.Module`, `nn.F`.
extension LuaVM {
    func installNNModule() {
        installModuleType()
        lua_createtable(L, 0, 48)

        func constructor(_ key: String, doc: String, arity: Int32, _ make: @escaping (LuaCall) throws -> Module) {
            setFunction(key, "nn.\(key)", doc: doc) { call in
                try call.expectAtMost(arity)
                call.pushModule(try make(call))
                return 1
            }
        }

        constructor("Conv2d", doc: """
            nn.Conv2d(cin, cout, k [, {stride=1, padding=0, dilation=1, groups=1, bias=true}])
            2-d convolution over (N, C, H, W) input; k, stride, padding, dilation: a number or {h, w}.
            Weight (cout, cin/groups, kh, kw) and bias initialised as PyTorch does (mer.seed).
            """, arity: 4) { call in
            let cin = try call.positiveInteger(1), cout = try call.positiveInteger(2)
            let k = try call.pair(3)
            let o = try call.options(4, allowed: ["stride", "padding", "dilation", "groups", "bias"])
            let stride = try o?.value("stride") { try call.pair($0) } ?? (1, 1)
            let padding = try o?.value("padding") { try call.pair($0, minimum: 0) } ?? (0, 0)
            let dilation = try o?.value("dilation") { try call.pair($0) } ?? (1, 1)
            let groups = try o?.value("groups") { try call.positiveInteger($0) } ?? 1
            let bias = try o?.boolean("bias") ?? true
            try call.checkParameterSize([cout, cin / max(groups, 1), k.0, k.1])
            return try Conv2d(cin, cout, kernel: k, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias)
        }
        constructor("BatchNorm2d", doc: """
            nn.BatchNorm2d(c [, {eps=1e-5, momentum=0.1, affine=true}])
            Batch normalisation over the channels of (N, C, H, W) or (N, C) input. Parameters weight,
            bias; buffers running_mean, running_var, num_batches_tracked (PyTorch's names).
            """, arity: 2) { call in
            let c = try call.positiveInteger(1)
            let o = try call.options(2, allowed: ["eps", "momentum", "affine"])
            let eps = try o?.float("eps") ?? 1e-5
            let momentum = try o?.float("momentum") ?? 0.1
            guard eps >= 0, eps.isFinite else { throw call.error(2, "option 'eps': expected a non-negative number, got \(eps)") }
            guard momentum >= 0, momentum <= 1 else { throw call.error(2, "option 'momentum': expected a number in [0, 1], got \(momentum)") }
            try call.checkParameterSize([c])
            return try BatchNorm2d(c, eps: eps, momentum: momentum, affine: try o?.boolean("affine") ?? true)
        }
        constructor("Linear", doc: """
            nn.Linear(in, out [, {bias=true}])
            y = x·Wᵀ + b over the last dimension; weight (out, in).
            """, arity: 3) { call in
            let i = try call.positiveInteger(1), o = try call.positiveInteger(2)
            let bias = try call.options(3, allowed: ["bias"])?.boolean("bias") ?? true
            try call.checkParameterSize([o, i])
            return try Linear(i, o, bias: bias)
        }
        constructor("ReLU", doc: "nn.ReLU()\nmax(x, 0) elementwise.", arity: 0) { _ in ReLU() }
        constructor("LeakyReLU", doc: "nn.LeakyReLU([slope=0.01])\nx if x >= 0, else slope*x.", arity: 1) { call in
            LeakyReLU(try call.optFloat(1, 0.01))
        }
        constructor("Sigmoid", doc: "nn.Sigmoid()\n1 / (1 + e^-x) elementwise.", arity: 0) { _ in Sigmoid() }
        constructor("Tanh", doc: "nn.Tanh()\nHyperbolic tangent elementwise.", arity: 0) { _ in Tanh() }
        constructor("Identity", doc: "nn.Identity()\nReturns its input.", arity: 0) { _ in Identity() }
        constructor("MaxPool2d", doc: """
            nn.MaxPool2d(k [, {stride=k, padding=0, ceil_mode=false}])
            Max pooling over (N, C, H, W); k, stride, padding: a number or {h, w}.
            """, arity: 2) { call in
            let (k, s, p, ceil, _) = try call.poolArguments(1, 2, countIncludePad: false)
            return MaxPool2d(kernel: k, stride: s, padding: p, ceilMode: ceil)
        }
        constructor("AvgPool2d", doc: """
            nn.AvgPool2d(k [, {stride=k, padding=0, ceil_mode=false, count_include_pad=true}])
            Average pooling over (N, C, H, W); k, stride, padding: a number or {h, w}.
            """, arity: 2) { call in
            let (k, s, p, ceil, cip) = try call.poolArguments(1, 2, countIncludePad: true)
            return AvgPool2d(kernel: k, stride: s, padding: p, ceilMode: ceil, countIncludePad: cip)
        }
        constructor("AdaptiveAvgPool2d", doc: """
            nn.AdaptiveAvgPool2d(s)
            Average pooling to an output of s×s (or {h, w}) whatever the input size.
            """, arity: 1) { call in AdaptiveAvgPool2d(try call.pair(1)) }
        constructor("AdaptiveMaxPool2d", doc: """
            nn.AdaptiveMaxPool2d(s)
            Max pooling to an output of s×s (or {h, w}) whatever the input size.
            """, arity: 1) { call in AdaptiveMaxPool2d(try call.pair(1)) }
        constructor("Dropout", doc: """
            nn.Dropout([p=0.5] [, {seed}])
            In training mode zeroes each element with probability p and scales the rest by 1/(1-p);
            the identity in eval mode. With a seed the masks come from the module's own generator.
            """, arity: 2) { call in
            let p = try call.optFloat(1, 0.5)
            guard p >= 0 && p < 1 else { throw call.error(1, "expected a probability in [0, 1), got \(p)") }
            let seed = try call.options(2, allowed: ["seed"])?.integer("seed")
            if let s = seed, s < 0 { throw call.error(2, "option 'seed': expected a non-negative integer, got \(s)") }
            return try Dropout(p, seed: seed.map { UInt64($0) })
        }
        constructor("Flatten", doc: """
            nn.Flatten([d=2])
            Merges dimensions d (1-based; 2 keeps the batch dimension) to the last into one.
            """, arity: 1) { call in
            let d = try call.optInteger(1, 2)
            guard d >= 1 else { throw call.error(1, "expected a dimension >= 1 (1-based), got \(d)") }
            return Flatten(start: d - 1)
        }
        setFunction("Sequential", "nn.Sequential", doc: """
            nn.Sequential{m1, m2, ...}
            Applies its modules in order (children named "0", "1", ... as in PyTorch). #s is the
            number of children, s[i] the i-th (1-based), s:add(m) appends.
            """) { call in
            try call.expectAtMost(1)
            if call.isNil(1) {
                call.pushModule(Sequential([]))
                return 1
            }
            let list = try call.moduleList(1, allowEmpty: true)
            call.pushModule(Sequential(list))
            call.keepAliveElements(container: call.top, list: 1, count: list.count)
            return 1
        }
        setFunction("Concat", "nn.Concat", doc: """
            nn.Concat(d, {m1, m2, ...})
            Applies every module to the same input and joins the outputs along dimension d (1-based).
            """) { call in
            try call.expectAtMost(2)
            let d = try call.integer(1)
            guard d >= 1 else { throw call.error(1, "expected a dimension >= 1 (dimensions are 1-based), got \(d)") }
            let list = try call.moduleList(2, allowEmpty: false)
            call.pushModule(Concat(dim: d - 1, list))
            call.keepAliveElements(container: call.top, list: 2, count: list.count)
            return 1
        }
        setFunction("Parameter", "nn.Parameter", doc: """
            nn.Parameter(t)
            Marks t as a trainable parameter (requires grad) and returns it; assigned to a field of a
            Lua module (self.w = nn.Parameter(t)) it appears in m:parameters() and the state dict.
            A non-leaf t is detached first, as PyTorch does.
            """) { call in
            try call.expectAtMost(1)
            var t = try call.tensor(1)
            if !t.isLeaf { t = t.detach() }
            try t.requiresGrad(true)
            call.vm.nn.markParameter(t)
            call.push(t)
            return 1
        }
        setFunction("is_module", "nn.is_module", doc: "nn.is_module(x)\ntrue if x is a module (native or Lua-defined).") { call in
            call.push((try? call.module(1)) != nil)
            return 1
        }

        installFunctional()
        lua_setfield(L, -2, "F")

        lua_setglobal(L, "nn")
        lua_getglobal(L, "nn")
        installModuleClass()
        lua_setfield(L, -2, "Module")
        mer_pop(L, 1)
    }
}

extension LuaCall {
    func positiveInteger(_ i: Int32) throws -> Int {
        let v = try integer(i)
        guard v > 0 else { throw error(i, "expected a positive integer, got \(v)") }
        return v
    }

    /// A size given as `k` or `{h, w}` (each at least `minimum`).
    func pair(_ i: Int32, minimum: Int = 1) throws -> (Int, Int) {
        let what = minimum > 0 ? "a positive integer or {h, w}" : "a non-negative integer or {h, w}"
        func read(_ idx: Int32) -> Int? {
            guard lua_type(L, idx) == LUA_TNUMBER else { return nil }
            var isInt: Int32 = 0
            let v = lua_tointegerx(L, idx, &isInt)
            guard isInt != 0, v >= minimum, v <= 1 << 20 else { return nil }
            return Int(v)
        }
        if isNumber(i) {
            guard let v = read(i) else { throw error(i, "expected \(what), got \(formatNumber(lua_tonumberx(L, i, nil)))") }
            return (v, v)
        }
        if isTable(i) {
            let n = Int(lua_rawlen(L, i))
            guard n == 2, !hasNonSequenceKeys(i, length: 2) else {
                throw error(i, "expected \(what), got a table of \(n) element\(n == 1 ? "" : "s")")
            }
            var out: [Int] = []
            for k in 1...2 {
                lua_rawgeti(L, i, lua_Integer(k))
                defer { mer_pop(L, 1) }
                guard let v = read(-1) else {
                    let got = isNumber(-1) ? formatNumber(lua_tonumberx(L, -1, nil)) : typeName(-1)
                    throw error(i, "expected \(what), got a table whose element \(k) is \(got)")
                }
                out.append(v)
            }
            return (out[0], out[1])
        }
        throw error(i, "expected \(what), got \(typeName(i))")
    }

    /// Kernel, stride, padding and modes of a pooling layer or function.
    func poolArguments(_ k: Int32, _ opts: Int32, countIncludePad: Bool)
        throws -> (kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), ceil: Bool, countIncludePad: Bool) {
        let kernel = try pair(k)
        var allowed = ["stride", "padding", "ceil_mode"]
        if countIncludePad { allowed.append("count_include_pad") }
        let o = try options(opts, allowed: allowed)
        let stride = try o?.value("stride") { try pair($0) } ?? kernel
        let padding = try o?.value("padding") { try pair($0, minimum: 0) } ?? (0, 0)
        guard padding.0 * 2 <= kernel.0, padding.1 * 2 <= kernel.1 else {
            throw error(opts, "option 'padding': padding \(padding.0)x\(padding.1) must be at most half the kernel \(kernel.0)x\(kernel.1)")
        }
        return (kernel, stride, padding, try o?.boolean("ceil_mode") ?? false,
                countIncludePad ? try o?.boolean("count_include_pad") ?? true : false)
    }

    /// Refuses parameter shapes too large to allocate (a typo such as 1e9 channels).
    func checkParameterSize(_ shape: [Int]) throws {
        var n = 1
        for s in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: max(s, 1))
            guard !overflow, p <= 1 << 31 else {
                throw error("a parameter of shape \(shape) is too large")
            }
            n = p
        }
    }

    /// An array of modules (for containers).
    func moduleList(_ i: Int32, allowEmpty: Bool) throws -> [Module] {
        if luaModule(i) != nil || object(i, typeName: "module", as: Module.self) != nil {
            throw error(i, "expected a table of modules, got a single module (write {m1, m2, ...})")
        }
        guard isTable(i) else { throw error(i, "expected a table of modules, got \(typeName(i))") }
        let n = Int(lua_rawlen(L, i))
        if hasNonSequenceKeys(i, length: n) { throw error(i, "expected a table of modules, got a table with non-sequence keys") }
        if n == 0 && !allowEmpty { throw error(i, "expected a non-empty table of modules") }
        var out: [Module] = []
        for k in 0..<n {
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { mer_pop(L, 1) }
            guard let m = (try? module(-1)) else {
                throw error(i, "expected a table of modules, element \(k + 1) is \(typeName(-1))")
            }
            out.append(m)
        }
        return out
    }

    func keepAliveElements(container: Int32, list: Int32, count: Int) {
        let c = lua_absindex(L, container)
        for k in 0..<count {
            lua_rawgeti(L, list, lua_Integer(k + 1))
            keepAlive(container: c, value: -1)
            mer_pop(L, 1)
        }
    }
}
