import CKernelsBF16

/// The packed, register-tiled, multi-threaded SGEMM (Goto / BLIS loop structure).
///
///     for jc in N by NC            (B block kc×nc packed once per (jc, pc), lives in L3/L2)
///       for pc in K by KC          (the K reduction: always the same blocks, in order)
///         pack B̃ ← op(B)[pc, jc]
///         for ic in M by MC        (A block mc×kc packed, sized to stay in the 1 MiB L2)
///           pack Ã ← op(A)[ic, pc]
///           for jr in nc by NR     (B micro-panel kc×32 reused from L2/L1 by every ir)
///             for ir in mc by MR   (A micro-panel streamed from L2)
///               micro-kernel MR×NR (a partial tile: the kernels of GemmEdgeKernels.swift)
///
/// When N is at most two micro-panels wide (each A panel meets at most two B panels), A is
/// not packed: full 12-row panels are read in place by `micro12x32Rows`.
///
/// Threads split C into disjoint row ranges (multiples of MR) or column ranges (multiples of
/// NR); every thread runs the whole loop nest above on its part with its own buffers. The K
/// blocking and the order of the K loop never depend on the split, and full and edge tiles
/// use the same rounding, so C is bit-identical for any thread count.
extension Gemm {
    /// Cache blocking parameters (tunable for experiments, e.g. `mer-bench --kc/--mc/--nc`).
    ///
    /// Defaults measured on the 2-core Zen 4 VM (32 KiB L1d, 1 MiB L2 per core): kc = 512 beat
    /// 256 by ~5 points of peak (89–91 % vs 82–86 % at 1024³/2048³ on one core) because each
    /// micro-kernel call ends with a read-modify-write of 24 C lines, mostly from L3; a longer
    /// K block halves how often that ~600-cycle tail is paid. The kc×32 B micro-panel (64 KiB)
    /// then streams from L2, which is cheap: 128 bytes per 24 FMA cycles. mc = 240 keeps the
    /// packed A block (240×512×4 = 480 KiB) within half of L2; 120–360 measured the same
    /// within noise. kc = 768/1024 were no better.
    public struct Blocking: Sendable {
        /// K block: length of the reduction each micro-kernel call runs before touching C.
        public var kc: Int
        /// M block, a multiple of MR: the packed A block mc×kc must stay resident in L2.
        public var mc: Int
        /// N block: the packed B block kc×nc (L3-resident); large so A is repacked rarely.
        public var nc: Int
        public init(kc: Int, mc: Int, nc: Int) { self.kc = kc; self.mc = mc; self.nc = nc }
    }
    nonisolated(unsafe) public static var blocking = Blocking(kc: 512, mc: 240, nc: 4096)

    /// Rows per register tile of the micro-kernel (packed A panels are this tall).
    public static var microRows: Int { GemmKernel.mr }
    /// Columns per register tile (packed B panels are this wide).
    public static var microCols: Int { GemmKernel.nr }

    /// The fast path (packed, register-tiled, multi-threaded). Same contract as `reference`.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                             alpha: Float, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                             threads: Int = Parallel.threads, packedA: PackedMatrix? = nil) {
        if m <= 0 || n <= 0 { return }
        if k <= 0 || alpha == 0 {
            scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            return
        }
        // Tiny products: packing and tile padding cost more than they save.
        if m * n * k < 32 * 32 * 32 {
            small(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, packedA: packedA)
            return
        }
        // One to four rows (a Linear layer on one or two samples): no packing (GemmSkinny).
        if m <= GemmSkinny.maxRows && packedA == nil {
            GemmSkinny.run(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, threads: threads)
            return
        }
        let bBox = UncheckedSendable(b)
        // Non-transposed B packs with straight vector copies, much cheaper than the
        // element-wise A packing, so then threads split M and each repeats the B packing.
        driver(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
               packB: { p0, j0, kc, nc, dst in
                   GemmPacking.packB(transB: transB, b: bBox.value, ldb: ldb, p0: p0, j0: j0,
                                     kc: kc, nc: nc, dst: dst)
               },
               bPackIsCheap: !transB, beta: beta, c: c, ldc: ldc, threads: threads, packedA: packedA)
    }

    /// The driver with B supplied by a packing callback, so other kernels (implicit im2col
    /// convolution) can feed op(B) without materialising it.
    ///
    /// `packB(p0, j0, kc, nc, dst)` must write op(B)[p0 ..< p0+kc, j0 ..< j0+nc] as ⌈nc/32⌉
    /// consecutive panels of kc×32 floats (dst[panel][p][j], j = column within the panel),
    /// zero-padding columns past nc. It is called concurrently from several threads with
    /// distinct `dst` buffers (64-byte aligned). `alpha` must be nonzero and m, n, k > 0;
    /// beta == 0 does not read C.
    public static func sgemmPackedB(transA: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                    a: UnsafePointer<Float>, lda: Int,
                                    packB: (_ p0: Int, _ j0: Int, _ kc: Int, _ nc: Int,
                                            _ dst: UnsafeMutablePointer<Float>) -> Void,
                                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                    threads: Int = Parallel.threads) {
        if m <= 0 || n <= 0 || k <= 0 { return }
        driver(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, packB: packB,
               bPackIsCheap: false, beta: beta, c: c, ldc: ldc, threads: threads)
    }

    /// `sgemmPackedB` with explicit cache blocking instead of the global `blocking`, for
    /// callers (convolution) whose operand shapes want other block sizes (e.g. a B block
    /// that stays in L2 instead of the 4096-column default).
    static func sgemmPackedB(transA: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int,
                             packB: (_ p0: Int, _ j0: Int, _ kc: Int, _ nc: Int,
                                     _ dst: UnsafeMutablePointer<Float>) -> Void,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                             threads: Int, blocking blk: Blocking, packedA: PackedMatrix? = nil) {
        if m <= 0 || n <= 0 || k <= 0 { return }
        driver(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, packB: packB,
               bPackIsCheap: false, beta: beta, c: c, ldc: ldc, threads: threads, blocking: blk, packedA: packedA)
    }

    /// K block for a reduction of length `k`: the fewest blocks of at most `kcMax`, all of
    /// (nearly) equal length, so no short tail block pays a whole C read-modify-write for a
    /// few k steps (e.g. k = 576 → one block of 576 rather than 512 + 64 when kcMax ≥ 576).
    static func balancedKC(_ k: Int, kcMax: Int) -> Int {
        let blocks = max(1, (k + kcMax - 1) / kcMax)
        return (k + blocks - 1) / blocks
    }

    /// Multiply-adds a thread must get before a product is split (tests lower it so small
    /// shapes split too). 2·96³ was set when each split was a libdispatch fork/join (~40–50 µs
    /// on the 2-core VM); `WorkerPool`'s polling helpers take a part within a microsecond or
    /// two, so 48³ (~2 µs of one core's work) now: quick 1-sample inference, whose batch-1
    /// convolutions are products of 2–6 M multiply-adds (1×1 231 → 58 @15: 3 M, one thread
    /// before), went 8.5–9.0 → 8.1–8.2 ms (`mer-bench --model-profile quick-infer
    /// --gemm-min-work N`, two alternating rounds of 2·96³, 4·48³, 48³ and 2·24³; the last two
    /// measured the same). Paper inference and training, made of larger products, did not move.
    nonisolated(unsafe) public static var minimumWorkPerThread = 48 * 48 * 48

    /// How `sgemm` divides an m×n×k product: the thread count it really uses (at most
    /// `threads`) and whether the threads split N (columns) or M (rows).
    public static func plan(m: Int, n: Int, k: Int, threads: Int, bPackIsCheap: Bool) -> (threads: Int, splitN: Bool) {
        let mr = GemmKernel.mr, nr = GemmKernel.nr
        var t = max(1, min(threads, m * n * k / max(1, minimumWorkPerThread)))
        // Each thread packs only its own rows of A (split M) or columns of B (split N) and
        // repeats the packing of the other operand: repeat whichever packs cheaper, as long
        // as every thread still gets at least two micro-panels of the split dimension.
        let canSplitN = n >= 2 * nr * t, canSplitM = m >= 2 * mr * t
        let splitN: Bool
        if canSplitN && canSplitM {
            // Balance first: the slowest thread sets the time. Idle fraction of each split
            // (micro-panels per thread rounded up), e.g. 512 rows = 43 panels of 12 → 22 + 21
            // (2 % idle) but 512 columns = 16 panels of 32 → 8 + 8 (none).
            func idle(_ panels: Int) -> Double {
                let most = (panels + t - 1) / t
                return Double(most * t - panels) / Double(most * t)
            }
            let idleM = idle((m + mr - 1) / mr), idleN = idle((n + nr - 1) / nr)
            if abs(idleM - idleN) > 0.01 { splitN = idleN < idleM } else { splitN = !bPackIsCheap }
        }
        else if canSplitN || canSplitM { splitN = canSplitN }
        else { splitN = n >= 2 * nr; t = max(1, min(t, splitN ? n / nr : m / mr)) }
        return (t, splitN)
    }

    /// `bPackIsCheap`: packing B costs less per element than packing A, so a split that
    /// repeats the B packing on every thread (split M) beats one repeating A's (split N).
    private static func driver(transA: Bool, m: Int, n: Int, k: Int, alpha: Float,
                               a: UnsafePointer<Float>, lda: Int,
                               packB: (Int, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void,
                               bPackIsCheap: Bool,
                               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int,
                               blocking blk: Blocking = Gemm.blocking, packedA: PackedMatrix? = nil) {
        let mr = GemmKernel.mr, nr = GemmKernel.nr
        let kcMax = max(1, blk.kc)
        precondition(packedA.map { $0.fits(transA: transA, m: m, k: k, kcMax: kcMax) } ?? true,
                     "Gemm: a PackedMatrix packed for another shape or K block")
        let mcMax = max(mr, blk.mc / mr * mr)
        let ncMax = max(nr, blk.nc / nr * nr)

        let (t, splitN) = plan(m: m, n: n, k: k, threads: threads, bPackIsCheap: bPackIsCheap)
        let bf16 = GemmPrecision.current == .bfloat16 && GemmPrecision.bfloat16Supported

        let aBox = UncheckedSendable(a), cBox = UncheckedSendable(c)
        withoutActuallyEscaping(packB) { packB in
            let pBox = UncheckedSendable(packB)
            let part = { (rows: Range<Int>, cols: Range<Int>) in
                runBlocked(transA: transA, rows: rows, cols: cols, k: k, alpha: alpha,
                           a: aBox.value, lda: lda, packB: pBox.value, beta: beta,
                           c: cBox.value, ldc: ldc, kcMax: kcMax, mcMax: mcMax, ncMax: ncMax, bf16: bf16,
                           packedA: packedA)
            }
            if t <= 1 { part(0..<m, 0..<n) }
            else if splitN { Parallel.forRanges(n, granule: nr, threads: t) { part(0..<m, $0) } }
            else { Parallel.forRanges(m, granule: mr, threads: t) { part($0, 0..<n) } }
        }
    }

    /// One thread's share: the full blocked loop nest on C[rows, cols]. With `bf16` each
    /// packed float32 block is converted into bfloat16 pair panels (`CKernelsBF16`) right
    /// after packing, and the bfloat16 micro-kernel replaces the float32 one.
    private static func runBlocked(transA: Bool, rows: Range<Int>, cols: Range<Int>, k: Int,
                                   alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                   packB: (Int, Int, Int, Int, UnsafeMutablePointer<Float>) -> Void,
                                   beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                   kcMax: Int, mcMax: Int, ncMax: Int, bf16: Bool, packedA: PackedMatrix?) {
        let mr = GemmKernel.mr, nr = GemmKernel.nr
        let kcB = min(kcMax, k)
        let mcB = min(mcMax, (rows.count + mr - 1) / mr * mr)
        let ncB = min(ncMax, (cols.count + nr - 1) / nr * nr)
        // One allocation: [A block | B block | edge tile | bf16 A | bf16 B], each section
        // 64-byte aligned; the bf16 blocks hold ⌈kc/2⌉ pairs per panel row.
        let aFloats = mcB * kcB, bFloats = kcB * ncB, tFloats = mr * nr
        let kqB = (kcB + 1) / 2
        let a16Floats = bf16 ? mcB * kqB : 0, b16Floats = bf16 ? ncB * kqB : 0   // 2 bf16 = 1 float
        let bytes = (aFloats + bFloats + tFloats + a16Floats + b16Floats) * 4 + 5 * 64
        let (raw, cap) = GemmBuffers.pool.acquire(bytes: bytes)
        defer { GemmBuffers.pool.release(raw, bytes: cap) }
        let base = raw.bindMemory(to: Float.self, capacity: cap / 4)
        let aPack = base
        let bPack = base + (aFloats + 15) / 16 * 16
        let tile = bPack + (bFloats + 15) / 16 * 16
        let a16 = UnsafeMutableRawPointer(tile + (tFloats + 15) / 16 * 16).assumingMemoryBound(to: UInt16.self)
        let b16 = a16 + (a16Floats + 15) / 16 * 32

        // A in place: float32, non-transposed, not pre-packed, and at most two B panels per A panel.
        let directA = !bf16 && !transA && packedA == nil && ncB <= 2 * nr
        var jc = cols.lowerBound
        while jc < cols.upperBound {
            let nc = min(ncB, cols.upperBound - jc)
            var pc = 0
            while pc < k {
                let kc = min(kcB, k - pc)
                packB(pc, jc, kc, nc, bPack)
                let kq = (kc + 1) / 2
                if bf16 {
                    for panel in 0..<(nc + nr - 1) / nr {
                        mer_bf16_pack_b32(kc, bPack + panel * kc * nr, b16 + panel * kq * 2 * nr)
                    }
                }
                // Only the first K block applies the caller's beta; later blocks accumulate.
                let betaK: Float = pc == 0 ? beta : 1
                // A read in place (`micro12x32Rows`): each A panel meets at most two B panels here,
                // and packing it (a 12×k transpose) cost a third of one pass of the kernel over it.
                // Partial panels are still packed, one at a time, for the edge kernels.
                if directA {
                    var ir = rows.lowerBound
                    while ir < rows.upperBound {
                        let nrows = min(mr, rows.upperBound - ir)
                        var panelPacked = false
                        var jr = 0
                        while jr < nc {
                            let ncols = min(nr, nc - jr)
                            let bp = UnsafePointer(bPack + (jr / nr) * kc * nr)
                            let cp = c + ir * ldc + jc + jr
                            if nrows == mr && ncols == nr {
                                GemmKernel.micro12x32Rows(kc: kc, a: a + ir * lda + pc, lda: lda, b: bp, c: cp, ldc: ldc,
                                                          alpha: alpha, beta: betaK)
                            } else {
                                if !panelPacked {
                                    GemmPacking.packA(transA: false, a: a, lda: lda, i0: ir, p0: pc, mc: nrows, kc: kc,
                                                      dst: aPack)
                                    panelPacked = true
                                }
                                GemmKernel.tile(kc: kc, a: aPack, b: bp, rows: nrows, cols: ncols, c: cp, ldc: ldc,
                                                alpha: alpha, beta: betaK, scratch: tile)
                            }
                            jr += nr
                        }
                        ir += mr
                    }
                    pc += kc
                    continue
                }
                var ic = rows.lowerBound
                while ic < rows.upperBound {
                    let mc = min(mcB, rows.upperBound - ic)
                    // A pre-packed operand already holds this block's panels.
                    let aPack = packedA?.block(p0: pc, row: ic, len: kc) ?? aPack
                    if packedA == nil {
                        GemmPacking.packA(transA: transA, a: a, lda: lda, i0: ic, p0: pc, mc: mc, kc: kc,
                                          dst: aPack)
                    }
                    if bf16 {
                        for panel in 0..<(mc + mr - 1) / mr {
                            mer_bf16_pack_a12(kc, aPack + panel * kc * mr, a16 + panel * kq * 2 * mr)
                        }
                    }
                    var jr = 0
                    while jr < nc {
                        let ncols = min(nr, nc - jr)
                        let bp = UnsafePointer(bPack + (jr / nr) * kc * nr)
                        var ir = 0
                        while ir < mc {
                            let nrows = min(mr, mc - ir)
                            let ap = UnsafePointer(aPack + (ir / mr) * kc * mr)
                            let cp = c + (ic + ir) * ldc + jc + jr
                            if bf16 {
                                let a16p = a16 + (ir / mr) * kq * 2 * mr, b16p = b16 + (jr / nr) * kq * 2 * nr
                                if nrows == mr && ncols == nr {
                                    mer_bf16_micro12x32(kq, a16p, b16p, cp, ldc, alpha, betaK)
                                } else {
                                    mer_bf16_micro12x32(kq, a16p, b16p, tile, nr, 1, 0)
                                    GemmKernel.storeEdge(tile: tile, rows: nrows, cols: ncols, c: cp,
                                                         ldc: ldc, alpha: alpha, beta: betaK)
                                }
                            } else {
                                GemmKernel.tile(kc: kc, a: ap, b: bp, rows: nrows, cols: ncols, c: cp, ldc: ldc,
                                                alpha: alpha, beta: betaK, scratch: tile)
                            }
                            ir += mr
                        }
                        jr += nr
                    }
                    ic += mc
                }
                pc += kc
            }
            jc += nc
        }
    }

    /// C ← beta·C (beta == 0 writes zeros without reading C).
    private static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            let r = c + i * ldc
            if beta == 0 { for j in 0..<n { r[j] = 0 } } else { for j in 0..<n { r[j] *= beta } }
        }
    }

    /// Direct loops for tiny products (single thread): one row of C accumulated at a time.
    /// With `packedA`, op(A) is read from its panels (`a` may then be anything), in the same
    /// order, so the bits are those of the unpacked operand.
    private static func small(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                              alpha: Float, a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, ldb: Int,
                              beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, packedA: PackedMatrix? = nil) {
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { acc.deallocate() }
        for i in 0..<m {
            acc.initialize(repeating: 0, count: n)
            for p in 0..<k {
                let av = packedA?.element(i, p) ?? (transA ? a[p * lda + i] : a[i * lda + p])
                if transB {
                    for j in 0..<n { acc[j] = acc[j].addingProduct(av, b[j * ldb + p]) }
                } else {
                    let br = b + p * ldb
                    for j in 0..<n { acc[j] = acc[j].addingProduct(av, br[j]) }
                }
            }
            let r = c + i * ldc
            if beta == 0 { for j in 0..<n { r[j] = acc[j] * alpha } }
            else { for j in 0..<n { r[j] = (r[j] * beta).addingProduct(alpha, acc[j]) } }
        }
    }
}
