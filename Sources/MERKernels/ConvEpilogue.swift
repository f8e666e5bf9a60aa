/// What a convolution's forward does to each output value as it writes it, instead of a
/// separate pass over the output tensor afterwards:
///
///     out = act( acc · scale[c] + shift[c]  (+ residual) )
///
/// This is inference's conv → BatchNorm (eval) → [+ shortcut] → ReLU/LeakyReLU chain in one
/// op: BN's running statistics become a per-channel scale and shift (the convolution's bias,
/// if any, folded into the shift), and the shortcut and the activation are applied while the
/// output row is still in L1. Scaling the accumulator instead of the weights (the other way
/// to fold BN) costs no weight copy and keeps the unfused op's rounding closer.
///
/// `residual`, when given, has the output's layout (n, cout, hout, wout).
public struct ConvEpilogue {
    public let scale: UnsafePointer<Float>
    public let shift: UnsafePointer<Float>
    public let residual: UnsafePointer<Float>?
    public let activation: UnaryOp?

    public init(scale: UnsafePointer<Float>, shift: UnsafePointer<Float>, residual: UnsafePointer<Float>? = nil,
                activation: UnaryOp? = nil) {
        self.scale = scale; self.shift = shift; self.residual = residual; self.activation = activation
    }

    /// Applies the epilogue in place to `count` outputs of channel `channel` starting at flat
    /// output offset `offset` (so that the residual is read at the same place).
    @inline(__always)
    func apply(_ out: UnsafeMutablePointer<Float>, count: Int, channel: Int, offset: Int) {
        let p = out + offset
        let s = scale[channel], t = shift[channel]
        let sv = SIMD16<Float>(repeating: s), tv = SIMD16<Float>(repeating: t)
        var j = 0
        if let residual {
            let r = residual + offset
            while j + 16 <= count {
                AccurateSum.store16(tv.addingProduct(AccurateSum.load16(p + j), sv) + AccurateSum.load16(r + j), p + j)
                j += 16
            }
            while j < count { p[j] = (p[j] * s + t) + r[j]; j += 1 }
        } else {
            while j + 16 <= count {
                AccurateSum.store16(tv.addingProduct(AccurateSum.load16(p + j), sv), p + j)
                j += 16
            }
            while j < count { p[j] = p[j] * s + t; j += 1 }
        }
        if let activation { Elementwise.unary(activation, count: count, x: p, xStride: 1, out: p, outStride: 1) }
    }
}
