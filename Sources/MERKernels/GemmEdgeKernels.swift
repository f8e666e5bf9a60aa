// Kernels for the last, partial B micro-panel of a product (fewer than 32 valid columns).
//
// Run on such a panel, the 12x32 kernel computes all 32 columns whatever its width: a product
// of N = 49 (one image's 7x7 output, or its 49 Winograd tiles) computed 64 columns and N = 16
// (the 4x4 tiles of a 15x15 or 16x16 map at batch 1) computed 32: 23 % and 50 % of those
// products' multiply-adds were padding. The edge of a panel is instead covered by a 12x16
// kernel (one zmm per row) for 16-column halves and a column kernel for the last 1-4
// columns, in which the 12 rows of A are the vector lanes and B's value is broadcast.
//
// Every output element is still one FMA chain over the same k order from zero, stored by the
// same formula (`GemmKernel.update` / `storeEdge`), so the results equal the 12x32 kernel's
// bit for bit (GemmTests compare every panel width against a scalar chain).

extension GemmKernel {
    /// One micro-tile C[0..<rows, 0..<cols] (rows ≤ 12, cols ≤ 32) of a packed A panel
    /// against a packed B panel, by the kernel that fits its size.
    @inline(__always)
    static func tile(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, rows: Int, cols: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float,
                     scratch: UnsafeMutablePointer<Float>) {
        if rows == mr && cols == nr {
            micro12x32(kc: kc, a: a, b: b, c: c, ldc: ldc, alpha: alpha, beta: beta)
        } else if cols == nr {
            shortRows(kc: kc, a: a, b: b, rows: rows, c: c, ldc: ldc, alpha: alpha, beta: beta, tile: scratch)
        } else {
            edge(kc: kc, a: a, b: b, rows: rows, cols: cols, c: c, ldc: ldc, alpha: alpha, beta: beta, tile: scratch)
        }
    }

    /// C[0..<rows, 0..<cols] (1 ≤ rows ≤ 12, 1 ≤ cols < 32) of one packed A micro-panel
    /// against one packed B micro-panel (32 floats per k step, columns past `cols` unused),
    /// through `tile` (12×32 scratch) where a kernel's tile is only partly valid.
    static func edge(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, rows: Int, cols: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float,
                     tile: UnsafeMutablePointer<Float>) {
        var j = 0
        while j < cols {
            let left = cols - j
            if left <= 4 {
                columns4(kc: kc, a: a, b: b + j, count: left, rows: rows, c: c + j, ldc: ldc,
                         alpha: alpha, beta: beta)
                return
            }
            if left >= 16 && rows == mr {
                micro12x16(kc: kc, a: a, b: b + j, c: c + j, ldc: ldc, alpha: alpha, beta: beta)
            } else {
                micro12x16(kc: kc, a: a, b: b + j, c: tile, ldc: nr, alpha: 1, beta: 0)
                storeEdge(tile: tile, rows: rows, cols: min(16, left), c: c + j, ldc: ldc,
                          alpha: alpha, beta: beta)
            }
            j += 16
        }
    }

    /// C[0..<12, 0..<16] = alpha · (Ã · B̃) + beta · C, B̃ read 16 floats per k step with a
    /// stride of 32 (one half of a packed B micro-panel). 12 independent accumulators keep
    /// the FMA pipe full; one load and 12 broadcasts per 12 FMAs.
    @inline(never)
    static func micro12x16(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        var c0 = SIMD16<Float>(), c1 = SIMD16<Float>(), c2 = SIMD16<Float>(), c3 = SIMD16<Float>()
        var c4 = SIMD16<Float>(), c5 = SIMD16<Float>(), c6 = SIMD16<Float>(), c7 = SIMD16<Float>()
        var c8 = SIMD16<Float>(), c9 = SIMD16<Float>(), c10 = SIMD16<Float>(), c11 = SIMD16<Float>()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        var p = 0
        while p < kc {
            // The right half of a panel starts 64 bytes in: aligned either way.
            let b0 = pb.load(as: SIMD16<Float>.self)
            GemmPackedA.prefetchAhead(pa)
            @inline(__always) func row(_ i: Int, _ acc: inout SIMD16<Float>) {
                acc = acc.addingProduct(SIMD16(repeating: pa.load(fromByteOffset: 4 * i, as: Float.self)), b0)
            }
            row(0, &c0); row(1, &c1); row(2, &c2); row(3, &c3); row(4, &c4); row(5, &c5)
            row(6, &c6); row(7, &c7); row(8, &c8); row(9, &c9); row(10, &c10); row(11, &c11)
            pa += 48; pb += 128; p += 1
        }
        let cr = UnsafeMutableRawPointer(c), rs = ldc * 4
        let va = SIMD16<Float>(repeating: alpha), vb = SIMD16<Float>(repeating: beta)
        @inline(__always) func put(_ row: Int, _ acc: SIMD16<Float>) {
            let q = cr + row * rs
            if beta == 0 {
                q.storeBytes(of: acc * va, as: SIMD16<Float>.self)
            } else {
                let old = UnsafeRawPointer(q).loadUnaligned(as: SIMD16<Float>.self)
                q.storeBytes(of: (old * vb).addingProduct(va, acc), as: SIMD16<Float>.self)
            }
        }
        put(0, c0); put(1, c1); put(2, c2); put(3, c3); put(4, c4); put(5, c5)
        put(6, c6); put(7, c7); put(8, c8); put(9, c9); put(10, c10); put(11, c11)
    }

    /// The first `count` (1…4) columns at `b` (32 floats per k step) against a 12-row A
    /// micro-panel, rows as lanes (8 + 4), B's element broadcast: 8 independent FMA chains
    /// cover the FMA latency that one column's 2 chains could not. Columns past `count` are
    /// computed from the panel's zero padding or its next columns and dropped; only
    /// C[0..<rows, 0..<count] is written, by `storeEdge`'s formula.
    @inline(never)
    static func columns4(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count: Int, rows: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        var lo0 = SIMD8<Float>(), lo1 = SIMD8<Float>(), lo2 = SIMD8<Float>(), lo3 = SIMD8<Float>()
        var hi0 = SIMD4<Float>(), hi1 = SIMD4<Float>(), hi2 = SIMD4<Float>(), hi3 = SIMD4<Float>()
        var pa = UnsafeRawPointer(a), pb = b
        var p = 0
        while p < kc {
            let aLo = pa.loadUnaligned(as: SIMD8<Float>.self)
            let aHi = pa.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self)
            let b0 = pb[0], b1 = pb[1], b2 = pb[2], b3 = pb[3]
            lo0 = lo0.addingProduct(aLo, SIMD8(repeating: b0)); hi0 = hi0.addingProduct(aHi, SIMD4(repeating: b0))
            lo1 = lo1.addingProduct(aLo, SIMD8(repeating: b1)); hi1 = hi1.addingProduct(aHi, SIMD4(repeating: b1))
            lo2 = lo2.addingProduct(aLo, SIMD8(repeating: b2)); hi2 = hi2.addingProduct(aHi, SIMD4(repeating: b2))
            lo3 = lo3.addingProduct(aLo, SIMD8(repeating: b3)); hi3 = hi3.addingProduct(aHi, SIMD4(repeating: b3))
            pa += 48; pb += nr; p += 1
        }
        @inline(__always) func put(_ col: Int, _ lo: SIMD8<Float>, _ hi: SIMD4<Float>) {
            for i in 0..<rows {
                let acc = i < 8 ? lo[i] : hi[i - 8]
                let q = c + i * ldc + col
                q.pointee = beta == 0 ? acc * alpha : (q.pointee * beta).addingProduct(alpha, acc)
            }
        }
        put(0, lo0, hi0)
        if count > 1 { put(1, lo1, hi1) }
        if count > 2 { put(2, lo2, hi2) }
        if count > 3 { put(3, lo3, hi3) }
    }
}

// The last, partial A micro-panel (fewer than 12 valid rows: cout or cin = 32, 64, 86, 160,
// 640, … leave 2–10 rows) likewise runs a 4- or 8-row kernel instead of all 12 rows.
extension GemmKernel {
    /// C[0..<rows, 0..<32] (1 ≤ rows < 12) of a full-width B micro-panel: the 4×32 or 8×32
    /// kernel on the panel's first rows (the 12×32 one for 9–11 rows), straight into C when
    /// its rows are all valid.
    static func shortRows(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, rows: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float,
                          tile: UnsafeMutablePointer<Float>) {
        let full = rows == 4 || rows == 8
        let (dst, ld, al, be) = full ? (c, ldc, alpha, beta) : (tile, nr, Float(1), Float(0))
        if rows <= 4 { micro(GemmRows4.self, GemmPackedA.self, kc: kc, a: a, lda: 0, b: b, c: dst, ldc: ld, alpha: al, beta: be) }
        else if rows <= 8 { micro(GemmRows8.self, GemmPackedA.self, kc: kc, a: a, lda: 0, b: b, c: dst, ldc: ld, alpha: al, beta: be) }
        else { micro12x32(kc: kc, a: a, b: b, c: dst, ldc: ld, alpha: al, beta: be) }
        if !full { storeEdge(tile: tile, rows: rows, cols: nr, c: c, ldc: ldc, alpha: alpha, beta: beta) }
    }
}
