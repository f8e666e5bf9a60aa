import MERKernels

extension Tensor {
    /// Batch normalisation over dimension 1 of an (N, C) or (N, C, H, W) tensor, as
    /// PyTorch's `F.batch_norm`. In training mode the batch statistics normalise and the
    /// running buffers (if given) are updated in place with the unbiased variance; in
    /// eval mode the running buffers normalise and are left alone.
    ///
    /// `activation` (relu, or leaky relu with a positive slope) fuses the activation that
    /// follows: applied in the same pass over memory, and its gradient taken from the output
    /// (y > 0 exactly where the normalised value is), so the normalised tensor is never kept
    /// for backward. Results are bit-identical to batch_norm followed by the activation.
    ///
    /// `residual` (the input's shape: a residual block's shortcut) is added before the
    /// activation in the same pass, y = act(BN(x) + residual), bit-identical to the separate
    /// add; its gradient is the activation-masked output gradient.
    public static func batchNorm(_ input: Tensor, runningMean: Tensor?, runningVar: Tensor?,
                                 weight: Tensor?, bias: Tensor?, training: Bool,
                                 momentum: Float = 0.1, eps: Float = 1e-5,
                                 residual: Tensor? = nil,
                                 activation: BatchNormActivation = .none) throws -> Tensor {
        try check(input.rank == 2 || input.rank == 4, "batch_norm: input must be (N, C) or (N, C, H, W), got shape \(describe(input.shape))")
        let n = input.shape[0], c = input.shape[1], hw = input.rank == 4 ? input.shape[2] * input.shape[3] : 1
        try checkBatchNormParameters("batch_norm", channels: c, weight: weight, bias: bias, runningMean: runningMean,
                                     runningVar: runningVar, eps: eps, activation: activation)
        try check((runningMean == nil) == (runningVar == nil), "batch_norm: running_mean and running_var must be given together")
        if training {
            try check(n * hw > 1, "batch_norm: expected more than 1 value per channel when training, got input shape \(describe(input.shape))")
        } else {
            try check(runningMean != nil, "batch_norm: eval mode needs running_mean and running_var")
        }
        for t in [runningMean, runningVar].compactMap({ $0 }) {
            try check(t.isContiguous && !t.requiresGrad, "batch_norm: running statistics must be contiguous buffers without grad")
        }
        if let residual {
            try check(residual.shape == input.shape,
                      "batch_norm: the residual must have the input's shape \(describe(input.shape)), got \(describe(residual.shape))")
        }
        let x = try input.contiguousData(), gamma = try weight?.contiguousData(), beta = try bias?.contiguousData()
        let r = try residual?.contiguousData()
        let out = try Tensor(uninitialized: input.shape)
        let mean = try Tensor(uninitialized: [c]), invStd = try Tensor(uninitialized: [c])
        if training {
            BatchNormKernels.forwardTrain(n: n, c: c, hw: hw, input: x.pointer, gamma: gamma.map { UnsafePointer($0.pointer) },
                                          beta: beta.map { UnsafePointer($0.pointer) }, eps: eps, momentum: momentum,
                                          runningMean: runningMean?.pointer, runningVar: runningVar?.pointer,
                                          output: out.pointer, saveMean: mean.pointer, saveInvStd: invStd.pointer,
                                          residual: r.map { UnsafePointer($0.pointer) }, activation: activation.forward)
        } else {
            BatchNormKernels.forwardEval(n: n, c: c, hw: hw, input: x.pointer, runningMean: runningMean!.pointer,
                                         runningVar: runningVar!.pointer, gamma: gamma.map { UnsafePointer($0.pointer) },
                                         beta: beta.map { UnsafePointer($0.pointer) }, eps: eps, output: out.pointer,
                                         residual: r.map { UnsafePointer($0.pointer) }, activation: activation.forward)
        }
        let inputs = [input] + [weight, bias, residual].compactMap { $0 }
        // Eval mode must differentiate through the statistics used, so keep copies of them
        // (the buffers may be updated by a later training step before backward runs) — only
        // when there will be a backward: inference skips the two copies per layer.
        let keep = !training && tapeRecords(inputs)
        let rm = keep ? try runningMean!.contiguousData().clone().detach() : nil
        let rv = keep ? try runningVar!.contiguousData().clone().detach() : nil
        let hasWeight = weight != nil, hasBias = bias != nil, hasResidual = residual != nil
        let needX = input.requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
        let needR = residual?.requiresGrad ?? false
        // The output is what a fused activation's gradient needs (a detached alias: no cycle).
        let y = activation == .none ? nil : out.detach()
        let opName = residual == nil ? activation.opName : "batch_norm_add" + activation.opName.dropFirst("batch_norm".count)
        return out.record(opName, inputs) { g in
            var gy = try g.contiguousData()
            if let y, let mask = activation.gradient { gy = try gy.zipWith(y, mask, opName) }
            let gx = needX ? try Tensor(uninitialized: x.shape) : nil
            let gw = needW ? try Tensor(uninitialized: [c]) : nil
            let gb = needB ? try Tensor(uninitialized: [c]) : nil
            if training {
                BatchNormKernels.backwardTrain(n: n, c: c, hw: hw, input: x.pointer, gradOutput: gy.pointer,
                                               gamma: gamma.map { UnsafePointer($0.pointer) }, saveMean: mean.pointer, saveInvStd: invStd.pointer,
                                               gradInput: gx?.pointer, gradGamma: gw?.pointer, gradBeta: gb?.pointer)
            } else {
                BatchNormKernels.backwardEval(n: n, c: c, hw: hw, input: x.pointer, gradOutput: gy.pointer,
                                              runningMean: rm!.pointer, runningVar: rv!.pointer,
                                              gamma: gamma.map { UnsafePointer($0.pointer) }, eps: eps,
                                              gradInput: gx?.pointer, gradGamma: gw?.pointer, gradBeta: gb?.pointer)
            }
            // d(BN(x) + r)/dr = 1: the residual's gradient is the (masked) output gradient.
            return [gx] + (hasWeight ? [gw] : []) + (hasBias ? [gb] : []) + (hasResidual ? [needR ? gy : nil] : [])
        }
    }
}

extension Tensor {
    /// The per-channel parameters' shapes, eps and a fused leaky ReLU's slope, as the plain and
    /// the convolution-folded batch norm both require them; `op` names the caller.
    static func checkBatchNormParameters(_ op: String, channels c: Int, weight: Tensor?, bias: Tensor?,
                                         runningMean: Tensor?, runningVar: Tensor?, eps: Float,
                                         activation: BatchNormActivation) throws {
        for (name, t) in [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)] {
            if let t { try check(t.shape == [c], "\(op): \(name) must have shape [\(c)], got \(describe(t.shape))") }
        }
        try check(eps >= 0, "\(op): eps must be non-negative, got \(eps)")
        if case .leakyRelu(let slope) = activation {
            try check(slope > 0, "\(op): a fused leaky relu needs a positive slope, got \(slope)")
        }
    }
}

/// The activation a batch normalisation can fuse (see `Tensor.batchNorm`).
public enum BatchNormActivation: Equatable, Sendable {
    case none, relu
    /// Slope > 0: the sign of the output then equals the sign of the normalised value.
    case leakyRelu(Float)

    var forward: UnaryOp? {
        switch self {
        case .none: return nil
        case .relu: return .relu
        case .leakyRelu(let s): return .leakyRelu(s)
        }
    }

    /// dL/dz from (dL/dy, y): the separate ops' own formulas (relu's uses its output; leaky
    /// relu's uses its input, whose sign the output shares for a positive slope).
    var gradient: BinaryOp? {
        switch self {
        case .none: return nil
        case .relu: return .reluGrad
        case .leakyRelu(let s): return .leakyReluGrad(s)
        }
    }

    var opName: String {
        switch self {
        case .none: return "batch_norm"
        case .relu: return "batch_norm_relu"
        case .leakyRelu: return "batch_norm_leaky_relu"
        }
    }
}
