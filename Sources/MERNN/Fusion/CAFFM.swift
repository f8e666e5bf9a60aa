import MERTensor

/// Channel–spatial attention feature fusion of the seed paper's DBFEM (ARCHITECTURE.md,
/// "CAFFM"). Inputs: the global map g (N, cg, Hg, Wg) and the local map l (N, cl, Hl, Wl).
///
///     g' = ReLU(BN(conv1×1(g)))                       (N, c, Hg, Wg)
///     l' = pool_{Hg×Wg}(ReLU(BN(conv1×1(l))))         adaptive average pool to g's grid
///     u  = [g' ; l']                                  (N, 2c, Hg, Wg)
///     a_c = MLP(avgpool u) + MLP(maxpool u)           shared MLP 2c → 2c/r → c   (N, c, 1, 1)
///     a_s = conv7×7([mean_c g', max_c g', mean_c l', max_c l'])   4 → 1, no bias (N, 1, H, W)
///     w  = σ(a_c + a_s)                               broadcast to (N, c, H, W)
///     y  = w ⊙ g' + (1 − w) ⊙ l'
///
/// So each position and channel picks a convex mix of the two branches. Projection
/// happens before pooling so the pool runs on c channels rather than cl.
/// Keys: `proj_g.0.weight` (conv), `proj_g.1.*` (BN), `proj_l.*`, `mlp.0.*`, `mlp.2.*`, `conv.weight`.
public final class CAFFM: Module {
    public let globalChannels, localChannels, outChannels, reduction, kernel: Int
    public let projG, projL, mlp: Sequential
    public let conv: Conv2d

    public init(_ globalChannels: Int, _ localChannels: Int, _ channels: Int, reduction: Int = 16, kernel: Int = 7,
                generator: Generator = .global) throws {
        guard globalChannels > 0, localChannels > 0, channels > 0 else {
            throw TensorError("CAFFM: channel counts must be positive, got global \(globalChannels), local \(localChannels), fused \(channels)")
        }
        guard reduction > 0 else { throw TensorError("CAFFM: reduction must be positive, got \(reduction)") }
        guard kernel > 0, kernel % 2 == 1 else { throw TensorError("CAFFM: kernel must be odd and positive, got \(kernel)") }
        self.globalChannels = globalChannels; self.localChannels = localChannels
        outChannels = channels; self.reduction = reduction; self.kernel = kernel
        func projection(_ cin: Int) throws -> Sequential {
            Sequential([try Conv2d(cin, channels, kernel: (1, 1), bias: false, generator: generator),
                        try BatchNorm2d(channels), ReLU()])
        }
        projG = try projection(globalChannels)
        projL = try projection(localChannels)
        let hidden = Swift.max(1, 2 * channels / reduction)
        mlp = Sequential([try Linear(2 * channels, hidden, generator: generator), ReLU(),
                          try Linear(hidden, channels, generator: generator)])
        conv = try Conv2d(4, 1, kernel: (kernel, kernel), padding: (kernel / 2, kernel / 2), bias: false, generator: generator)
        super.init()
        registerModule("proj_g", projG)
        registerModule("proj_l", projL)
        registerModule("mlp", mlp)
        registerModule("conv", conv)
    }

    public override var inputCount: Int { 2 }

    /// The fusion weights w (N, c, H, W) and the projected maps g', l' (for inspection).
    public func fusionWeights(_ g: Tensor, _ l: Tensor) throws -> (w: Tensor, g: Tensor, l: Tensor) {
        guard g.rank == 4, g.shape[1] == globalChannels else {
            throw TensorError("CAFFM: expected the global map as (N, \(globalChannels), H, W), got shape \(g.shape)")
        }
        guard l.rank == 4, l.shape[1] == localChannels, l.shape[0] == g.shape[0] else {
            throw TensorError("CAFFM: expected the local map as (\(g.shape[0]), \(localChannels), H, W), got shape \(l.shape)")
        }
        let (n, c, h, w) = (g.shape[0], outChannels, g.shape[2], g.shape[3])
        let gp = try projG.forward(g)
        var lp = try projL.forward(l)
        if lp.shape[2] != h || lp.shape[3] != w { lp = try lp.adaptiveAvgPool2d((h, w)) }

        // Channel logits: shared MLP over the avg- and max-pooled concatenation, both
        // descriptors in one pass (stacked on the batch axis).
        let u = try Tensor.cat([gp, lp], dim: 1).reshape([n, 2 * c, h * w])
        let both = try mlp.forward(Tensor.cat([u.mean(dim: 2), u.max(dim: 2).values], dim: 0))
        let channelLogits = try (both.narrow(0, 0, n) + both.narrow(0, n, n)).reshape([n, c, 1, 1])

        // Spatial logits from the four channel statistics of the two maps.
        let maps = try Tensor.cat([gp.mean(dim: 1, keepDim: true), gp.max(dim: 1, keepDim: true).values,
                                   lp.mean(dim: 1, keepDim: true), lp.max(dim: 1, keepDim: true).values], dim: 1)
        let spatialLogits = try conv.forward(maps)
        return (try (channelLogits + spatialLogits).sigmoid(), gp, lp)
    }

    public override func forward(_ inputs: [Tensor]) throws -> Tensor {
        guard inputs.count == 2 else { throw TensorError("CAFFM: forward takes 2 inputs (global, local), got \(inputs.count)") }
        let (w, g, l) = try fusionWeights(inputs[0], inputs[1])
        // w ⊙ g + (1 − w) ⊙ l written as l + w ⊙ (g − l): three elementwise passes, not four.
        return try l + w * (g - l)
    }

    public override var extraDescription: String {
        "global=\(globalChannels), local=\(localChannels), out=\(outChannels), reduction=\(reduction)"
    }
}
