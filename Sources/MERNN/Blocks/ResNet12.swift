import MERTensor

/// One ResNet12 residual block (the few-shot backbone of MetaOptNet / FEAT, Lee et al.
/// CVPR 2019):
///
///     body  = conv3×3 → BN → LReLU(0.1) → conv3×3 → BN → LReLU(0.1) → conv3×3 → BN
///     short = conv1×1 → BN
///     y     = maxpool2×2( LReLU_0.1( body(x) + short(x) ) )
///
/// Convs have no bias (each is followed by BN). The 2×2 pool halves the grid (floor).
/// Keys: `body.0.weight`, `body.1.running_mean`, …, `short.0.weight`, `short.1.*`.
public final class ResNet12Block: Module {
    public let inChannels, outChannels: Int
    public let body, short: Sequential
    static let slope: Float = 0.1

    public init(_ inChannels: Int, _ outChannels: Int, generator: Generator = .global) throws {
        self.inChannels = inChannels; self.outChannels = outChannels
        func conv3(_ ci: Int) throws -> Conv2d {
            try Conv2d(ci, outChannels, kernel: (3, 3), padding: (1, 1), bias: false, generator: generator)
        }
        body = Sequential([try conv3(inChannels), try BatchNorm2d(outChannels), LeakyReLU(Self.slope),
                           try conv3(outChannels), try BatchNorm2d(outChannels), LeakyReLU(Self.slope),
                           try conv3(outChannels), try BatchNorm2d(outChannels)])
        short = Sequential([try Conv2d(inChannels, outChannels, kernel: (1, 1), bias: false, generator: generator),
                            try BatchNorm2d(outChannels)])
        super.init()
        registerModule("body", body)
        registerModule("short", short)
        try resetConvolutionsKaimingFanOut(self, generator: generator)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[2] >= 2, x.shape[3] >= 2 else {
            throw TensorError("ResNet12Block: needs an (N, C, H, W) input at least 2×2 (it ends with a 2×2 max-pool), got shape \(x.shape)")
        }
        // LReLU(body(x) + short(x)): the add and the activation run in body's last BN pass.
        return try body.forward([x], residual: short.forward(x), activation: .leakyRelu(Self.slope)).maxPool2d(kernel: (2, 2))
    }

    public override var extraDescription: String { "\(inChannels), \(outChannels)" }
}

/// ResNet12 without a stem: one `ResNet12Block` per width, each halving the grid, so an
/// H×W input gives an (N, widths.last, H/2^k, W/2^k) map (k = widths.count, default 4:
/// 112 → 7, 64 → 4). Keys: `blocks.0.body.0.weight`, `blocks.3.short.1.running_var`, …
public final class ResNet12: Module {
    public let inChannels: Int
    public let widths: [Int]
    public let blocks: Sequential
    public var outChannels: Int { widths.last! }

    public init(_ inChannels: Int, widths: [Int] = [64, 160, 320, 640], generator: Generator = .global) throws {
        guard inChannels > 0 else { throw TensorError("ResNet12: in_channels must be positive, got \(inChannels)") }
        guard !widths.isEmpty, widths.allSatisfy({ $0 > 0 }) else {
            throw TensorError("ResNet12: widths must be a non-empty list of positive channel counts, got \(widths)")
        }
        self.inChannels = inChannels; self.widths = widths
        var c = inChannels
        var list: [Module] = []
        for w in widths { list.append(try ResNet12Block(c, w, generator: generator)); c = w }
        blocks = Sequential(list)
        super.init()
        registerModule("blocks", blocks)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw TensorError("ResNet12: expected (N, \(inChannels), H, W) input, got shape \(x.shape)")
        }
        let need = 1 << widths.count
        guard x.shape[2] >= need, x.shape[3] >= need else {
            throw TensorError("ResNet12: \(widths.count) blocks halve the grid \(widths.count) times, so the input must be at least \(need)×\(need), got \(x.shape[2])×\(x.shape[3])")
        }
        return try blocks.forward(x)
    }

    public override var extraDescription: String { "\(inChannels), widths=\(widths)" }
}

/// Re-initialises every Conv2d weight under `root` with `kaiming_normal_(mode="fan_out",
/// nonlinearity="relu")`, as torchvision's ResNet and the ResNet12 reference code do (the
/// PyTorch default uniform init is too small for deep stacks without it). BN stays 1 / 0.
func resetConvolutionsKaimingFanOut(_ root: Module, generator: Generator) throws {
    try GradMode.disabled {
        for (_, m) in root.namedModules() {
            guard let conv = m as? Conv2d else { continue }
            let s = conv.weight.shape
            let w = try Init.kaimingNormalFanOut(s, fanOut: s[0] * s[2] * s[3], generator: generator)
            try conv.weight.copy(from: w)
        }
    }
}
