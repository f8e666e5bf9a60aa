import CParallel

// The register-tile kernel: up to 12 rows × 32 columns of C in zmm accumulators. One named
// accumulator per (row, half) so the optimizer keeps the tile in registers (arrays or tuples
// would go through memory). One generic body serves every variant: the row count (12, or 8
// and 4 for a partial last A panel) and where A's values lie (a packed panel, or rows of A in
// place) are static properties of its type parameters, so each specialisation is the plain
// unrolled kernel with the unused rows and offsets folded away.

/// How many rows of the 12-row A micro-panel a kernel computes.
protocol GemmTileRows { static var count: Int { get } }
enum GemmRows12: GemmTileRows { static var count: Int { 12 } }
enum GemmRows8: GemmTileRows { static var count: Int { 8 } }
enum GemmRows4: GemmTileRows { static var count: Int { 4 } }

/// Where element (row i, step k) of A lies, in bytes from the panel's start.
protocol GemmALayout {
    static func rowOffset(_ i: Int, lda: Int) -> Int
    static func step(lda: Int) -> Int
    /// Asks for A's data some steps ahead of `pa` (the current step) to be fetched.
    static func prefetchAhead(_ pa: UnsafeRawPointer)
}
/// A packed micro-panel: 12 floats per k step (`GemmPacking.packA`).
enum GemmPackedA: GemmALayout {
    @inline(__always) static func rowOffset(_ i: Int, lda: Int) -> Int { i * 4 }
    @inline(__always) static func step(lda: Int) -> Int { 48 }
    /// A panel is one sequential stream, and where it comes from memory rather than a cache
    /// (prepared inference filters read once per call: 59 MB of F(4,3) filters for 640 → 640
    /// @14) the hardware prefetcher alone left the FMAs waiting. One hint per step, 2 KB
    /// (~43 steps, a few hundred cycles of the 12×16 kernel) ahead: `mer-bench --winograd
    /// --batch 1 --conv "paper res12 640->640"` F(4,3) "infer" 2.90–2.93 → 2.49–2.72 ms; 512 B
    /// to 8 KB ahead all helped, 2–3 KB most.
    @inline(__always) static func prefetchAhead(_ pa: UnsafeRawPointer) { mer_prefetch(pa + 2048) }
}
/// Rows of non-transposed A in place: row i at `lda` floats from row i − 1, contiguous in k.
enum GemmRowsOfA: GemmALayout {
    @inline(__always) static func rowOffset(_ i: Int, lda: Int) -> Int { i * lda * 4 }
    @inline(__always) static func step(lda: Int) -> Int { 4 }
    /// 12 streams, which the hardware prefetcher follows (the weight pass's V, just written).
    @inline(__always) static func prefetchAhead(_ pa: UnsafeRawPointer) {}
}

extension GemmKernel {
    /// C[0..<R, 0..<32] = alpha · (Ã · B̃) + beta · C over one K block, R = `Rows.count`.
    ///
    /// `a`: A's first row at step 0, laid out as `Layout` says (`lda` only for rows in place);
    /// `b`: one packed B micro-panel, 32 floats per k step, 64-byte aligned. Per k step: 2
    /// vector loads of B, R broadcasts of A, 2R FMAs (R = 12: 24 accumulators + 2 B vectors
    /// + 1 broadcast = 27 of the 32 zmm registers, so nothing spills). `beta == 0` never reads
    /// C. The store is fma(alpha, acc, beta·c) per element, the formula of `update` and
    /// `storeEdge`, so every variant and every edge tile rounds identically.
    @inline(never)
    static func micro<Rows: GemmTileRows, Layout: GemmALayout>(_: Rows.Type, _: Layout.Type, kc: Int,
                                                              a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                                                              c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        typealias V = SIMD16<Float>
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V()
        var c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V(), c6_0 = V(), c6_1 = V(), c7_0 = V(), c7_1 = V()
        var c8_0 = V(), c8_1 = V(), c9_0 = V(), c9_1 = V(), c10_0 = V(), c10_1 = V(), c11_0 = V(), c11_1 = V()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        let step = Layout.step(lda: lda)
        var p = 0
        while p < kc {
            let b0 = pb.load(as: V.self)
            let b1 = pb.load(fromByteOffset: 64, as: V.self)
            Layout.prefetchAhead(pa)
            // Row i: broadcast A[i][k], two FMAs into the row's pair of accumulators.
            @inline(__always) func row(_ i: Int, _ lo: inout V, _ hi: inout V) {
                let ai = V(repeating: pa.load(fromByteOffset: Layout.rowOffset(i, lda: lda), as: Float.self))
                lo = lo.addingProduct(ai, b0); hi = hi.addingProduct(ai, b1)
            }
            row(0, &c0_0, &c0_1); row(1, &c1_0, &c1_1); row(2, &c2_0, &c2_1); row(3, &c3_0, &c3_1)
            if Rows.count > 4 { row(4, &c4_0, &c4_1); row(5, &c5_0, &c5_1); row(6, &c6_0, &c6_1); row(7, &c7_0, &c7_1) }
            if Rows.count > 8 { row(8, &c8_0, &c8_1); row(9, &c9_0, &c9_1); row(10, &c10_0, &c10_1); row(11, &c11_0, &c11_1) }
            pa += step; pb += 128; p += 1
        }
        let cr = UnsafeMutableRawPointer(c), rs = ldc * 4
        let va = V(repeating: alpha), vb = V(repeating: beta)
        @inline(__always) func put(_ row: Int, _ lo: V, _ hi: V) {
            let q = cr + row * rs
            if beta == 0 {
                q.storeBytes(of: lo * va, as: V.self)
                q.storeBytes(of: hi * va, toByteOffset: 64, as: V.self)
            } else {
                update(q, lo, hi, va, vb)
            }
        }
        put(0, c0_0, c0_1); put(1, c1_0, c1_1); put(2, c2_0, c2_1); put(3, c3_0, c3_1)
        if Rows.count > 4 { put(4, c4_0, c4_1); put(5, c5_0, c5_1); put(6, c6_0, c6_1); put(7, c7_0, c7_1) }
        if Rows.count > 8 { put(8, c8_0, c8_1); put(9, c9_0, c9_1); put(10, c10_0, c10_1); put(11, c11_0, c11_1) }
    }

    /// The full 12×32 tile of a packed A micro-panel.
    @inline(__always)
    static func micro12x32(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        micro(GemmRows12.self, GemmPackedA.self, kc: kc, a: a, lda: 0, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }

    /// The full 12×32 tile with A read in place: row i of the 12 at `a + i·lda`, contiguous in
    /// k (non-transposed A), instead of from a packed panel. For products whose A panels meet
    /// one or two B panels (N ≤ 64: the Winograd weight pass's dU = V·Z with cout ≤ 64), where
    /// packing a panel cost a third of the kernel time it saved.
    @inline(__always)
    static func micro12x32Rows(kc: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                               c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        micro(GemmRows12.self, GemmRowsOfA.self, kc: kc, a: a, lda: lda, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
    }
}
