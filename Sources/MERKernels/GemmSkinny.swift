/// Products with at most 4 rows of C: a Linear layer on one or two samples, e.g. CBAM's
/// channel-attention MLP on the stacked avg/max descriptors of one image (2 × 692 · 692 × 43,
/// then 2 × 43 · 43 × 692), both with B = Wᵀ, a transposed view. The packed path pads A to a
/// 4-row panel, packs B (element by element when it is transposed) and runs a 32-column tile
/// kernel; for two rows the packing cost many times the multiply-adds (`mer-script` loop over
/// `x:matmul(w:transpose(1,2))`, 2 × 692 × 43: 34 µs a call, 21 µs for 2 × 43 × 692).
///
/// Each element of C is computed by one thread in an order fixed by (m, n, k) alone, so the
/// result does not depend on the thread count:
/// - B transposed (row j of Bᵀ contiguous in k): C[i][j] is a dot product of two contiguous
///   rows, 16 partial sums over k (lane l takes k ≡ l mod 16, the tail zero-padded), added
///   by halves.
/// - B not transposed (row p contiguous in n): 16 columns per vector, each element one FMA
///   chain over k in order (as the tile kernels compute it within a K block).
/// The store is the tile kernels' formula: alpha·acc when beta is 0 (C is not read), else
/// fma(alpha, acc, beta·c).
enum GemmSkinny {
    /// Rows of C up to which `Gemm.sgemm` takes this path (above `small`'s tiny products).
    static let maxRows = 4

    typealias V = SIMD16<Float>

    static func run(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int) {
        precondition(m >= 1 && m <= maxRows && n > 0 && k > 0)
        // A's rows made contiguous (a transposed A has them strided), 4 rows always, the
        // missing ones zero: the loops then need no row count inside.
        let ld = stride(k)
        let rows = UnsafeMutablePointer<Float>.allocate(capacity: maxRows * ld)
        defer { rows.deallocate() }
        rows.initialize(repeating: 0, count: maxRows * ld)
        for i in 0..<m {
            for p in 0..<k { rows[i * ld + p] = transA ? a[p * lda + i] : a[i * lda + p] }
        }
        let t = max(1, min(threads, m * n * k / max(1, Gemm.minimumWorkPerThread), (n + 15) / 16))
        let rowsBox = UncheckedSendable(UnsafePointer(rows)), bBox = UncheckedSendable(b), cBox = UncheckedSendable(c)
        Parallel.forRanges(n, granule: 16, threads: t) { cols in
            if transB {
                dots(m: m, n: n, cols: cols, k: k, alpha: alpha, rows: rowsBox.value, b: bBox.value, ldb: ldb,
                     beta: beta, c: cBox.value, ldc: ldc)
            } else {
                chains(m: m, n: n, cols: cols, k: k, alpha: alpha, rows: rowsBox.value, b: bBox.value, ldb: ldb,
                       beta: beta, c: cBox.value, ldc: ldc)
            }
        }
    }

    @inline(__always)
    static func store(_ acc: Float, _ q: UnsafeMutablePointer<Float>, alpha: Float, beta: Float) {
        q.pointee = beta == 0 ? alpha * acc : (beta * q.pointee).addingProduct(alpha, acc)
    }

    /// C[i][j] = row i of A · row j of Bᵀ for j in `cols`.
    static func dots(m: Int, n: Int, cols: Range<Int>, k: Int, alpha: Float, rows: UnsafePointer<Float>,
                     b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let whole = k / 16 * 16, ld = stride(k), tailMask = VectorTail.lanes(from: k - whole)
        let r0 = UnsafeRawPointer(rows), r1 = r0 + 4 * ld, r2 = r1 + 4 * ld, r3 = r2 + 4 * ld
        for j in cols {
            let rb = UnsafeRawPointer(b + j * ldb)
            var s0 = V(), s1 = V(), s2 = V(), s3 = V()
            @inline(__always) func step(_ p: Int, _ bv: V) {
                s0 = s0.addingProduct(r0.load(fromByteOffset: 4 * p, as: V.self), bv)
                s1 = s1.addingProduct(r1.load(fromByteOffset: 4 * p, as: V.self), bv)
                s2 = s2.addingProduct(r2.load(fromByteOffset: 4 * p, as: V.self), bv)
                s3 = s3.addingProduct(r3.load(fromByteOffset: 4 * p, as: V.self), bv)
            }
            var p = 0
            while p < whole {
                step(p, rb.loadUnaligned(fromByteOffset: 4 * p, as: V.self))
                p += 16
            }
            if p < k {
                // The k mod 16 tail, zero-padded (A's rows are zero past k).
                step(p, VectorTail.load(rb + 4 * p, count: k - p, fill: 0, tail: tailMask,
                                        inside: j * ldb + p + 16 <= (n - 1) * ldb + k))
            }
            store(sum(s0), c + j, alpha: alpha, beta: beta)
            if m > 1 { store(sum(s1), c + ldc + j, alpha: alpha, beta: beta) }
            if m > 2 { store(sum(s2), c + 2 * ldc + j, alpha: alpha, beta: beta) }
            if m > 3 { store(sum(s3), c + 3 * ldc + j, alpha: alpha, beta: beta) }
        }
    }

    /// The 16 lanes added by halves (8 + 8, 4 + 4, 2 + 2, 1 + 1): a fixed order, and a few
    /// shuffles where `sum()` extracted lane by lane.
    @inline(__always)
    static func sum(_ v: V) -> Float {
        let h8 = v.lowHalf + v.highHalf, h4 = h8.lowHalf + h8.highHalf, h2 = h4.lowHalf + h4.highHalf
        return h2[0] + h2[1]
    }

    /// Floats per row of the A copy: k rounded up to 16, so the dot products' last vector
    /// reads zeros past k.
    @inline(__always)
    static func stride(_ k: Int) -> Int { (k + 15) / 16 * 16 }

    /// C[i][j] for j in `cols`, 16 columns of B per vector, each an FMA chain over k.
    static func chains(m: Int, n: Int, cols: Range<Int>, k: Int, alpha: Float, rows: UnsafePointer<Float>,
                       b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let ld = stride(k)
        var j = cols.lowerBound
        while j < cols.upperBound {
            // The last 1–15 columns read zero-padded vectors: a load of 16 could run past B.
            let width = min(16, cols.upperBound - j), tailMask = VectorTail.lanes(from: width)
            var s0 = V(), s1 = V(), s2 = V(), s3 = V()
            for p in 0..<k {
                let bv = VectorTail.load(UnsafeRawPointer(b + p * ldb + j), count: width, fill: 0, tail: tailMask,
                                         inside: p * ldb + j + 16 <= (k - 1) * ldb + n)
                s0 = s0.addingProduct(V(repeating: rows[p]), bv)
                s1 = s1.addingProduct(V(repeating: rows[ld + p]), bv)
                s2 = s2.addingProduct(V(repeating: rows[2 * ld + p]), bv)
                s3 = s3.addingProduct(V(repeating: rows[3 * ld + p]), bv)
            }
            @inline(__always) func put(_ i: Int, _ acc: V) {
                let q = c + i * ldc + j
                for l in 0..<width { store(acc[l], q + l, alpha: alpha, beta: beta) }
            }
            put(0, s0)
            if m > 1 { put(1, s1) }
            if m > 2 { put(2, s2) }
            if m > 3 { put(3, s3) }
            j += width
        }
    }
}
