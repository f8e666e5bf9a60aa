/// Batch normalisation over the channel axis of x (n, c, hw): NCHW with hw = h·w, or (n, c)
/// with hw = 1. Each channel's statistics run over its N = n·hw values, so channels are
/// independent and split statically over `Parallel.threads`; every channel's sums run in a fixed
/// order in one thread, so results do not depend on the thread count.
///
/// Sums go through `Reduce` (SIMD blocks added in Double), so means, variances and the backward
/// reductions stay accurate for large n·hw. `gamma` / `beta` nil mean 1 / 0.
public enum BatchNormKernels {
    /// Training mode: normalise with the batch mean and biased variance; saveMean/saveInvStd (c)
    /// receive mean and 1/sqrt(var + eps). Running statistics, when given, move as PyTorch's:
    /// r = (1 − momentum)·r + momentum·stat, with the unbiased variance var·N/(N − 1) for runningVar
    /// (for N = 1, where that is undefined, the biased variance 0 is used instead of NaN).
    public static func forwardTrain(n: Int, c: Int, hw: Int, input: UnsafePointer<Float>,
                                    gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?,
                                    eps: Float, momentum: Float,
                                    runningMean: UnsafeMutablePointer<Float>?, runningVar: UnsafeMutablePointer<Float>?,
                                    output: UnsafeMutablePointer<Float>,
                                    saveMean: UnsafeMutablePointer<Float>, saveInvStd: UnsafeMutablePointer<Float>,
                                    residual: UnsafePointer<Float>? = nil, activation: UnaryOp? = nil) {
        guard n > 0, c > 0, hw > 0 else { return }
        let count = Double(n * hw)
        Parallel.forRanges(c) { chans in
            for ch in chans {
                var s = 0.0
                for i in 0..<n { s += AccurateSum.sum(input + (i * c + ch) * hw, hw) }
                let mean = s / count
                // Two-pass variance around the Float mean mF; the exact identity
                // Σ(x − m)² = Σ(x − mF)² − N(m − mF)² removes the error of centring on mF.
                let mF = Float(mean), dm = mean - Double(mF)
                var ss = 0.0
                for i in 0..<n { ss += AccurateSum.sumSquaredDeviations(input + (i * c + ch) * hw, hw, center: mF) }
                let variance = max(0, ss / count - dm * dm)
                let invStd = 1 / (variance + Double(eps)).squareRoot()
                saveMean[ch] = mF
                saveInvStd[ch] = Float(invStd)
                let m = Double(momentum)
                if let runningMean { runningMean[ch] = Float((1 - m) * Double(runningMean[ch]) + m * mean) }
                if let runningVar {
                    let unbiased = count > 1 ? variance * count / (count - 1) : variance
                    runningVar[ch] = Float((1 - m) * Double(runningVar[ch]) + m * unbiased)
                }
                // y = γ(x − m)·invStd + β = (x − mF)·scale + (β − dm·scale)
                let scale = Double(gamma?[ch] ?? 1) * invStd
                let shift = Double(beta?[ch] ?? 0) - dm * scale
                for i in 0..<n {
                    let off = (i * c + ch) * hw
                    affine(input + off, center: mF, scale: Float(scale), shift: Float(shift), output + off, hw)
                    if let residual { add(residual + off, into: output + off, hw) }
                    if let activation { activate(activation, output + off, hw) }
                }
            }
        }
    }

    /// Eval mode: y = γ(x − runningMean)/sqrt(runningVar + eps) + β.
    public static func forwardEval(n: Int, c: Int, hw: Int, input: UnsafePointer<Float>,
                                   runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
                                   gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?, eps: Float,
                                   output: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>? = nil,
                                   activation: UnaryOp? = nil) {
        guard n > 0, c > 0, hw > 0 else { return }
        Parallel.forRanges(c) { chans in
            for ch in chans {
                let invStd = 1 / (Double(runningVar[ch]) + Double(eps)).squareRoot()
                let scale = Float(Double(gamma?[ch] ?? 1) * invStd), shift = beta?[ch] ?? 0
                for i in 0..<n {
                    let off = (i * c + ch) * hw
                    affine(input + off, center: runningMean[ch], scale: scale, shift: shift, output + off, hw)
                    if let residual { add(residual + off, into: output + off, hw) }
                    if let activation { activate(activation, output + off, hw) }
                }
            }
        }
    }

    /// Backward of forwardTrain. With x̂ = (x − μ)·σ⁻¹, σ⁻¹ = (var + eps)^(−1/2), y = γx̂ + β:
    ///   ∂μ/∂xⱼ = 1/N,   ∂var/∂xⱼ = 2(xⱼ − μ)/N   (the Σ(xₖ − μ) term from μ vanishes),
    ///   so ∂x̂ₖ/∂xⱼ = σ⁻¹(δₖⱼ − 1/N) − x̂ₖ x̂ⱼ/N · σ⁻¹, and contracting with dŷ = γ·dy gives
    ///   dx = γσ⁻¹ (dy − mean(dy) − x̂·mean(dy·x̂)),   dγ = Σ dy·x̂,   dβ = Σ dy.
    /// Per channel this is affine in (dy, x − μ): dx = a·dy + b·(x − μ) + k, evaluated with SIMD.
    /// Each output is optional and, when given, overwritten.
    public static func backwardTrain(n: Int, c: Int, hw: Int, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                     gamma: UnsafePointer<Float>?, saveMean: UnsafePointer<Float>, saveInvStd: UnsafePointer<Float>,
                                     gradInput: UnsafeMutablePointer<Float>?, gradGamma: UnsafeMutablePointer<Float>?,
                                     gradBeta: UnsafeMutablePointer<Float>?) {
        guard c > 0 else { return }
        guard n > 0, hw > 0 else {
            // Empty batch: no terms in the sums.
            gradGamma?.update(repeating: 0, count: c)
            gradBeta?.update(repeating: 0, count: c)
            return
        }
        let count = Double(n * hw)
        Parallel.forRanges(c) { chans in
            for ch in chans {
                let mu = saveMean[ch], invStd = Double(saveInvStd[ch])
                var sumDy = 0.0, sumDyXc = 0.0
                for i in 0..<n {
                    let off = (i * c + ch) * hw
                    sumDy += AccurateSum.sum(gradOutput + off, hw)
                    sumDyXc += AccurateSum.sumProductsCentered(gradOutput + off, input + off, hw, center: mu)
                }
                let sumDyXhat = sumDyXc * invStd
                gradGamma?[ch] = Float(sumDyXhat)
                gradBeta?[ch] = Float(sumDy)
                guard let gradInput else { continue }
                let g = Double(gamma?[ch] ?? 1)
                let a = g * invStd
                let b = -a * invStd * sumDyXhat / count   // x̂·mean(dy·x̂) = (x − μ)σ⁻¹·Σ(dy·x̂)/N
                let k = -a * sumDy / count
                for i in 0..<n {
                    let off = (i * c + ch) * hw
                    combine(gradOutput + off, Float(a), input + off, center: mu, Float(b), Float(k), gradInput + off, hw)
                }
            }
        }
    }

    /// Backward in eval mode: μ and σ come from the running statistics, which are constants here,
    /// so y is affine in x per channel: dx = dy·γ/sqrt(rv + eps), dγ = Σ dy·x̂, dβ = Σ dy.
    public static func backwardEval(n: Int, c: Int, hw: Int, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                    runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
                                    gamma: UnsafePointer<Float>?, eps: Float,
                                    gradInput: UnsafeMutablePointer<Float>?, gradGamma: UnsafeMutablePointer<Float>?,
                                    gradBeta: UnsafeMutablePointer<Float>?) {
        guard c > 0 else { return }
        guard n > 0, hw > 0 else {
            gradGamma?.update(repeating: 0, count: c)
            gradBeta?.update(repeating: 0, count: c)
            return
        }
        Parallel.forRanges(c) { chans in
            for ch in chans {
                let invStd = 1 / (Double(runningVar[ch]) + Double(eps)).squareRoot()
                let mu = runningMean[ch]
                if gradGamma != nil || gradBeta != nil {
                    var sumDy = 0.0, sumDyXc = 0.0
                    for i in 0..<n {
                        let off = (i * c + ch) * hw
                        sumDy += AccurateSum.sum(gradOutput + off, hw)
                        if gradGamma != nil {
                            sumDyXc += AccurateSum.sumProductsCentered(gradOutput + off, input + off, hw, center: mu)
                        }
                    }
                    gradGamma?[ch] = Float(sumDyXc * invStd)
                    gradBeta?[ch] = Float(sumDy)
                }
                guard let gradInput else { continue }
                let a = Float(Double(gamma?[ch] ?? 1) * invStd)
                for i in 0..<n {
                    let off = (i * c + ch) * hw
                    affine(gradOutput + off, center: 0, scale: a, shift: 0, gradInput + off, hw)
                }
            }
        }
    }

    // MARK: Vectorised rows

    /// out = (x − center)·scale + shift over `count` contiguous floats.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, center: Float, scale: Float, shift: Float,
                       _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        let cv = SIMD16<Float>(repeating: center), sv = SIMD16<Float>(repeating: scale)
        let tv = SIMD16<Float>(repeating: shift)
        var j = 0
        while j + 16 <= count {
            AccurateSum.store16(tv.addingProduct(AccurateSum.load16(x + j) - cv, sv), out + j)
            j += 16
        }
        while j < count { out[j] = (x[j] - center) * scale + shift; j += 1 }
    }

    /// out += r: a residual (shortcut) added in BN's pass, before the fused activation.
    @inline(__always)
    static func add(_ r: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ count: Int) {
        var j = 0
        while j + 16 <= count {
            AccurateSum.store16(AccurateSum.load16(out + j) + AccurateSum.load16(r + j), out + j)
            j += 16
        }
        while j < count { out[j] += r[j]; j += 1 }
    }

    /// The activation of a fused BN + activation, in place on a plane still in cache: the same
    /// elementwise kernel as the separate op, so the fused result is bit-identical to it.
    @inline(__always)
    static func activate(_ op: UnaryOp, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        Elementwise.activateInPlace(op, p, count: count)
    }

    /// out = a·dy + b·(x − center) + k over `count` contiguous floats.
    @inline(__always)
    static func combine(_ dy: UnsafePointer<Float>, _ a: Float, _ x: UnsafePointer<Float>, center: Float,
                        _ b: Float, _ k: Float, _ out: UnsafeMutablePointer<Float>, _ count: Int) {
        let av = SIMD16<Float>(repeating: a), bv = SIMD16<Float>(repeating: b)
        let kv = SIMD16<Float>(repeating: k), cv = SIMD16<Float>(repeating: center)
        var j = 0
        while j + 16 <= count {
            let t = kv.addingProduct(AccurateSum.load16(x + j) - cv, bv)
            AccurateSum.store16(t.addingProduct(AccurateSum.load16(dy + j), av), out + j)
            j += 16
        }
        while j < count { out[j] = a * dy[j] + b * (x[j] - center) + k; j += 1 }
    }
}
