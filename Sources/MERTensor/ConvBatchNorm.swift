import Foundation
import MERKernels

extension Tensor {
    /// Inference's conv → BatchNorm (eval) → [+ residual] → [activation] as one convolution:
    ///
    ///     act( batch_norm(conv2d(x, w, b), running stats, γ, β, eps) + residual )
    ///
    /// BN's running statistics become a per-channel center mean − b, scale γ/√(var + eps) and
    /// shift β applied in the convolution's epilogue (`ConvEpilogue`), with the
    /// residual and the activation, while each output row is in cache: one pass over memory and
    /// one tensor instead of up to four. Bit-identical to the separate ops for a bias-free
    /// convolution (BN's own arithmetic); with a bias, within float32 rounding (mean − bias is
    /// rounded once).
    ///
    /// There is no backward: this is for forwards without a tape, and refuses otherwise.
    public static func conv2dBatchNorm(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil,
                                       stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                                       dilation: (Int, Int) = (1, 1), groups: Int = 1,
                                       runningMean: Tensor, runningVar: Tensor, gamma: Tensor?, beta: Tensor?, eps: Float,
                                       residual: Tensor? = nil, activation: BatchNormActivation = .none) throws -> Tensor {
        let s = try convShape(input, weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        let c = s.cout
        try checkBatchNormParameters("conv2d + batch_norm", channels: c, weight: gamma, bias: beta, runningMean: runningMean,
                                     runningVar: runningVar, eps: eps, activation: activation)
        let outShape = [s.n, c, s.hout, s.wout]
        if let residual {
            try check(residual.shape == outShape,
                      "conv2d + batch_norm: the residual must have the output's shape \(describe(outShape)), got \(describe(residual.shape))")
        }
        try check(!tapeRecords([input, weight, bias, gamma, beta, residual]),
                  "conv2d + batch_norm: the folded inference op has no backward (run it under no_grad, or use conv2d then batch_norm)")

        // Per channel, as BN's eval kernel computes them: y = (x − center)·scale + shift with
        // center = mean − conv bias (the bias shifts x), so a bias-free conv gives BN's bits.
        let mean = try runningMean.contiguousData(), variance = try runningVar.contiguousData()
        let g = try gamma?.contiguousData(), b = try beta?.contiguousData(), convBias = try bias?.contiguousData()
        let center = try Tensor(uninitialized: [c]), scale = try Tensor(uninitialized: [c]), shift = try Tensor(uninitialized: [c])
        for ch in 0..<c {
            let invStd = 1 / (Double(variance.pointer[ch]) + Double(eps)).squareRoot()
            scale.pointer[ch] = Float(Double(g?.pointer[ch] ?? 1) * invStd)
            shift.pointer[ch] = b?.pointer[ch] ?? 0
            center.pointer[ch] = convBias.map { mean.pointer[ch] - $0.pointer[ch] } ?? mean.pointer[ch]
        }
        let x = try input.contiguousData(), w = try weight.contiguousData(), r = try residual?.contiguousData()
        let out = try Tensor(uninitialized: outShape)
        try MemoryBudget.check(ConvKernels.scratchBytes(s, pass: .forward), for: "conv2d's workspace")
        if s.n > 0 {
            let epilogue = ConvEpilogue(center: center.pointer, scale: scale.pointer, shift: shift.pointer,
                                        residual: r.map { UnsafePointer($0.pointer) }, activation: activation.forward)
            ConvKernels.forward(s, input: x.pointer, weight: w.pointer, bias: nil, output: out.pointer, epilogue: epilogue)
        }
        if OpProfile.isEnabled { OpProfile.forwardOpEnded("conv2d_batch_norm") }
        return out
    }
}
