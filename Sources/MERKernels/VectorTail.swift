/// The last, partial vector of a row: `count` < 16 floats to read where a whole 16-float load
/// may or may not stay inside the operand. Used by the few-row GEMM (`GemmSkinny`: the k tail
/// of a dot product, the last columns of B) and staged pooling (the end of each input row).
enum VectorTail {
    /// Lanes `count` … 15.
    static func lanes(from count: Int) -> SIMDMask<SIMD16<Int32>> {
        SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) .>= Int32(count)
    }

    /// `count` (1…16) floats at `p`, then `fill`. `inside`: 16 floats from `p` lie within the
    /// operand, so one load whose lanes `tail` (= `lanes(from: count)`) are replaced by `fill`,
    /// whatever they held (NaN or not); else the floats are read one by one.
    @inline(__always)
    static func load(_ p: UnsafeRawPointer, count: Int, fill: Float, tail: SIMDMask<SIMD16<Int32>>,
                     inside: Bool) -> SIMD16<Float> {
        if count == 16 { return p.loadUnaligned(as: SIMD16<Float>.self) }
        if inside { return p.loadUnaligned(as: SIMD16<Float>.self).replacing(with: fill, where: tail) }
        var v = SIMD16<Float>(repeating: fill)
        for l in 0..<count { v[l] = p.load(fromByteOffset: 4 * l, as: Float.self) }
        return v
    }
}
