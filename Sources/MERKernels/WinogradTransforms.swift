/// The transform matrices of Winograd's minimal filtering F(m, 3) (Lavin & Gray 2016,
/// "Fast Algorithms for Convolutional Neural Networks", §4; points 0, ±1, ±2 and ∞ for m = 4).
///
/// One output row of F(m, r=3) over an input row d of α = m + 2 samples is
///
///     y = Aᵀ [ (G g) ⊙ (Bᵀ d) ]        y (m), g (3), G (α×3), Bᵀ (α×α), Aᵀ (m×α)
///
/// and the 2-D tile nests it: Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A. The data transforms below are
/// written out by hand (the matrices are mostly zeros and small integers, so the general
/// α×α product would do 2–3× the work) and run on 16 lanes at a time: 16 tiles or 16 channels.
/// Each function reads its α (or m) vectors at `src[i·ss]` and writes at `dst[i·ds]`, so the
/// same code does the row pass and the column pass of the 2-D transform.
///
/// F(6, 3) is not offered. Its GEMMs would do 64/36 = 1.78 multiply-adds per output pixel and
/// channel pair against F(4,3)'s 2.25 (1.27× fewer), but: its points ±1/2 put 1/2⁵-sized
/// entries in A and 5.25-sized ones in Bᵀ, and the float32 error grows several-fold per step of
/// m (Barabasz et al. 2020, "Error analysis and improving the accuracy of Winograd convolution
/// for deep neural networks"; here F(2,3) → F(4,3) grew it 3–7× per pass, WinogradTests);
/// its 6×6 tiles overhang the DBFEM grids more (14 → 18, 1.65× the pixels, where F(4,3) pads to
/// 16); and its denser transforms would grow the input/output passes that already cost 20–30 %
/// of a 64-channel layer.
protocol WinogradTransform {
    /// Output tile side m; the input tile side is α = m + 2.
    static var m: Int { get }
    /// G (α×3), row-major; the filter transforms (once per call) use it rounded to Float.
    static var g: [[Double]] { get }
    /// o = Bᵀ d: α inputs → α transformed values, input j from `load(j)`, output i to
    /// `store(i, oᵢ)`. Inlined with the caller's closures, so inputs built in registers
    /// (strided loads, gathers) never round-trip through memory: through a stack array, each
    /// 64-byte load of a vector just stored there missed store forwarding on Zen 4 (perf: 41 %
    /// of the input transform at batch 1 on that one load).
    static func input(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void)
    /// y = Aᵀ M: α values → m outputs (loaded and stored as `input`'s are).
    static func output(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void)
    /// z = A dy: m output gradients → α values (the adjoint of `output`).
    static func expand(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void)
    /// p[0], p[m], …, p[15·m]: column j of 16 neighbouring tiles from a transformed image row
    /// (reads p[0 ..< 16·m]).
    static func strided(_ p: UnsafePointer<Float>) -> SIMD16<Float>
    /// One output row of 16 neighbouring tiles: y[j] holds column j of the 16 tiles; writes the
    /// m·16 pixels in image order (tile 0 columns 0…m−1, tile 1 …), plus `bias`.
    static func interleave(_ y: UnsafePointer<SIMD16<Float>>, bias: Float, into dst: UnsafeMutableRawPointer)
}

/// F(2×2, 3×3), α = 4.
///
///     Bᵀ = [1  0 −1  0]     G = [ 1    0    0 ]     Aᵀ = [1 1  1  0]
///          [0  1  1  0]         [1/2  1/2  1/2]          [0 1 −1 −1]
///          [0 −1  1  0]         [1/2 −1/2  1/2]
///          [0  1  0 −1]         [ 0    0    1 ]
enum WinogradF2: WinogradTransform {
    static var m: Int { 2 }
    static let g: [[Double]] = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]]

    @inline(__always)
    static func input(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void) {
        let d0 = load(0), d1 = load(1), d2 = load(2), d3 = load(3)
        store(0, d0 - d2)
        store(1, d1 + d2)
        store(2, d2 - d1)
        store(3, d1 - d3)
    }

    @inline(__always)
    static func output(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void) {
        let m0 = load(0), m1 = load(1), m2 = load(2), m3 = load(3)
        store(0, m0 + m1 + m2)
        store(1, m1 - m2 - m3)
    }

    @inline(__always)
    static func strided(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        // Constant lane indices (a shuffle); SIMD's `evenHalf` getter was compiled lane by lane.
        let a = UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self)
        return SIMD16<Float>(a[0], a[2], a[4], a[6], a[8], a[10], a[12], a[14],
                             a[16], a[18], a[20], a[22], a[24], a[26], a[28], a[30])
    }

    @inline(__always)
    static func interleave(_ y: UnsafePointer<SIMD16<Float>>, bias: Float, into dst: UnsafeMutableRawPointer) {
        var r = SIMD32<Float>()
        r.evenHalf = y[0] + bias
        r.oddHalf = y[1] + bias
        dst.storeBytes(of: r, as: SIMD32<Float>.self)
    }

    @inline(__always)
    static func expand(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void) {
        let y0 = load(0), y1 = load(1)
        store(0, y0)
        store(1, y0 + y1)
        store(2, y0 - y1)
        store(3, -y1)
    }
}

/// F(4×4, 3×3), α = 6 (points 0, 1, −1, 2, −2, ∞).
///
///     Bᵀ = [4  0 −5  0  1  0]    G = [ 1/4     0     0  ]    Aᵀ = [1 1  1 1  1 0]
///          [0 −4 −4  1  1  0]        [−1/6  −1/6  −1/6 ]         [0 1 −1 2 −2 0]
///          [0  4 −4 −1  1  0]        [−1/6   1/6  −1/6 ]         [0 1  1 4  4 0]
///          [0 −2 −1  2  1  0]        [1/24  1/12   1/6 ]         [0 1 −1 8 −8 1]
///          [0  2 −1 −2  1  0]        [1/24 −1/12   1/6 ]
///          [0  4  0 −5  0  1]        [  0     0     1  ]
enum WinogradF4: WinogradTransform {
    static var m: Int { 4 }
    static let g: [[Double]] = [[0.25, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                                [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]

    @inline(__always)
    static func input(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void) {
        let d0 = load(0), d1 = load(1), d2 = load(2), d3 = load(3), d4 = load(4), d5 = load(5)
        // Shared partial sums: rows 1/2 and 3/4 differ only in the sign of their odd part.
        let a = d4 - 4 * d2, b = d3 - 4 * d1
        let c = d4 - d2, e = 2 * (d3 - d1)
        store(0, 4 * d0 - 5 * d2 + d4)
        store(1, a + b)
        store(2, a - b)
        store(3, c + e)
        store(4, c - e)
        store(5, 4 * d1 - 5 * d3 + d5)
    }

    @inline(__always)
    static func output(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void) {
        let m0 = load(0), m1 = load(1), m2 = load(2), m3 = load(3), m4 = load(4), m5 = load(5)
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        store(0, m0 + a + c)
        store(1, b + 2 * d)
        store(2, a + 4 * c)
        store(3, b + 8 * d + m5)
    }

    @inline(__always)
    static func strided(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        // Constant lane indices (a shuffle); SIMD's `evenHalf` getter was compiled lane by lane.
        let a = UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self)
        let b = UnsafeRawPointer(p + 32).loadUnaligned(as: SIMD32<Float>.self)
        return SIMD16<Float>(a[0], a[4], a[8], a[12], a[16], a[20], a[24], a[28],
                             b[0], b[4], b[8], b[12], b[16], b[20], b[24], b[28])
    }

    @inline(__always)
    static func interleave(_ y: UnsafePointer<SIMD16<Float>>, bias: Float, into dst: UnsafeMutableRawPointer) {
        // Pairs (y0, y1) and (y2, y3) per tile, then the pairs interleaved as 64-bit units.
        var r01 = SIMD32<Float>(), r23 = SIMD32<Float>()
        r01.evenHalf = y[0] + bias
        r01.oddHalf = y[1] + bias
        r23.evenHalf = y[2] + bias
        r23.oddHalf = y[3] + bias
        var r = SIMD32<UInt64>()
        r.evenHalf = unsafeBitCast(r01, to: SIMD16<UInt64>.self)
        r.oddHalf = unsafeBitCast(r23, to: SIMD16<UInt64>.self)
        dst.storeBytes(of: r, as: SIMD32<UInt64>.self)
    }

    @inline(__always)
    static func expand(load: (Int) -> SIMD16<Float>, store: (Int, SIMD16<Float>) -> Void) {
        let y0 = load(0), y1 = load(1), y2 = load(2), y3 = load(3)
        let even1 = y0 + y2, odd1 = y1 + y3
        let even2 = y0 + 4 * y2, odd2 = 2 * y1 + 8 * y3
        store(0, y0)
        store(1, even1 + odd1)
        store(2, even1 - odd1)
        store(3, even2 + odd2)
        store(4, even2 - odd2)
        store(5, y3)
    }
}
