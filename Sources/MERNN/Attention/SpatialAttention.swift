import MERTensor

/// CBAM's spatial attention (Woo et al., ECCV 2018, eq. 3, with the BatchNorm of the
/// authors' code):
///
///     M_s(x) = σ( BN( conv_k×k( [max_c x ; mean_c x] ) ) ),   output x ⊙ M_s(x)
///
/// The two channel-pooled maps (max first, then mean, as the reference code stacks them)
/// go through a k×k conv (2 → 1, no bias: the BN that follows has its own shift) with
/// padding k/2 so the map keeps its size. Keys: `conv.weight`, `bn.weight`, `bn.running_mean`, …
public final class SpatialAttention: Module {
    public let kernel: Int
    public let conv: Conv2d
    public let bn: BatchNorm2d

    public init(kernel: Int = 7, generator: Generator = .global) throws {
        guard kernel > 0, kernel % 2 == 1 else { throw TensorError("SpatialAttention: kernel must be odd and positive, got \(kernel)") }
        self.kernel = kernel
        conv = try Conv2d(2, 1, kernel: (kernel, kernel), padding: (kernel / 2, kernel / 2), bias: false, generator: generator)
        bn = try BatchNorm2d(1)
        super.init()
        registerModule("conv", conv)
        registerModule("bn", bn)
    }

    /// The attention map M_s(x), shape (N, 1, H, W).
    public func weights(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4 else { throw TensorError("SpatialAttention: expected (N, C, H, W) input, got shape \(x.shape)") }
        let pooled = try Tensor.cat([x.max(dim: 1, keepDim: true).values, x.mean(dim: 1, keepDim: true)], dim: 1)
        return try bn.forward(convolving: pooled, with: conv).sigmoid()
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try x * weights(x) }

    public override var extraDescription: String { "kernel=\(kernel)x\(kernel)" }
}
