import MERTensor

/// Convolutional Block Attention Module (Woo et al., ECCV 2018): channel attention, then
/// spatial attention on the channel-refined map (the sequential channel-first order the
/// paper found best):
///
///     x' = x ⊙ M_c(x),   y = x' ⊙ M_s(x')
///
/// Keys: `ca.mlp.0.weight`, …, `sa.conv.weight`, `sa.bn.running_mean`, …
public final class CBAM: Module {
    public let channels: Int
    public let ca: ChannelAttention
    public let sa: SpatialAttention

    public init(_ channels: Int, reduction: Int = 16, kernel: Int = 7, generator: Generator = .global) throws {
        self.channels = channels
        ca = try ChannelAttention(channels, reduction: reduction, generator: generator)
        sa = try SpatialAttention(kernel: kernel, generator: generator)
        super.init()
        registerModule("ca", ca)
        registerModule("sa", sa)
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try sa.forward(ca.forward(x)) }

    public override var extraDescription: String { "\(channels)" }
}
