import MERTensor

/// Batch normalisation over channels (PyTorch's `nn.BatchNorm2d`, also accepts (N, C)).
/// Buffers: running_mean, running_var, num_batches_tracked (as PyTorch names them).
public final class BatchNorm2d: Module {
    public let channels: Int
    public let eps, momentum: Float
    public let weight, bias: Tensor?
    public let runningMean, runningVar, numBatchesTracked: Tensor

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) throws {
        guard channels > 0 else { throw TensorError("BatchNorm2d: channels must be positive, got \(channels)") }
        guard eps >= 0, momentum >= 0, momentum <= 1 else { throw TensorError("BatchNorm2d: eps must be >= 0 and momentum in [0, 1]") }
        self.channels = channels; self.eps = eps; self.momentum = momentum
        weight = affine ? try Tensor.ones([channels]) : nil
        bias = affine ? try Tensor.zeros([channels]) : nil
        runningMean = try Tensor.zeros([channels])
        runningVar = try Tensor.ones([channels])
        numBatchesTracked = try Tensor.scalar(0)
        super.init()
        if let w = weight, let b = bias { registerParameter("weight", w); registerParameter("bias", b) }
        registerBuffer("running_mean", runningMean)
        registerBuffer("running_var", runningVar)
        registerBuffer("num_batches_tracked", numBatchesTracked)
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try forward(x, activation: .none) }

    /// BN with the residual addition and the activation that follow it fused
    /// (`Tensor.batchNorm`): act(BN(x) + residual) in one pass over memory, and the
    /// normalised tensor is not kept for backward.
    public func forward(_ x: Tensor, residual: Tensor? = nil, activation: BatchNormActivation) throws -> Tensor {
        guard x.rank >= 2, x.shape[1] == channels else {
            throw TensorError("BatchNorm2d: expected input with \(channels) channels in dimension 2, got shape \(x.shape)")
        }
        if isTraining { try GradMode.disabled { try numBatchesTracked.addInPlace(1) } }
        return try Tensor.batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                                    training: isTraining, momentum: momentum, eps: eps, residual: residual, activation: activation)
    }

    /// Whether eval-mode forwards without a tape fold BN into the preceding convolution
    /// (`forward(convolving:with:)`). On by default; off gives the separate ops, for
    /// comparisons and benchmarks.
    nonisolated(unsafe) public static var foldsIntoConvolution = true

    /// act(BN(conv(x)) + residual). In eval mode with nothing to differentiate (inference, under
    /// no_grad) this is one convolution with BN, the residual and the activation in its
    /// epilogue (`Tensor.conv2dBatchNorm`); otherwise the convolution, then the fused BN.
    public func forward(convolving x: Tensor, with conv: Conv2d, residual: Tensor? = nil,
                        activation: BatchNormActivation = .none) throws -> Tensor {
        let taped = Tensor.tapeRecords([x, residual, conv.weight, conv.bias, weight, bias])
        guard !isTraining, !conv.isTraining, Self.foldsIntoConvolution, !taped, conv.outChannels == channels else {
            return try forward(conv.forward(x), residual: residual, activation: activation)
        }
        return try Tensor.conv2dBatchNorm(x, conv.weight, bias: conv.bias, stride: conv.stride, padding: conv.padding,
                                          dilation: conv.dilation, groups: conv.groups, runningMean: runningMean,
                                          runningVar: runningVar, gamma: weight, beta: bias, eps: eps,
                                          residual: residual, activation: activation)
    }

    public override var extraDescription: String {
        "\(channels)" + (eps != 1e-5 ? ", eps=\(eps)" : "") + (momentum != 0.1 ? ", momentum=\(momentum)" : "")
    }
}
