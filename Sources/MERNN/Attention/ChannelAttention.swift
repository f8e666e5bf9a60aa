import MERTensor

/// CBAM's channel attention (Woo et al., "CBAM: Convolutional Block Attention Module",
/// ECCV 2018, eq. 2):
///
///     M_c(x) = σ( MLP(avgpool(x)) + MLP(maxpool(x)) ),   output x ⊙ M_c(x)
///
/// with ONE MLP shared by both pooled descriptors: Linear(c, c/r) → ReLU → Linear(c/r, c),
/// both with bias. The hidden width is c/r rounded down, at least 1 (so tiny test
/// models still work). State-dict keys: `mlp.0.weight`, `mlp.0.bias`, `mlp.2.weight`, …
public final class ChannelAttention: Module {
    public let channels, reduction, hidden: Int
    public let mlp: Sequential

    public init(_ channels: Int, reduction: Int = 16, generator: Generator = .global) throws {
        guard channels > 0 else { throw TensorError("ChannelAttention: channels must be positive, got \(channels)") }
        guard reduction > 0 else { throw TensorError("ChannelAttention: reduction must be positive, got \(reduction)") }
        self.channels = channels; self.reduction = reduction
        hidden = Swift.max(1, channels / reduction)
        mlp = Sequential([try Linear(channels, hidden, generator: generator), ReLU(),
                          try Linear(hidden, channels, generator: generator)])
        super.init()
        registerModule("mlp", mlp)
    }

    /// The attention weights M_c(x), shape (N, C, 1, 1).
    public func weights(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == channels else {
            throw TensorError("ChannelAttention: expected (N, \(channels), H, W) input, got shape \(x.shape)")
        }
        let (n, c) = (x.shape[0], x.shape[1])
        let flat = try x.reshape([n, c, x.shape[2] * x.shape[3]])
        let avg = try flat.mean(dim: 2), mx = try flat.max(dim: 2).values
        // One MLP pass over both descriptors stacked on the batch axis: half the layer
        // calls (and tape nodes) of two passes; the rows are independent so it is the same.
        let both = try mlp.forward(Tensor.cat([avg, mx], dim: 0))
        let logits = try both.narrow(0, 0, n) + both.narrow(0, n, n)
        return try logits.sigmoid().reshape([n, c, 1, 1])
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try x * weights(x) }

    public override var extraDescription: String { "\(channels), reduction=\(reduction)" }
}
