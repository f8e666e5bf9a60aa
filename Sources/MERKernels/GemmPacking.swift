/// Packing: copies a block of op(A) / op(B) into the exact order the micro-kernel reads it,
/// so the K loop walks two contiguous, 64-byte aligned streams whatever the transposes and
/// leading dimensions were. Partial panels are zero-padded to full MR / NR width, so every
/// kernel may read a whole panel; the edge kernels (GemmEdgeKernels.swift) compute only the
/// valid part's 4-, 8- or 16-wide blocks, and what padding they still compute is dropped.
enum GemmPacking {
    /// Packs op(A)[i0 ..< i0+mc, p0 ..< p0+kc] into ⌈mc/MR⌉ micro-panels of kc×MR floats
    /// (panel-major, then k, then row): dst[panel][p][i].
    static func packA(transA: Bool, a: UnsafePointer<Float>, lda: Int, i0: Int, p0: Int,
                      mc: Int, kc: Int, dst: UnsafeMutablePointer<Float>) {
        let mr = GemmKernel.mr
        var d = dst
        var ir = 0
        while ir < mc {
            let rows = min(mr, mc - ir)
            if transA {
                // op(A)[i][p] = a[p·lda + i]: each k step is a contiguous run of rows.
                for p in 0..<kc {
                    let s = a + (p0 + p) * lda + i0 + ir
                    let dp = d + p * mr
                    for i in 0..<rows { dp[i] = s[i] }
                    for i in rows..<mr { dp[i] = 0 }
                }
            } else {
                packA12Rows(a + (i0 + ir) * lda + p0, lda: lda, rows: rows, kc: kc, dst: d)
            }
            d += kc * mr
            ir += mr
        }
    }

    /// One 12-row panel of non-transposed A (`rows` ≤ 12 of them real, the rest zero): per k
    /// step, one element from each row, stored as 12 contiguous floats. 16 k steps at a time
    /// are a 12×16 block transposed in registers (`Transpose16`, zero rows past `rows` and
    /// 4 more): column k is then lanes 0..<12 of one vector, stored whole at dst + 12·k in
    /// increasing k, each store's 4 extra lanes overwritten by the next (the block's last
    /// column stores 12 lanes only when nothing follows it in the panel). The loop before this
    /// read one element per row and k and the compiler turned it into a `vscatterdps` per 16
    /// floats.
    @inline(__always)
    private static func packA12Rows(_ src: UnsafePointer<Float>, lda: Int, rows: Int, kc: Int,
                                    dst: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        @inline(__always) func row(_ i: Int, _ p: Int) -> V {
            i < rows ? UnsafeRawPointer(src + i * lda + p).loadUnaligned(as: V.self) : V()
        }
        @inline(__always) func put(_ v: V, _ d: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(d).storeBytes(of: v, as: V.self)
        }
        var p = 0
        while p + 16 <= kc {
            let z = V()
            let t = Transpose16.transpose((row(0, p), row(1, p), row(2, p), row(3, p), row(4, p), row(5, p),
                                           row(6, p), row(7, p), row(8, p), row(9, p), row(10, p), row(11, p),
                                           z, z, z, z))
            let d = dst + p * 12
            put(t.0, d); put(t.1, d + 12); put(t.2, d + 24); put(t.3, d + 36)
            put(t.4, d + 48); put(t.5, d + 60); put(t.6, d + 72); put(t.7, d + 84)
            put(t.8, d + 96); put(t.9, d + 108); put(t.10, d + 120); put(t.11, d + 132)
            put(t.12, d + 144); put(t.13, d + 156); put(t.14, d + 168)
            if p + 16 < kc {
                put(t.15, d + 180)
            } else {
                UnsafeMutableRawPointer(d + 180).storeBytes(of: t.15.lowHalf, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(d + 188).storeBytes(of: t.15.highHalf.lowHalf, as: SIMD4<Float>.self)
            }
            p += 16
        }
        while p < kc {
            let d = dst + p * 12
            for i in 0..<12 { d[i] = i < rows ? src[i * lda + p] : 0 }
            p += 1
        }
    }

    /// Packs op(B)[p0 ..< p0+kc, j0 ..< j0+nc] into ⌈nc/NR⌉ micro-panels of kc×NR floats:
    /// dst[panel][p][j]. Each panel row is the two zmm vectors the kernel loads per k step.
    static func packB(transB: Bool, b: UnsafePointer<Float>, ldb: Int, p0: Int, j0: Int,
                      kc: Int, nc: Int, dst: UnsafeMutablePointer<Float>) {
        let nr = GemmKernel.nr
        var d = dst
        var jr = 0
        while jr < nc {
            let cols = min(nr, nc - jr)
            if transB {
                // op(B)[p][j] = b[j·ldb + p]: read each column of op(B) contiguously.
                for j in 0..<cols {
                    let s = b + (j0 + jr + j) * ldb + p0
                    var dp = d + j
                    for p in 0..<kc { dp.pointee = s[p]; dp += nr }
                }
                if cols < nr {
                    for p in 0..<kc { for j in cols..<nr { d[p * nr + j] = 0 } }
                }
            } else if cols == nr {
                // The hot case: two unaligned 64-byte loads, two aligned stores per k step.
                for p in 0..<kc {
                    let s = UnsafeRawPointer(b + (p0 + p) * ldb + j0 + jr)
                    let dp = UnsafeMutableRawPointer(d + p * nr)
                    dp.storeBytes(of: s.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                    dp.storeBytes(of: s.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self),
                                  toByteOffset: 64, as: SIMD16<Float>.self)
                }
            } else {
                // A partial panel (N = 16 or 49: the Winograd tiles of one 16×16 or 28×28 map):
                // a whole first half by one vector when there are 16 columns, zeros by vector
                // stores, only the last cols mod 16 floats one by one. (Element by element,
                // this loop was ~4 % of 1-sample inference, perf.)
                let zero = SIMD16<Float>()
                for p in 0..<kc {
                    let s = b + (p0 + p) * ldb + j0 + jr
                    let dp = d + p * nr, raw = UnsafeMutableRawPointer(dp)
                    var j = 0
                    if cols >= 16 {
                        raw.storeBytes(of: UnsafeRawPointer(s).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                        j = 16
                    } else {
                        raw.storeBytes(of: zero, as: SIMD16<Float>.self)
                    }
                    raw.storeBytes(of: zero, toByteOffset: 64, as: SIMD16<Float>.self)
                    while j < cols { dp[j] = s[j]; j += 1 }
                }
            }
            d += kc * nr
            jr += nr
        }
    }
}
