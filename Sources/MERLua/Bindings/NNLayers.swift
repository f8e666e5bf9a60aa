import CLua
import CLuaBridge
import MERNN
import MERTensor

/// Options of the convolution layer and function, with PyTorch's defaults.
struct ConvOptions {
    var stride = (1, 1), padding = (0, 0), dilation = (1, 1), groups = 1, bias = true
    static let declared: [Option<ConvOptions>] = [
        Option("stride", \.stride, Read.pair()), Option("padding", \.padding, Read.pair(minimum: 0)),
        Option("dilation", \.dilation, Read.pair()), Option("groups", \.groups, Read.positive),
    ]
}

/// Options of the pooling layers and functions; the stride defaults to the kernel.
struct PoolOptions {
    var stride: (Int, Int)?, padding = (0, 0), ceilMode = false, countIncludePad = true
    static let max: [Option<PoolOptions>] = [
        Option("stride", \.stride, Read.pair()), Option("padding", \.padding, Read.pair(minimum: 0)),
        Option("ceil_mode", \.ceilMode, Read.boolean),
    ]
    static let average = max + [Option("count_include_pad", \.countIncludePad, Read.boolean)]
}

struct BatchNormOptions {
    var eps: Float = 1e-5, momentum: Float = 0.1, affine = true, training = false
    static let declared: [Option<BatchNormOptions>] = [
        Option("eps", \.eps, Read.float(in: 0...Double.greatestFiniteMagnitude, "a non-negative number")),
        Option("momentum", \.momentum, Read.float(in: 0...1)),
    ]
}

/// The `nn` global: layer constructors, containers, `nn.Parameter`, `nn.Module`, `nn.F`.
extension LuaVM {
    func installNNModule() {
        installModuleType()
        defineModule("nn", [
            .layer("Conv2d", arity: 4, """
                nn.Conv2d(cin, cout, k [, {stride=1, padding=0, dilation=1, groups=1, bias=true}])
                2-d convolution over (N, C, H, W) input; k, stride, padding, dilation: a number or {h, w}.
                Weight (cout, cin/groups, kh, kw) and bias initialised as PyTorch does (mer.seed).
                """) { call in
                let cin = try call.positiveInteger(1), cout = try call.positiveInteger(2), k = try call.pair(3)
                let o = try call.options(4, ConvOptions.declared + [Option("bias", \.bias, Read.boolean)], ConvOptions())
                try call.checkParameterSize([cout, cin / o.groups, k.0, k.1])
                return try Conv2d(cin, cout, kernel: k, stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups, bias: o.bias)
            },
            .layer("BatchNorm2d", arity: 2, """
                nn.BatchNorm2d(c [, {eps=1e-5, momentum=0.1, affine=true}])
                Batch normalisation over the channels of (N, C, H, W) or (N, C) input. Parameters weight,
                bias; buffers running_mean, running_var, num_batches_tracked (PyTorch's names).
                """) { call in
                let c = try call.positiveInteger(1)
                let o = try call.options(2, BatchNormOptions.declared + [Option("affine", \.affine, Read.boolean)], BatchNormOptions())
                try call.checkParameterSize([c])
                return try BatchNorm2d(c, eps: o.eps, momentum: o.momentum, affine: o.affine)
            },
            .layer("Linear", arity: 3, "nn.Linear(in, out [, {bias=true}])\ny = x·Wᵀ + b over the last dimension; weight (out, in).") { call in
                let i = try call.positiveInteger(1), o = try call.positiveInteger(2)
                try call.checkParameterSize([o, i])
                return try Linear(i, o, bias: try call.option(3, "bias", Read.boolean) ?? true)
            },
            .layer("ReLU", arity: 0, "nn.ReLU()\nmax(x, 0) elementwise.") { _ in ReLU() },
            .layer("LeakyReLU", arity: 1, "nn.LeakyReLU([slope=0.01])\nx if x >= 0, else slope*x.") { call in LeakyReLU(try call.optFloat(1, 0.01)) },
            .layer("Sigmoid", arity: 0, "nn.Sigmoid()\n1 / (1 + e^-x) elementwise.") { _ in Sigmoid() },
            .layer("Tanh", arity: 0, "nn.Tanh()\nHyperbolic tangent elementwise.") { _ in Tanh() },
            .layer("Identity", arity: 0, "nn.Identity()\nReturns its input.") { _ in Identity() },
            .layer("MaxPool2d", arity: 2, """
                nn.MaxPool2d(k [, {stride=k, padding=0, ceil_mode=false}])
                Max pooling over (N, C, H, W); k, stride, padding: a number or {h, w}.
                """) { call in
                let (k, o) = try call.poolArguments(1, 2, PoolOptions.max)
                return MaxPool2d(kernel: k, stride: o.stride ?? k, padding: o.padding, ceilMode: o.ceilMode)
            },
            .layer("AvgPool2d", arity: 2, """
                nn.AvgPool2d(k [, {stride=k, padding=0, ceil_mode=false, count_include_pad=true}])
                Average pooling over (N, C, H, W); k, stride, padding: a number or {h, w}.
                """) { call in
                let (k, o) = try call.poolArguments(1, 2, PoolOptions.average)
                return AvgPool2d(kernel: k, stride: o.stride ?? k, padding: o.padding, ceilMode: o.ceilMode, countIncludePad: o.countIncludePad)
            },
            .layer("AdaptiveAvgPool2d", arity: 1, "nn.AdaptiveAvgPool2d(s)\nAverage pooling to an output of s×s (or {h, w}) whatever the input size.") { call in
                AdaptiveAvgPool2d(try call.pair(1))
            },
            .layer("AdaptiveMaxPool2d", arity: 1, "nn.AdaptiveMaxPool2d(s)\nMax pooling to an output of s×s (or {h, w}) whatever the input size.") { call in
                AdaptiveMaxPool2d(try call.pair(1))
            },
            .layer("Dropout", arity: 2, """
                nn.Dropout([p=0.5] [, {seed}])
                In training mode zeroes each element with probability p and scales the rest by 1/(1-p);
                the identity in eval mode. With a seed the masks come from the module's own generator.
                """) { call in
                let p = try call.optFloat(1, 0.5)
                guard p >= 0 && p < 1 else { throw call.error(1, "expected a probability in [0, 1), got \(formatNumber(Double(p)))") }
                return try Dropout(p, seed: try call.option(2, "seed", Read.seed))
            },
            .layer("Flatten", arity: 1, "nn.Flatten([d=2])\nMerges dimensions d (1-based; 2 keeps the batch dimension) to the last into one.") { call in
                Flatten(start: call.isNil(1) ? 1 : try call.integer(1, in: 1...Int.max, what: "a dimension >= 1 (1-based)") - 1)
            },
            .function("Sequential", arity: 1, """
                nn.Sequential{m1, m2, ...}
                Applies its modules in order (children named "0", "1", ... as in PyTorch). #s is the
                number of children, s[i] the i-th (1-based), s:add(m) appends.
                """) { call in
                if call.isNil(1) { return call.pushModule(Sequential([])) }
                let list = try call.moduleList(1, allowEmpty: true)
                call.pushModule(Sequential(list))
                call.keepAliveElements(container: call.top, list: 1, count: list.count)
                return 1
            },
            .function("Concat", arity: 2, """
                nn.Concat(d, {m1, m2, ...})
                Applies every module to the same input and joins the outputs along dimension d (1-based).
                """) { call in
                let d = try call.integer(1, in: 1...Int.max, what: "a dimension >= 1 (dimensions are 1-based)")
                let list = try call.moduleList(2, allowEmpty: false)
                call.pushModule(Concat(dim: d - 1, list))
                call.keepAliveElements(container: call.top, list: 2, count: list.count)
                return 1
            },
            .function("Parameter", arity: 1, """
                nn.Parameter(t)
                Marks t as a trainable parameter (requires grad) and returns it; assigned to a field of a
                Lua module (self.w = nn.Parameter(t)) it appears in m:parameters() and the state dict.
                A non-leaf t is detached first, as PyTorch does.
                """) { call in
                var t = try call.tensor(1)
                if !t.isLeaf { t = t.detach() }
                try t.requiresGrad(true)
                call.vm.nn.markParameter(t)
                return call.push(t)
            },
            .function("is_module", arity: 1, "nn.is_module(x)\ntrue if x is a module (native or Lua-defined).") { call in
                call.push((try? call.module(1)) != nil)
            },
        ])
        installFunctional()
        pushModuleTable("nn")
        installModuleClass()
        lua_setfield(L, -2, "Module")
        mer_pop(L, 1)
    }
}

extension Binding {
    /// A constructor of a native layer: its body makes the module, which is pushed.
    static func layer(_ key: String, arity: Int32, _ doc: String, _ make: @escaping (LuaCall) throws -> Module) -> Binding {
        .function(key, arity: arity, doc) { call in call.pushModule(try make(call)) }
    }
}

extension LuaCall {
    /// The kernel and options of a pooling layer or function; padding is at most half the kernel.
    func poolArguments(_ k: Int32, _ opts: Int32, _ declared: [Option<PoolOptions>]) throws -> ((Int, Int), PoolOptions) {
        let kernel = try pair(k)
        let o = try options(opts, declared, PoolOptions())
        guard o.padding.0 * 2 <= kernel.0, o.padding.1 * 2 <= kernel.1 else {
            throw error(opts, "padding \(o.padding.0)x\(o.padding.1) must be at most half the kernel \(kernel.0)x\(kernel.1)").within(opts, "option 'padding'")
        }
        return (kernel, o)
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
