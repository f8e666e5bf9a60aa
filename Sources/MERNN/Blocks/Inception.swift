import MERTensor

/// torchvision's `BasicConv2d` of Inception-v3 (Szegedy et al., "Rethinking the Inception
/// Architecture", CVPR 2016): conv (no bias) → BN(eps 0.001) → ReLU. Keys `conv.weight`, `bn.*`.
public final class BasicConv2d: Module {
    public let conv: Conv2d
    public let bn: BatchNorm2d
    public var outChannels: Int { conv.outChannels }

    public init(_ cin: Int, _ cout: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                generator: Generator = .global) throws {
        conv = try Conv2d(cin, cout, kernel: kernel, stride: stride, padding: padding, bias: false, generator: generator)
        bn = try BatchNorm2d(cout, eps: 0.001)
        super.init()
        registerModule("conv", conv)
        registerModule("bn", bn)
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try bn.forward(convolving: x, with: conv, activation: .relu) }
    public override var extraDescription: String { conv.extraDescription }
}

/// Inception-A (torchvision `InceptionA`): four parallel branches on the same grid,
/// concatenated on channels:
///
///     1×1(64) | 1×1(48) → 5×5(64) | 1×1(64) → 3×3(96) → 3×3(96) | avgpool3×3/1 → 1×1(pool)
///
/// (widths before the multiplier). Keys: `branch1x1`, `branch5x5_1`, `branch5x5_2`,
/// `branch3x3dbl_1..3`, `branch_pool`.
public final class InceptionA: Module {
    public let outChannels: Int
    let b1, b5a, b5b, b3a, b3b, b3c, bp: BasicConv2d

    public init(_ cin: Int, poolFeatures: Int, width: Float = 1, generator: Generator = .global) throws {
        let r = { (c: Int) in InceptionBranch.scaled(c, width) }
        b1 = try BasicConv2d(cin, r(64), kernel: (1, 1), generator: generator)
        b5a = try BasicConv2d(cin, r(48), kernel: (1, 1), generator: generator)
        b5b = try BasicConv2d(r(48), r(64), kernel: (5, 5), padding: (2, 2), generator: generator)
        b3a = try BasicConv2d(cin, r(64), kernel: (1, 1), generator: generator)
        b3b = try BasicConv2d(r(64), r(96), kernel: (3, 3), padding: (1, 1), generator: generator)
        b3c = try BasicConv2d(r(96), r(96), kernel: (3, 3), padding: (1, 1), generator: generator)
        bp = try BasicConv2d(cin, r(poolFeatures), kernel: (1, 1), generator: generator)
        outChannels = r(64) + r(64) + r(96) + r(poolFeatures)
        super.init()
        for (n, m) in [("branch1x1", b1), ("branch5x5_1", b5a), ("branch5x5_2", b5b), ("branch3x3dbl_1", b3a),
                       ("branch3x3dbl_2", b3b), ("branch3x3dbl_3", b3c), ("branch_pool", bp)] { registerModule(n, m) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.cat([b1.forward(x), b5b.forward(b5a.forward(x)), b3c.forward(b3b.forward(b3a.forward(x))),
                        bp.forward(x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1)))], dim: 1)
    }
}

/// Grid reduction (torchvision `InceptionB`): halves the grid with three parallel paths,
///
///     3×3/2(384) | 1×1(64) → 3×3(96) → 3×3/2(96) | maxpool3×3/2
///
/// Keys: `branch3x3`, `branch3x3dbl_1..3`.
public final class InceptionReduction: Module {
    public let outChannels: Int
    let b3, d1, d2, d3: BasicConv2d

    public init(_ cin: Int, width: Float = 1, generator: Generator = .global) throws {
        let r = { (c: Int) in InceptionBranch.scaled(c, width) }
        b3 = try BasicConv2d(cin, r(384), kernel: (3, 3), stride: (2, 2), generator: generator)
        d1 = try BasicConv2d(cin, r(64), kernel: (1, 1), generator: generator)
        d2 = try BasicConv2d(r(64), r(96), kernel: (3, 3), padding: (1, 1), generator: generator)
        d3 = try BasicConv2d(r(96), r(96), kernel: (3, 3), stride: (2, 2), generator: generator)
        outChannels = r(384) + r(96) + cin
        super.init()
        for (n, m) in [("branch3x3", b3), ("branch3x3dbl_1", d1), ("branch3x3dbl_2", d2), ("branch3x3dbl_3", d3)] { registerModule(n, m) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.cat([b3.forward(x), d3.forward(d2.forward(d1.forward(x))),
                        x.maxPool2d(kernel: (3, 3), stride: (2, 2))], dim: 1)
    }
}

/// Inception-B of the paper = torchvision's `InceptionC` (17×17 module of Inception-v3):
/// n×n convolutions factorised into 1×7 then 7×1 (fewer weights, same receptive field),
///
///     1×1(192) | 1×1(c7) → 1×7(c7) → 7×1(192) | 1×1(c7) → 7×1 → 1×7 → 7×1 → 1×7(192) | avgpool3×3/1 → 1×1(192)
///
/// with c7 = 128. Keys: `branch1x1`, `branch7x7_1..3`, `branch7x7dbl_1..5`, `branch_pool`.
public final class InceptionB: Module {
    public let outChannels: Int
    let b1, s1, s2, s3, d1, d2, d3, d4, d5, bp: BasicConv2d

    public init(_ cin: Int, channels7x7: Int = 128, width: Float = 1, generator: Generator = .global) throws {
        let r = { (c: Int) in InceptionBranch.scaled(c, width) }
        let c7 = r(channels7x7), c192 = r(192)
        func row(_ a: Int, _ b: Int) throws -> BasicConv2d { try BasicConv2d(a, b, kernel: (1, 7), padding: (0, 3), generator: generator) }
        func col(_ a: Int, _ b: Int) throws -> BasicConv2d { try BasicConv2d(a, b, kernel: (7, 1), padding: (3, 0), generator: generator) }
        b1 = try BasicConv2d(cin, c192, kernel: (1, 1), generator: generator)
        s1 = try BasicConv2d(cin, c7, kernel: (1, 1), generator: generator)
        s2 = try row(c7, c7)
        s3 = try col(c7, c192)
        d1 = try BasicConv2d(cin, c7, kernel: (1, 1), generator: generator)
        d2 = try col(c7, c7)
        d3 = try row(c7, c7)
        d4 = try col(c7, c7)
        d5 = try row(c7, c192)
        bp = try BasicConv2d(cin, c192, kernel: (1, 1), generator: generator)
        outChannels = 4 * c192
        super.init()
        for (n, m) in [("branch1x1", b1), ("branch7x7_1", s1), ("branch7x7_2", s2), ("branch7x7_3", s3),
                       ("branch7x7dbl_1", d1), ("branch7x7dbl_2", d2), ("branch7x7dbl_3", d3), ("branch7x7dbl_4", d4),
                       ("branch7x7dbl_5", d5), ("branch_pool", bp)] { registerModule(n, m) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.cat([b1.forward(x), s3.forward(s2.forward(s1.forward(x))),
                        d5.forward(d4.forward(d3.forward(d2.forward(d1.forward(x))))),
                        bp.forward(x.avgPool2d(kernel: (3, 3), stride: (1, 1), padding: (1, 1)))], dim: 1)
    }
}

/// The local branch of DBFEM: an Inception-v3-style feature extractor (ARCHITECTURE.md),
///
///     stem   Conv2d_1a_3x3 (3×3/2, pad 1, 32) → Conv2d_2a_3x3 (3×3, pad 1, 64) → maxpool1 3×3/2
///            → Conv2d_3b_1x1 (80) → Conv2d_4a_3x3 (3×3, pad 1, 192)
///     Mixed_5b, Mixed_5c   Inception-A with pool features 32, 64
///     Mixed_6a             grid reduction
///     Mixed_6b             Inception-B (factorised 1×7 / 7×1, c7 = 128)
///
/// Channel widths are torchvision's times `width` (rounded, at least 1). The stem convs are
/// padded (unlike torchvision's 299-pixel net) so small face crops keep some grid:
/// 112 → 56 → 27 → 13×13 out, 64 → 32 → 15 → 7×7 out; inputs down to 13×13 give ≥ 1×1.
/// Names follow torchvision's `inception_v3` (`Conv2d_1a_3x3.conv.weight`, `Mixed_5b.branch1x1.bn.*`, …).
public final class InceptionBranch: Module {
    public let inChannels: Int
    public let width: Float
    public let outChannels: Int

    static func scaled(_ c: Int, _ width: Float) -> Int { Swift.max(1, Int((Float(c) * width).rounded())) }

    public init(_ inChannels: Int, width: Float = 1, generator: Generator = .global) throws {
        guard inChannels > 0 else { throw TensorError("InceptionBranch: in_channels must be positive, got \(inChannels)") }
        guard width > 0, width.isFinite else { throw TensorError("InceptionBranch: width multiplier must be positive, got \(width)") }
        self.inChannels = inChannels; self.width = width
        let r = { (c: Int) in Self.scaled(c, width) }
        let a1 = try InceptionA(r(192), poolFeatures: 32, width: width, generator: generator)
        let a2 = try InceptionA(a1.outChannels, poolFeatures: 64, width: width, generator: generator)
        let red = try InceptionReduction(a2.outChannels, width: width, generator: generator)
        let b = try InceptionB(red.outChannels, width: width, generator: generator)
        outChannels = b.outChannels
        super.init()
        registerModule("Conv2d_1a_3x3", try BasicConv2d(inChannels, r(32), kernel: (3, 3), stride: (2, 2), padding: (1, 1), generator: generator))
        registerModule("Conv2d_2a_3x3", try BasicConv2d(r(32), r(64), kernel: (3, 3), padding: (1, 1), generator: generator))
        registerModule("maxpool1", MaxPool2d(kernel: (3, 3), stride: (2, 2)))
        registerModule("Conv2d_3b_1x1", try BasicConv2d(r(64), r(80), kernel: (1, 1), generator: generator))
        registerModule("Conv2d_4a_3x3", try BasicConv2d(r(80), r(192), kernel: (3, 3), padding: (1, 1), generator: generator))
        registerModule("Mixed_5b", a1)
        registerModule("Mixed_5c", a2)
        registerModule("Mixed_6a", red)
        registerModule("Mixed_6b", b)
    }

    /// Output grid side for an input side `s` (floor arithmetic of the layers above).
    public static func outputSize(_ s: Int) -> Int {
        let a = (s + 2 - 3) / 2 + 1          // 3×3/2 pad 1
        let b = (a - 3) / 2 + 1              // maxpool 3×3/2
        return (b - 3) / 2 + 1               // reduction 3×3/2
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw TensorError("InceptionBranch: expected (N, \(inChannels), H, W) input, got shape \(x.shape)")
        }
        guard x.shape[2] >= 13, x.shape[3] >= 13 else {
            throw TensorError("InceptionBranch: input must be at least 13×13 (two stride-2 stages and a 3×3/2 reduction), got \(x.shape[2])×\(x.shape[3])")
        }
        var y = x
        for (_, m) in children { y = try m.forward(y) }
        return y
    }

    public override var extraDescription: String { "\(inChannels), width=\(width), out=\(outChannels)" }
}
