/// What a convolution's forward does to each output value as it writes it, instead of a
/// separate pass over the output tensor afterwards:
///
///     out = act( (acc − center[c]) · scale[c] + shift[c]  (+ residual) )
///
/// This is inference's conv → BatchNorm (eval) → [+ shortcut] → ReLU/LeakyReLU chain in one
/// op: BN's running mean (less the convolution's bias, if any) is the center, and the shortcut
/// and the activation are applied while the output row is still in L1. The form and the
/// operations are BN's own eval kernel's, so a bias-free convolution gives the separate ops'
/// bits; scaling the weights instead (the other way to fold BN) would cost a weight copy per
/// call and change the rounding.
///
/// `residual`, when given, has the output's layout (n, cout, hout, wout).
public struct ConvEpilogue {
    public let center: UnsafePointer<Float>
    public let scale: UnsafePointer<Float>
    public let shift: UnsafePointer<Float>
    public let residual: UnsafePointer<Float>?
    public let activation: UnaryOp?

    public init(center: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                residual: UnsafePointer<Float>? = nil, activation: UnaryOp? = nil) {
        self.center = center; self.scale = scale; self.shift = shift; self.residual = residual; self.activation = activation
    }

    /// Applies the epilogue in place to `count` outputs of channel `channel` starting at flat
    /// output offset `offset` (so that the residual is read at the same place), which lie in
    /// the output plane starting at `planeStart` with `planeCount` values.
    ///
    /// The arithmetic per element is BN's eval kernel's (`BatchNormKernels.affine`): a fused
    /// multiply-add where that kernel's 16-wide body covers the element in its plane, the
    /// unfused scalar form in the plane's last `planeCount % 16`, so a row-wise caller (Winograd)
    /// and a plane-wise one (the direct path) both reproduce the separate ops' bits.
    @inline(__always)
    func apply(_ out: UnsafeMutablePointer<Float>, count: Int, channel: Int, offset: Int, planeStart: Int, planeCount: Int) {
        let p = out + offset, r = residual.map { $0 + offset }
        let c = center[channel], s = scale[channel], t = shift[channel]
        let cv = SIMD16<Float>(repeating: c), sv = SIMD16<Float>(repeating: s), tv = SIMD16<Float>(repeating: t)
        let fused = min(max(planeStart + planeCount / 16 * 16 - offset, 0), count)
        var j = 0
        while j + 16 <= fused {
            var v = tv.addingProduct(AccurateSum.load16(p + j) - cv, sv)
            if let r { v += AccurateSum.load16(r + j) }
            AccurateSum.store16(v, p + j)
            j += 16
        }
        while j < fused { p[j] = t.addingProduct(p[j] - c, s); j += 1 }
        while j < count { p[j] = (p[j] - c) * s + t; j += 1 }
        if let r { for k in (fused / 16 * 16)..<count { p[k] += r[k] } }   // the scalar part's (the body added its own)
        if let activation { Elementwise.activateInPlace(activation, p, count: count) }
    }
}
