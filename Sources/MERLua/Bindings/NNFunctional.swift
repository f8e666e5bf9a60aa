import CLua
import CLuaBridge
import MERNN
import MERTensor

/// `nn.F`: the functional forms of the layers (PyTorch's `torch.nn.functional`), for Lua
/// modules that hold their own weights. Dimensions are 1-based.
extension LuaVM {
    /// Pushes the `nn.F` table.
    func installFunctional() {
        lua_createtable(L, 0, 16)
        func function(_ key: String, doc: String, arity: Int32, _ body: @escaping (LuaCall) throws -> Tensor) {
            setFunction(key, "nn.F.\(key)", doc: doc) { call in
                try call.expectAtMost(arity)
                call.push(try body(call))
                return 1
            }
        }
        function("conv2d", doc: """
            nn.F.conv2d(x, w [, b] [, {stride=1, padding=0, dilation=1, groups=1}])
            2-d convolution of x (N, C, H, W) with weight w (out, C/groups, kh, kw) and optional bias b (out).
            """, arity: 4) { call in
            let x = try call.tensor(1), w = try call.tensor(2), b = try call.optTensor(3)
            let o = try call.options(4, allowed: ["stride", "padding", "dilation", "groups"])
            return try Tensor.conv2d(x, w, bias: b,
                                     stride: try o?.value("stride") { try call.pair($0) } ?? (1, 1),
                                     padding: try o?.value("padding") { try call.pair($0, minimum: 0) } ?? (0, 0),
                                     dilation: try o?.value("dilation") { try call.pair($0) } ?? (1, 1),
                                     groups: try o?.value("groups") { try call.positiveInteger($0) } ?? 1)
        }
        function("max_pool2d", doc: """
            nn.F.max_pool2d(x, k [, {stride=k, padding=0, ceil_mode=false}])
            Max pooling of x (N, C, H, W); k, stride, padding: a number or {h, w}.
            """, arity: 3) { call in
            let x = try call.tensor(1)
            let (k, s, p, ceil, _) = try call.poolArguments(2, 3, countIncludePad: false)
            return try x.maxPool2d(kernel: k, stride: s, padding: p, ceilMode: ceil)
        }
        function("avg_pool2d", doc: """
            nn.F.avg_pool2d(x, k [, {stride=k, padding=0, ceil_mode=false, count_include_pad=true}])
            Average pooling of x (N, C, H, W); k, stride, padding: a number or {h, w}.
            """, arity: 3) { call in
            let x = try call.tensor(1)
            let (k, s, p, ceil, cip) = try call.poolArguments(2, 3, countIncludePad: true)
            return try x.avgPool2d(kernel: k, stride: s, padding: p, ceilMode: ceil, countIncludePad: cip)
        }
        function("adaptive_avg_pool2d", doc: "nn.F.adaptive_avg_pool2d(x, s)\nAverage pooling of x (N, C, H, W) to s×s (or {h, w}).", arity: 2) { call in
            try call.tensor(1).adaptiveAvgPool2d(try call.pair(2))
        }
        function("adaptive_max_pool2d", doc: "nn.F.adaptive_max_pool2d(x, s)\nMax pooling of x (N, C, H, W) to s×s (or {h, w}).", arity: 2) { call in
            try call.tensor(1).adaptiveMaxPool2d(try call.pair(2))
        }
        function("batch_norm", doc: """
            nn.F.batch_norm(x, running_mean, running_var [, weight, bias] [, {training=false, momentum=0.1, eps=1e-5}])
            Batch normalisation of x (N, C[, H, W]) over dimension 2. Training: batch statistics, and the
            running buffers (if given) are updated in place; otherwise the running statistics normalise.
            """, arity: 6) { call in
            let x = try call.tensor(1)
            let rm = try call.optTensor(2), rv = try call.optTensor(3)
            let w = try call.optTensor(4), b = try call.optTensor(5)
            let o = try call.options(6, allowed: ["training", "momentum", "eps"])
            let momentum = try o?.float("momentum") ?? 0.1
            let eps = try o?.float("eps") ?? 1e-5
            guard momentum >= 0 && momentum <= 1 else { throw call.error(6, "option 'momentum': expected a number in [0, 1], got \(momentum)") }
            return try Tensor.batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b,
                                        training: try o?.boolean("training") ?? false, momentum: momentum, eps: eps)
        }
        function("linear", doc: "nn.F.linear(x, w [, b])\nx·wᵀ + b over the last dimension; w (out, in), b (out).", arity: 3) { call in
            let x = try call.tensor(1), w = try call.tensor(2), b = try call.optTensor(3)
            guard w.rank == 2 else { throw call.error(2, "expected a 2-d weight (out, in), got shape \(w.shape)") }
            guard x.rank >= 1, x.shape.last == w.shape[1] else {
                throw call.error("input has \(x.shape.last ?? 0) features in its last dimension (shape \(x.shape)), weight \(w.shape) expects \(w.shape[1])")
            }
            if let b = b, b.shape != [w.shape[0]] { throw call.error(3, "expected a bias of shape [\(w.shape[0])], got \(b.shape)") }
            let y = try x.matmul(w.transpose(0, 1))
            return try b.map { try y + $0 } ?? y
        }
        function("relu", doc: "nn.F.relu(x)\nmax(x, 0) elementwise.", arity: 1) { call in try call.tensor(1).relu() }
        function("leaky_relu", doc: "nn.F.leaky_relu(x [, slope=0.01])\nx if x >= 0, else slope*x.", arity: 2) { call in
            try call.tensor(1).leakyRelu(try call.optFloat(2, 0.01))
        }
        function("sigmoid", doc: "nn.F.sigmoid(x)\n1 / (1 + e^-x) elementwise.", arity: 1) { call in try call.tensor(1).sigmoid() }
        function("tanh", doc: "nn.F.tanh(x)\nHyperbolic tangent elementwise.", arity: 1) { call in try call.tensor(1).tanh() }
        function("softmax", doc: "nn.F.softmax(x, d)\nSoftmax along dimension d (1-based; -1 the last).", arity: 2) { call in
            let x = try call.tensor(1)
            return try x.softmax(dim: try call.dimension(2, rank: x.rank))
        }
        function("log_softmax", doc: "nn.F.log_softmax(x, d)\nLog-softmax along dimension d (numerically stable).", arity: 2) { call in
            let x = try call.tensor(1)
            return try x.logSoftmax(dim: try call.dimension(2, rank: x.rank))
        }
        function("dropout", doc: """
            nn.F.dropout(x [, p=0.5] [, {training=true}])
            Zeroes each element with probability p and scales the rest by 1/(1-p) (global generator,
            mer.seed); x itself when training is false or p is 0.
            """, arity: 3) { call in
            let x = try call.tensor(1)
            let p = try call.optFloat(2, 0.5)
            guard p >= 0 && p <= 1 else { throw call.error(2, "expected a probability in [0, 1], got \(p)") }
            let training = try call.options(3, allowed: ["training"])?.boolean("training") ?? true
            guard training && p > 0 else { return x }
            if p == 1 { return try x * Tensor.zeros(x.shape) }
            let mask = try Tensor.rand(x.shape).ge(p).multiplied(by: 1 / (1 - p))
            return try x * mask
        }
        function("flatten", doc: "nn.F.flatten(x [, d=2])\nMerges dimensions d (1-based) to the last into one.", arity: 2) { call in
            let x = try call.tensor(1)
            return try x.flatten(from: call.isNil(2) ? min(1, max(x.rank - 1, 0)) : try call.dimension(2, rank: x.rank))
        }
    }
}
