/// Register-tile geometry and helpers shared by the packing routines and the micro-kernel.
///
/// The micro-kernel keeps an MR×NR tile of C in registers: NR = 32 columns are two
/// `SIMD16<Float>` (zmm) per row, so the tile is 2·MR accumulators. With MR = 12 that is
/// 24 accumulators + 2 B vectors + 1 broadcast A value = 27 of the 32 zmm registers,
/// leaving room so the compiler never spills inside the K loop. Per k step the kernel issues
/// 24 FMAs against 2 vector loads and 12 scalar broadcasts, far below the load ports' limit,
/// so the loop is bound by FMA throughput alone.
enum GemmKernel {
    static let mr = 12
    static let nr = 32

    /// c ← fma(alpha, acc, beta·c) for the 32 floats at `c` (unaligned: C has any ldc).
    @inline(__always)
    static func update(_ c: UnsafeMutableRawPointer, _ acc0: SIMD16<Float>, _ acc1: SIMD16<Float>,
                       _ va: SIMD16<Float>, _ vb: SIMD16<Float>) {
        let old0 = UnsafeRawPointer(c).loadUnaligned(as: SIMD16<Float>.self)
        let old1 = UnsafeRawPointer(c).loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        c.storeBytes(of: (old0 * vb).addingProduct(va, acc0), as: SIMD16<Float>.self)
        c.storeBytes(of: (old1 * vb).addingProduct(va, acc1), toByteOffset: 64, as: SIMD16<Float>.self)
    }

    /// Scalar twin of the kernel's store for partial tiles: `tile` holds the raw accumulators
    /// (row stride NR); only the valid `rows`×`cols` corner is written to C.
    static func storeEdge(tile: UnsafePointer<Float>, rows: Int, cols: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        for i in 0..<rows {
            let t = tile + i * nr, cr = c + i * ldc
            if beta == 0 {
                for j in 0..<cols { cr[j] = t[j] * alpha }
            } else {
                for j in 0..<cols { cr[j] = (cr[j] * beta).addingProduct(alpha, t[j]) }
            }
        }
    }
}
