import MERTensor

/// torchvision's `BasicBlock` (He et al., "Deep Residual Learning", CVPR 2016):
///
///     y = ReLU( BN(conv3×3(ReLU(BN(conv3×3_s(x))))) + downsample(x) )
///
/// `downsample` (1×1 conv stride s + BN) only when the stride or width changes, else the
/// identity. Keys as torchvision: `conv1.weight`, `bn1.*`, `conv2.weight`, `bn2.*`,
/// `downsample.0.weight`, `downsample.1.*`.
public final class BasicBlock: Module {
    public let inChannels, outChannels, stride: Int
    public let conv1, conv2: Conv2d
    public let bn1, bn2: BatchNorm2d
    public let downsample: Sequential?

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, generator: Generator = .global) throws {
        self.inChannels = inChannels; self.outChannels = outChannels; self.stride = stride
        conv1 = try Conv2d(inChannels, outChannels, kernel: (3, 3), stride: (stride, stride), padding: (1, 1), bias: false, generator: generator)
        bn1 = try BatchNorm2d(outChannels)
        conv2 = try Conv2d(outChannels, outChannels, kernel: (3, 3), padding: (1, 1), bias: false, generator: generator)
        bn2 = try BatchNorm2d(outChannels)
        downsample = stride != 1 || inChannels != outChannels
            ? Sequential([try Conv2d(inChannels, outChannels, kernel: (1, 1), stride: (stride, stride), bias: false, generator: generator),
                          try BatchNorm2d(outChannels)])
            : nil
        super.init()
        registerModule("conv1", conv1)
        registerModule("bn1", bn1)
        registerModule("relu", ReLU())
        registerModule("conv2", conv2)
        registerModule("bn2", bn2)
        if let d = downsample { registerModule("downsample", d) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        // relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut): the add and the last ReLU run in
        // bn2's pass, and in inference each BN is folded into its convolution.
        let h = try bn1.forward(convolving: x, with: conv1, activation: .relu)
        return try bn2.forward(convolving: h, with: conv2, residual: downsample?.forward(x) ?? x, activation: .relu)
    }

    public override var extraDescription: String { "\(inChannels), \(outChannels)" + (stride != 1 ? ", stride=\(stride)" : "") }
}

/// torchvision's BasicBlock ResNet-18/34 as a feature extractor (no avgpool, no fc):
///
///     stem: conv7×7/2 (pad 3, no bias) → BN → ReLU → maxpool3×3/2 (pad 1)
///     layer1..4: [2,2,2,2] (18) or [3,4,6,3] (34) BasicBlocks, widths 64-128-256-512
///                (or `widths`), strides 1,2,2,2
///
/// An H×W input gives (N, widths[3], ⌈H/32⌉-ish, …): 112 → 4×4, 64 → 2×2.
/// Keys as torchvision: `conv1.weight`, `bn1.*`, `layer1.0.conv1.weight`,
/// `layer2.0.downsample.0.weight`, … (torchvision's minus `fc.*`).
public final class ResNet: Module {
    public let depth, inChannels: Int
    public let widths: [Int]
    public var outChannels: Int { widths[3] }

    public static func layerCounts(depth: Int) throws -> [Int] {
        switch depth {
        case 18: return [2, 2, 2, 2]
        case 34: return [3, 4, 6, 3]
        default: throw TensorError("ResNet: depth must be 18 or 34 (BasicBlock variants), got \(depth)")
        }
    }

    /// `widths`: the four stage widths (the stem uses the first), default torchvision's.
    /// `widthScale` multiplies them (rounded, at least 1): 0.5 gives 32-64-128-256.
    public init(depth: Int = 18, _ inChannels: Int, widths: [Int] = [64, 128, 256, 512], widthScale: Float = 1,
                generator: Generator = .global) throws {
        let counts = try Self.layerCounts(depth: depth)
        guard inChannels > 0 else { throw TensorError("ResNet: in_channels must be positive, got \(inChannels)") }
        guard widths.count == 4, widths.allSatisfy({ $0 > 0 }) else {
            throw TensorError("ResNet: widths must be 4 positive channel counts (one per stage), got \(widths)")
        }
        guard widthScale > 0, widthScale.isFinite else { throw TensorError("ResNet: width scale must be positive, got \(widthScale)") }
        self.depth = depth; self.inChannels = inChannels
        self.widths = widths.map { Swift.max(1, Int((Float($0) * widthScale).rounded())) }
        super.init()
        let stem = self.widths[0]
        registerModule("conv1", try Conv2d(inChannels, stem, kernel: (7, 7), stride: (2, 2), padding: (3, 3), bias: false, generator: generator))
        registerModule("bn1", try BatchNorm2d(stem))
        registerModule("relu", ReLU())
        registerModule("maxpool", MaxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)))
        var c = stem
        for (i, (n, w)) in zip(counts, self.widths).enumerated() {
            var blocks: [Module] = []
            for b in 0..<n {
                blocks.append(try BasicBlock(c, w, stride: b == 0 && i > 0 ? 2 : 1, generator: generator))
                c = w
            }
            registerModule("layer\(i + 1)", Sequential(blocks))
        }
        try resetConvolutionsKaimingFanOut(self, generator: generator)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw TensorError("ResNet: expected (N, \(inChannels), H, W) input, got shape \(x.shape)")
        }
        return try Sequential.chain(children.map { $0.module }, [x])   // with the stem's conv → BN → ReLU fused
    }

    public override var typeName: String { "ResNet\(depth)" }
    public override var extraDescription: String { "\(inChannels), widths=\(widths)" }
}
