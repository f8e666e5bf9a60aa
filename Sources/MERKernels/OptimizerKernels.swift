/// Per-element parameter updates of the optimisers, on raw contiguous buffers.
///
/// Each follows the order of operations of PyTorch's single-tensor (`foreach=False`) path
/// in torch/optim/adam.py and sgd.py, one float32 rounding per PyTorch tensor op, so
/// results agree with PyTorch to float precision. The scalars (step size, bias
/// corrections) are computed in Double by the caller, as Python does, and rounded to
/// Float once, as PyTorch does when it hands a Python number to a float32 kernel.
/// Unit-stride SIMD16 lanes and the scalar tail perform identical IEEE operations (no
/// fused multiply-add), so results do not depend on where a chunk boundary falls, and large
/// tensors are split over threads.
public enum OptimizerKernels {
    public typealias V = SIMD16<Float>

    /// Below this many elements the update runs on the calling thread.
    public static let parallelThreshold = 1 << 15

    /// Runs `body` over `0..<count` in 16-aligned chunks, in parallel when large.
    @inline(__always)
    static func chunks(_ count: Int, _ body: (Range<Int>) -> Void) {
        if count < parallelThreshold { body(0..<count); return }
        Parallel.forRanges(count, granule: 1024, body)
    }

    /// Adam / AdamW for one parameter tensor.
    ///
    ///     AdamW (decoupled): p ← p · decay                     (decay = 1 − lr·wd)
    ///     Adam (L2):         g ← g + wd · p
    ///     m ← lerp(m, g, 1 − β1)
    ///     v ← β2 · v + (1 − β2) · g · g
    ///     p ← p + (−stepSize · m) / (sqrt(v) / bc2Sqrt + eps)
    ///
    /// `grad` is only read. `decay` is used when `decoupled`, `weightDecay` when not (pass 0
    /// to skip the L2 term). `lerpWeight` = 1 − β1 and `oneMinusBeta2` = 1 − β2 are computed
    /// in Double by the caller, as Python does.
    public static func adam(count: Int, param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
                            expAvg: UnsafeMutablePointer<Float>, expAvgSq: UnsafeMutablePointer<Float>,
                            decoupled: Bool, decay: Float, weightDecay: Float,
                            lerpWeight w1: Float, beta2: Float, oneMinusBeta2 oneMinusB2: Float,
                            negStepSize: Float, bc2Sqrt: Float, eps: Float) {
        let useDecay = decoupled && decay != 1
        let useL2 = !decoupled && weightDecay != 0
        let lowWeight = w1 < 0.5
        let box = UncheckedSendable((param, grad, expAvg, expAvgSq))
        chunks(count) { range in
            let (p, g, m, v) = box.value
            @inline(__always) func scalar(_ i: Int) {
                var gi = g[i]
                var pi = p[i]
                if useDecay { pi = pi * decay }
                if useL2 { gi = gi + weightDecay * pi }
                let mi0 = m[i]
                // at::lerp: weight < 0.5 ? self + weight·(end − self) : end − (end − self)·(1 − weight)
                let mi = lowWeight ? mi0 + w1 * (gi - mi0) : gi - (gi - mi0) * (1 - w1)
                let vi = v[i] * beta2 + oneMinusB2 * gi * gi
                let denom = vi.squareRoot() / bc2Sqrt + eps
                p[i] = pi + (negStepSize * mi) / denom
                m[i] = mi; v[i] = vi
            }
            var i = range.lowerBound
            let rp = UnsafeMutableRawPointer(p), rg = UnsafeRawPointer(g)
            let rm = UnsafeMutableRawPointer(m), rv = UnsafeMutableRawPointer(v)
            while i + 16 <= range.upperBound {
                let o = i * 4
                var gi = rg.loadUnaligned(fromByteOffset: o, as: V.self)
                var pi = rp.loadUnaligned(fromByteOffset: o, as: V.self)
                if useDecay { pi = pi * decay }
                if useL2 { gi = gi + weightDecay * pi }
                let mi0 = rm.loadUnaligned(fromByteOffset: o, as: V.self)
                let mi = lowWeight ? mi0 + w1 * (gi - mi0) : gi - (gi - mi0) * (1 - w1)
                let vi = rv.loadUnaligned(fromByteOffset: o, as: V.self) * beta2 + oneMinusB2 * gi * gi
                let denom = vi.squareRoot() / bc2Sqrt + eps
                rp.storeBytes(of: pi + (negStepSize * mi) / denom, toByteOffset: o, as: V.self)
                rm.storeBytes(of: mi, toByteOffset: o, as: V.self)
                rv.storeBytes(of: vi, toByteOffset: o, as: V.self)
                i += 16
            }
            while i < range.upperBound { scalar(i); i += 1 }
        }
    }

    /// SGD for one parameter tensor (torch/optim/sgd.py):
    ///
    ///     g ← g + wd · p
    ///     with momentum μ: buf ← g on the first step, else buf ← μ · buf + (1 − dampening) · g
    ///                      (1 − dampening computed in Double by the caller);
    ///                      g ← g + μ · buf (nesterov) or g ← buf
    ///     p ← p + (−lr) · g
    ///
    /// `buffer` must be non-nil when `momentum != 0`; `firstStep` says it holds no history yet.
    public static func sgd(count: Int, param: UnsafeMutablePointer<Float>, grad: UnsafePointer<Float>,
                           buffer: UnsafeMutablePointer<Float>?, firstStep: Bool,
                           negLr: Float, momentum: Float, oneMinusDampening oneMinusD: Float, nesterov: Bool,
                           weightDecay: Float) {
        let useMomentum = momentum != 0 && buffer != nil
        let useWD = weightDecay != 0
        let box = UncheckedSendable((param, grad, buffer ?? param))
        chunks(count) { range in
            let (p, g, b) = box.value
            var i = range.lowerBound
            let rp = UnsafeMutableRawPointer(p), rg = UnsafeRawPointer(g), rb = UnsafeMutableRawPointer(b)
            while i + 16 <= range.upperBound {
                let o = i * 4
                let pi = rp.loadUnaligned(fromByteOffset: o, as: V.self)
                var gi = rg.loadUnaligned(fromByteOffset: o, as: V.self)
                if useWD { gi = gi + weightDecay * pi }
                if useMomentum {
                    let bi = firstStep ? gi : rb.loadUnaligned(fromByteOffset: o, as: V.self) * momentum + oneMinusD * gi
                    rb.storeBytes(of: bi, toByteOffset: o, as: V.self)
                    gi = nesterov ? gi + momentum * bi : bi
                }
                rp.storeBytes(of: pi + negLr * gi, toByteOffset: o, as: V.self)
                i += 16
            }
            while i < range.upperBound {
                let pi = p[i]
                var gi = g[i]
                if useWD { gi = gi + weightDecay * pi }
                if useMomentum {
                    let bi = firstStep ? gi : b[i] * momentum + oneMinusD * gi
                    b[i] = bi
                    gi = nesterov ? gi + momentum * bi : bi
                }
                p[i] = pi + negLr * gi
                i += 1
            }
        }
    }
}
