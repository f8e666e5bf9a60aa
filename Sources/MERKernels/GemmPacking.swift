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
            } else if rows == mr {
                packA12Rows(a + (i0 + ir) * lda + p0, lda: lda, kc: kc, dst: d)
            } else {
                // op(A)[i][p] = a[i·lda + p]: read each row contiguously, scatter with stride MR.
                for i in 0..<rows {
                    let s = a + (i0 + ir + i) * lda + p0
                    var dp = d + i
                    for p in 0..<kc { dp.pointee = s[p]; dp += mr }
                }
                if rows < mr {
                    for p in 0..<kc { for i in rows..<mr { d[p * mr + i] = 0 } }
                }
            }
            d += kc * mr
            ir += mr
        }
    }

    /// One full 12-row panel of non-transposed A: per k step, one element from each of the
    /// 12 rows (12 sequential read streams), stored as 12 contiguous floats. The plain
    /// row-by-row loop was vectorized into one `vscatterdps` per 16 floats and cost ~8 % of a
    /// 1024³ GEMM (perf); this form cut packing to ~3 %. The compiler still vectorizes it
    /// over k with scatters (objdump shows `vscatterdps` in the driver); a 12×16 register
    /// transpose would remove them and recover most of the remaining ~3 %.
    @inline(__always)
    private static func packA12Rows(_ src: UnsafePointer<Float>, lda: Int, kc: Int,
                                    dst: UnsafeMutablePointer<Float>) {
        let r0 = src + 0 * lda
        let r1 = src + 1 * lda
        let r2 = src + 2 * lda
        let r3 = src + 3 * lda
        let r4 = src + 4 * lda
        let r5 = src + 5 * lda
        let r6 = src + 6 * lda
        let r7 = src + 7 * lda
        let r8 = src + 8 * lda
        let r9 = src + 9 * lda
        let r10 = src + 10 * lda
        let r11 = src + 11 * lda
        var d = dst
        for p in 0..<kc {
            d[0] = r0[p]
            d[1] = r1[p]
            d[2] = r2[p]
            d[3] = r3[p]
            d[4] = r4[p]
            d[5] = r5[p]
            d[6] = r6[p]
            d[7] = r7[p]
            d[8] = r8[p]
            d[9] = r9[p]
            d[10] = r10[p]
            d[11] = r11[p]
            d += 12
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
                for p in 0..<kc {
                    let s = b + (p0 + p) * ldb + j0 + jr
                    let dp = d + p * nr
                    for j in 0..<cols { dp[j] = s[j] }
                    for j in cols..<nr { dp[j] = 0 }
                }
            }
            d += kc * nr
            jr += nr
        }
    }
}
