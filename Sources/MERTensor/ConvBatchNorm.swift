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
        // One buffer for the three (a tensor each cost three allocations per call, 52 calls
        // per quick 1-sample inference).
        let folded = try Tensor(uninitialized: [3 * c])
        let center = folded.pointer, scale = folded.pointer + c, shift = folded.pointer + 2 * c
        for ch in 0..<c {
            let invStd = 1 / (Double(variance.pointer[ch]) + Double(eps)).squareRoot()
            scale[ch] = Float(Double(g?.pointer[ch] ?? 1) * invStd)
            shift[ch] = b?.pointer[ch] ?? 0
            center[ch] = convBias.map { mean.pointer[ch] - $0.pointer[ch] } ?? mean.pointer[ch]
        }
        let x = try input.contiguousData(), w = try weight.contiguousData(), r = try residual?.contiguousData()
        let out = try Tensor(uninitialized: outShape)
        let prepared = try forwardPreparation(weight, s, inference: true)
        if s.n > 0 {
            let epilogue = ConvEpilogue(center: center, scale: scale, shift: shift,
                                        residual: r.map { UnsafePointer($0.pointer) }, activation: activation.forward)
            // The epilogue holds raw pointers into `folded` and `r`: keep them alive through the call.
            withExtendedLifetime((folded, r)) {
                ConvKernels.forward(s, input: x.pointer, weight: w.pointer, bias: nil, output: out.pointer, epilogue: epilogue,
                                    prepared: prepared)
            }
        }
        if OpProfile.isEnabled { OpProfile.forwardOpEnded(OpProfile.convName("conv2d_batch_norm", s, filtersPrepared: prepared != nil)) }
        return out
    }

    /// What a convolution's forward pass needs before it runs: its workspace checked against
    /// the memory budget and, for inference, the prepared weights (nil otherwise, or when
    /// none are kept), on which the workspace depends.
    static func forwardPreparation(_ weight: Tensor, _ s: ConvShape, inference: Bool) throws -> ConvPreparedWeights? {
        let prepared = inference ? preparedWeights(weight, s) : nil
        try MemoryBudget.check(ConvKernels.scratchBytes(s, pass: .forward, filtersPrepared: prepared != nil), for: "conv2d's workspace")
        return prepared
    }

    /// The weights in the form the forward pass multiplies them (packed GEMM panels, or a
    /// Winograd layer's transformed filters) for this op and for `conv2d` without a tape,
    /// kept with the weight's storage and made again
    /// only when the weights change (the storage version moves with every in-place write:
    /// optimiser steps, loads, `copy_`) or the layer takes another path. Inference repeats
    /// the same weights call after call; this op only runs without a tape, so nothing here
    /// can be differentiated. Not made when it would not fit in the memory budget's headroom.
    /// They count against `mer.max_memory` while they live; when they would not fit, the
    /// convolution packs per call as before.
    static func preparedWeights(_ weight: Tensor, _ s: ConvShape) -> ConvPreparedWeights? {
        // An empty batch has nothing to prepare and must not drop the kept ones.
        guard ConvPreparedWeights.reusedInInference, weight.isContiguous, s.n > 0 else { return nil }
        let storage = weight.storage
        if let d = storage.derived, d.version == storage.version, d.offset == weight.offset,
           let kept = d.value as? BudgetedPreparedWeights, kept.prepared.serves(s) {
            return kept.prepared
        }
        storage.derived = nil     // release a stale one before making its successor
        let bytes = ConvPreparedWeights.bytes(for: s)
        guard bytes > 0, (try? MemoryBudget.reserve(bytes, for: "prepared convolution weights")) != nil else { return nil }
        guard let prepared = ConvPreparedWeights.prepare(s, weight: weight.pointer) else {
            MemoryBudget.released(bytes)
            return nil
        }
        storage.derived = (storage.version, weight.offset, BudgetedPreparedWeights(prepared, reserved: bytes))
        return prepared
    }
}

/// Prepared weights with the memory budget they reserved, given back when they are freed.
final class BudgetedPreparedWeights {
    let prepared: ConvPreparedWeights
    let reserved: Int
    init(_ prepared: ConvPreparedWeights, reserved: Int) { self.prepared = prepared; self.reserved = reserved }
    deinit { MemoryBudget.released(reserved) }
}
