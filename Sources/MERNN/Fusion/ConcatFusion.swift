import MERTensor

/// The no-attention fusion baseline (DBFEM without CAFFM): the local map is adaptively
/// average-pooled to the global map's grid and the two are concatenated on channels,
///
///     y = [g ; pool_{Hg×Wg}(l)]    (N, cg + cl, Hg, Wg)
///
/// No parameters.
public final class ConcatFusion: Module {
    public let globalChannels, localChannels: Int
    public var outChannels: Int { globalChannels + localChannels }

    public init(_ globalChannels: Int, _ localChannels: Int) throws {
        guard globalChannels > 0, localChannels > 0 else {
            throw TensorError("ConcatFusion: channel counts must be positive, got global \(globalChannels), local \(localChannels)")
        }
        self.globalChannels = globalChannels; self.localChannels = localChannels
        super.init()
    }

    public override var inputCount: Int { 2 }

    public override func forward(_ inputs: [Tensor]) throws -> Tensor {
        guard inputs.count == 2 else { throw TensorError("ConcatFusion: forward takes 2 inputs (global, local), got \(inputs.count)") }
        let g = inputs[0]
        var l = inputs[1]
        guard g.rank == 4, g.shape[1] == globalChannels, l.rank == 4, l.shape[1] == localChannels, l.shape[0] == g.shape[0] else {
            throw TensorError("ConcatFusion: expected (N, \(globalChannels), H, W) and (N, \(localChannels), H', W'), got \(g.shape) and \(l.shape)")
        }
        if l.shape[2] != g.shape[2] || l.shape[3] != g.shape[3] { l = try l.adaptiveAvgPool2d((g.shape[2], g.shape[3])) }
        return try Tensor.cat([g, l], dim: 1)
    }

    public override var extraDescription: String { "global=\(globalChannels), local=\(localChannels)" }
}
