import CLua
import CLuaBridge
import MERNN
import MERTensor

/// `nn.F`: the functional forms of the layers (PyTorch's `torch.nn.functional`), for Lua
/// modules that hold their own weights. Dimensions are 1-based.
extension LuaVM {
    func installFunctional() {
        func function(_ key: String, arity: Int32, _ doc: String, _ body: @escaping (LuaCall) throws -> Tensor) -> Binding {
            .function(key, arity: arity, doc) { call in call.push(try body(call)) }
        }
        defineModule("nn.F", [
            function("conv2d", arity: 4, """
                nn.F.conv2d(x, w [, b] [, {stride=1, padding=0, dilation=1, groups=1}])
                2-d convolution of x (N, C, H, W) with weight w (out, C/groups, kh, kw) and optional bias b (out).
                """) { call in
                let x = try call.tensor(1), w = try call.tensor(2), b = try call.optTensor(3)
                let o = try call.options(4, ConvOptions.declared, ConvOptions())
                return try Tensor.conv2d(x, w, bias: b, stride: o.stride, padding: o.padding, dilation: o.dilation, groups: o.groups)
            },
            function("max_pool2d", arity: 3, """
                nn.F.max_pool2d(x, k [, {stride=k, padding=0, ceil_mode=false}])
                Max pooling of x (N, C, H, W); k, stride, padding: a number or {h, w}.
                """) { call in
                let x = try call.tensor(1)
                let (k, o) = try call.poolArguments(2, 3, PoolOptions.max)
                return try x.maxPool2d(kernel: k, stride: o.stride ?? k, padding: o.padding, ceilMode: o.ceilMode)
            },
            function("avg_pool2d", arity: 3, """
                nn.F.avg_pool2d(x, k [, {stride=k, padding=0, ceil_mode=false, count_include_pad=true}])
                Average pooling of x (N, C, H, W); k, stride, padding: a number or {h, w}.
                """) { call in
                let x = try call.tensor(1)
                let (k, o) = try call.poolArguments(2, 3, PoolOptions.average)
                return try x.avgPool2d(kernel: k, stride: o.stride ?? k, padding: o.padding, ceilMode: o.ceilMode, countIncludePad: o.countIncludePad)
            },
            function("adaptive_avg_pool2d", arity: 2, "nn.F.adaptive_avg_pool2d(x, s)\nAverage pooling of x (N, C, H, W) to s×s (or {h, w}).") { call in
                try call.tensor(1).adaptiveAvgPool2d(try call.pair(2))
            },
            function("adaptive_max_pool2d", arity: 2, "nn.F.adaptive_max_pool2d(x, s)\nMax pooling of x (N, C, H, W) to s×s (or {h, w}).") { call in
                try call.tensor(1).adaptiveMaxPool2d(try call.pair(2))
            },
            function("batch_norm", arity: 6, """
                nn.F.batch_norm(x, running_mean, running_var [, weight, bias] [, {training=false, momentum=0.1, eps=1e-5}])
                Batch normalisation of x (N, C[, H, W]) over dimension 2. Training: batch statistics, and the
                running buffers (if given) are updated in place; otherwise the running statistics normalise.
                """) { call in
                let x = try call.tensor(1)
                let rm = try call.optTensor(2), rv = try call.optTensor(3), w = try call.optTensor(4), b = try call.optTensor(5)
                let o = try call.options(6, [Option("training", \.training, Read.boolean)] + BatchNormOptions.declared, BatchNormOptions())
                return try Tensor.batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b,
                                            training: o.training, momentum: o.momentum, eps: o.eps)
            },
            function("linear", arity: 3, "nn.F.linear(x, w [, b])\nx·wᵀ + b over the last dimension; w (out, in), b (out).") { call in
                let x = try call.tensor(1), w = try call.tensor(2), b = try call.optTensor(3)
                guard w.rank == 2 else { throw call.error(2, "expected a 2-d weight (out, in), got shape \(w.shape)") }
                guard x.rank >= 1, x.shape.last == w.shape[1] else {
                    throw call.error("input has \(x.shape.last ?? 0) features in its last dimension (shape \(x.shape)), weight \(w.shape) expects \(w.shape[1])")
                }
                if let b = b, b.shape != [w.shape[0]] { throw call.error(3, "expected a bias of shape [\(w.shape[0])], got \(b.shape)") }
                let y = try x.matmul(w.transpose(0, 1))
                return try b.map { try y + $0 } ?? y
            },
            function("relu", arity: 1, "nn.F.relu(x)\nmax(x, 0) elementwise.") { call in try call.tensor(1).relu() },
            function("leaky_relu", arity: 2, "nn.F.leaky_relu(x [, slope=0.01])\nx if x >= 0, else slope*x.") { call in
                try call.tensor(1).leakyRelu(try call.optFloat(2, 0.01))
            },
            function("sigmoid", arity: 1, "nn.F.sigmoid(x)\n1 / (1 + e^-x) elementwise.") { call in try call.tensor(1).sigmoid() },
            function("tanh", arity: 1, "nn.F.tanh(x)\nHyperbolic tangent elementwise.") { call in try call.tensor(1).tanh() },
            function("softmax", arity: 2, "nn.F.softmax(x, d)\nSoftmax along dimension d (1-based; -1 the last).") { call in
                let x = try call.tensor(1)
                return try x.softmax(dim: try call.dimension(2, rank: x.rank))
            },
            function("log_softmax", arity: 2, "nn.F.log_softmax(x, d)\nLog-softmax along dimension d (numerically stable).") { call in
                let x = try call.tensor(1)
                return try x.logSoftmax(dim: try call.dimension(2, rank: x.rank))
            },
            function("dropout", arity: 3, """
                nn.F.dropout(x [, p=0.5] [, {training=true}])
                Zeroes each element with probability p and scales the rest by 1/(1-p) (global generator,
                mer.seed); x itself when training is false or p is 0.
                """) { call in
                let x = try call.tensor(1)
                let p = call.isNil(2) ? 0.5 : try call.float(2, in: 0...1, what: "a probability in [0, 1]")
                guard try call.option(3, "training", Read.boolean) ?? true, p > 0 else { return x }
                if p == 1 { return try x * Tensor.zeros(x.shape) }
                return try x * Tensor.rand(x.shape).ge(p).multiplied(by: 1 / (1 - p))
            },
            function("flatten", arity: 2, "nn.F.flatten(x [, d=2])\nMerges dimensions d (1-based) to the last into one.") { call in
                let x = try call.tensor(1)
                return try x.flatten(from: call.isNil(2) ? min(1, max(x.rank - 1, 0)) : try call.dimension(2, rank: x.rank))
            },
        ])
    }
}
