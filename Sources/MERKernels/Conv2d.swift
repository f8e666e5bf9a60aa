/// 2-D convolution (PyTorch `nn.Conv2d` semantics, cross-correlation) on NCHW float32 buffers.
///
///     input  (n, cin, h, w)                weight (cout, cin/groups, kh, kw)    bias (cout)
///     output (n, cout, hout, wout)         K = (cin/groups)·kh·kw,  P = hout·wout
///
/// Lowering: per image and group g, with cols_g = im2col(input_g) of shape (K, P),
///
///     forward         out_g  (cout/g, P) = W_g (cout/g, K) · cols_g (K, P)         (+ bias)
///     backwardData    dcols  (K, P)      = W_gᵀ (K, cout/g) · dOut_g (cout/g, P);  dIn_g = col2im(dcols)
///     backwardWeight  dW_g   (cout/g, K) = Σ_images dOut_g (cout/g, P) · cols_gᵀ (P, K)
///
/// The backward formulas are the two adjoints of the forward product: out = W·C is linear in W and
/// in C, so dC = Wᵀ·dOut and dW = dOut·Cᵀ; im2col is a linear copy whose adjoint is col2im
/// (scatter-add), so dIn = col2im(dC). A 1×1 kernel with stride 1 and no padding has cols = the
/// input planes themselves (row c is plane c), so those convolutions skip the lowering entirely.
///
/// Threading (static splits only, so a fixed `Parallel.threads` gives bit-identical results):
/// - n ≥ threads: the batch is cut into `threads` contiguous ranges; each worker owns one column
///   buffer (one image·group of columns, K·P floats) and calls sgemm with `threads: 1`.
///   backwardWeight gives each worker its own partial dW and sums them in worker order.
/// - n < threads (e.g. batch-1 inference): images run one after another with one column buffer,
///   and sgemm / im2col / col2im use all threads inside each image.
/// Column memory is therefore bounded by (workers)·K·P floats, never by the batch size.
///
/// 3×3 stride-1 convolutions may go to `WinogradKernels` instead, as `ConvAlgorithm.mode`
/// decides per shape and pass; the `*Reference` loops below stay the oracle for both.
public enum ConvKernels {
    // MARK: Fast paths

    /// output (n,cout,hout,wout) = conv(input (n,cin,h,w), weight (cout,cin/groups,kh,kw)) + bias (cout)?
    /// With an `epilogue` (then bias must be nil) each output plane gets it while still in cache.
    /// `prepared`: the weights as `ConvPreparedWeights.prepare` made them (inference reuses
    /// them call after call); used when they fit the path taken now, else ignored.
    public static func forward(_ s: ConvShape, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                               epilogue: ConvEpilogue? = nil, prepared: ConvPreparedWeights? = nil) {
        guard s.n > 0 else { return }
        precondition(bias == nil || epilogue == nil, "ConvKernels.forward: fold the bias into the epilogue's shift")
        if let tile = ConvAlgorithm.winogradTile(for: s, pass: .forward, filtersPrepared: prepared != nil) {
            WinogradKernels.forward(s, tile: tile, input: input, weight: weight, bias: bias, output: output, epilogue: epilogue,
                                    packedFilters: prepared?.winograd(for: s, tile: tile))
            return
        }
        if narrowHandles(s) {
            let l = ConvLowering(s)
            narrowForward(s, input: input, weight: weight, output: output)
            for i in 0..<s.n { finishForward(s, l, image: i, bias: bias, epilogue: epilogue, output: output, threads: Parallel.threads) }
            return
        }
        let l = ConvLowering(s)
        let implicit = !l.pointwise && implicitForward(s)
        let blk = forwardBlocking(s, l)
        let total = s.n * l.inImage
        let stack = l.pointwiseStack(s.n)
        withCallPackedWeights(s, l, kcMax: blk.kc, weight: weight, prepared: prepared?.gemm(for: s)) { packedA in
        overBatch(s.n, parts: l.parts, colsCount: l.forwardColsCount(s.n, implicit: implicit)) { _, images, cols, inner in
            if stack > 1 {
                // Pointwise, small images: `stack` images per product (see pointwiseStack).
                // Each output element sees the same K blocks as in a one-image product.
                var i0 = images.lowerBound
                while i0 < images.upperBound {
                    let count = min(stack, images.upperBound - i0), ld = count * l.p
                    let planes = input + i0 * l.inImage, readable = (s.n - i0) * l.inImage
                    Gemm.sgemmPackedB(transA: false, m: s.cout, n: ld, k: l.k, alpha: 1, a: weight, lda: l.k,
                                      packB: { p0, j0, kc, nc, dst in
                                          packStackedB(planes: planes, p: l.p, imageStride: l.inImage, readable: readable,
                                                       p0: p0, j0: j0, kc: kc, nc: nc, dst: dst)
                                      },
                                      beta: 0, c: cols, ldc: ld, threads: inner, blocking: blk, packedA: packedA)
                    for j in 0..<count {
                        unstack(cols, ld: ld, rows: s.cout, p: l.p, image: j, into: output + (i0 + j) * l.outImage)
                        finishForward(s, l, image: i0 + j, bias: bias, epilogue: epilogue, output: output, threads: inner)
                    }
                    i0 += count
                }
                return
            }
            for i in images {
                let img = input + i * l.inImage, out = output + i * l.outImage
                for g in 0..<s.groups {
                    if implicit {
                        let start = i * l.inImage + g * l.inGroup
                        let base = input + start
                        Gemm.sgemmPackedB(transA: false, m: l.coutPG, n: l.p, k: l.k, alpha: 1,
                                          a: weight + g * l.wGroup, lda: l.k,
                                          packB: { p0, j0, kc, nc, dst in
                                              packForwardB(s, base: base, lo: -start, hi: total - start,
                                                           p0: p0, j0: j0, kc: kc, nc: nc, dst: dst)
                                          },
                                          beta: 0, c: out + g * l.outGroup, ldc: l.p, threads: inner,
                                          blocking: blk, packedA: packedA)
                        continue
                    }
                    let b: UnsafePointer<Float>
                    if l.pointwise {
                        b = img + g * l.inGroup
                    } else {
                        im2col(s, image: img + g * l.inGroup, channels: l.cinPG, cols: cols, threads: inner)
                        b = UnsafePointer(cols)
                    }
                    Gemm.sgemm(transA: false, transB: false, m: l.coutPG, n: l.p, k: l.k, alpha: 1,
                               a: weight + g * l.wGroup, lda: l.k, b: b, ldb: l.p,
                               beta: 0, c: out + g * l.outGroup, ldc: l.p, threads: inner, packedA: packedA)
                }
                finishForward(s, l, image: i, bias: bias, epilogue: epilogue, output: output, threads: inner)
            }
        }
        }
    }

    /// Copies image `j`'s planes (`rows` of P floats) out of a product that holds images side
    /// by side (rows `ld` floats apart) into its NCHW place.
    private static func unstack(_ cols: UnsafePointer<Float>, ld: Int, rows: Int, p: Int, image j: Int,
                                into dst: UnsafeMutablePointer<Float>) {
        for r in 0..<rows { (dst + r * p).update(from: cols + r * ld + j * p, count: p) }
    }

    /// Adds the bias to, or applies the epilogue on, image `image`'s output planes.
    static func finishForward(_ s: ConvShape, _ l: ConvLowering, image i: Int, bias: UnsafePointer<Float>?,
                                      epilogue: ConvEpilogue?, output: UnsafeMutablePointer<Float>, threads: Int) {
        if let bias {
            let out = output + i * l.outImage
            Parallel.forRanges(s.cout, threads: threads) { chans in
                for co in chans {
                    let plane = out + co * l.p, v = bias[co]
                    for j in 0..<l.p { plane[j] += v }
                }
            }
        } else if let epilogue {
            Parallel.forRanges(s.cout, threads: threads) { chans in
                for co in chans {
                    let plane = i * l.outImage + co * l.p
                    epilogue.apply(output, count: l.p, channel: co, offset: plane, planeStart: plane, planeCount: l.p)
                }
            }
        }
    }

    /// Images per product in the pointwise forward and backwardData of `s` at the current
    /// thread count (1: one image at a time; see `ConvLowering.pointwiseStack`). For tests.
    public static func pointwiseStack(_ s: ConvShape) -> Int { ConvLowering(s).pointwiseStack(s.n) }

    /// Whether forward packs the weights once for the whole call (see `withCallPackedWeights`).
    static func packsWeightsPerCall(_ s: ConvShape, _ l: ConvLowering) -> Bool { s.groups == 1 && s.n > l.parts }

    /// Runs `body` with the forward's A operand packed once for all the call's images: the
    /// prepared weights when given, else (a training batch, where each worker would repack the
    /// same weights for every image) a copy packed now into a retained buffer; nil when each
    /// image packs its own (grouped convolutions, at most one image per worker). Packing per
    /// image was ~13 % of a 260 → 346 3×3/2 forward at batch 16 (perf: the driver's packA).
    private static func withCallPackedWeights(_ s: ConvShape, _ l: ConvLowering, kcMax: Int, weight: UnsafePointer<Float>,
                                              prepared: PackedMatrix?, _ body: (PackedMatrix?) -> Void) {
        if let prepared { return body(prepared) }
        guard packsWeightsPerCall(s, l) else { return body(nil) }
        let (raw, cap) = packedWeightBuffers.acquire(bytes: PackedMatrix.bytes(m: s.cout, k: l.k))
        defer { packedWeightBuffers.release(raw, bytes: cap) }
        let packed = PackedMatrix(borrowing: raw.bindMemory(to: Float.self, capacity: cap / 4), transA: false,
                                  m: s.cout, k: l.k, kcMax: kcMax)
        packed.pack(weight, lda: l.k)
        body(packed)
    }

    /// The retained buffers of `withCallPackedWeights` (one per forward in flight).
    private static let packedWeightBuffers = ScratchPool(capacity: 2)

    /// The blocking of forward's product for `s`. Implicit path: B panels come from the image;
    /// K and N blocks balanced so there is no short tail block (a tail K block pays a C round
    /// trip, a tail N block an A repack). nc: the fewest equal blocks of at most 800 columns
    /// (rounded up to whole panels), so A is not repacked for a short tail block (P = 784 →
    /// one block, 3136 → 5 of 640). Other paths: `Gemm.blocking`. The K block depends on the
    /// layer alone, so prepared weights serve any batch and image size.
    static func forwardBlocking(_ s: ConvShape, _ l: ConvLowering) -> Gemm.Blocking {
        guard !l.pointwise && implicitForward(s) else { return Gemm.blocking }
        let ncB = (Gemm.balancedKC(l.p, kcMax: 800) + 31) / 32 * 32
        return Gemm.Blocking(kc: Gemm.balancedKC(l.k, kcMax: 640), mc: Gemm.blocking.mc, nc: ncB)
    }

    /// gradInput (n,cin,h,w) from gradOutput (n,cout,hout,wout). Overwrites gradInput.
    public static func backwardData(_ s: ConvShape, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                    gradInput: UnsafeMutablePointer<Float>) {
        guard s.n > 0 else { return }
        if let tile = ConvAlgorithm.winogradTile(for: s, pass: .backwardData) {
            WinogradKernels.backwardData(s, tile: tile, gradOutput: gradOutput, weight: weight, gradInput: gradInput)
            return
        }
        let l = ConvLowering(s)
        // Small images: one GEMM covers `stack` images side by side (N = stack·P), so the
        // transposed weights are packed once per `stack` images instead of once per image
        // (profile, 320→640 @14: packing Wᵀ per image was ~21 % of backwardData).
        let stack = l.dataStack(s.n)
        // Pointwise products keep sgemm's blocking, so stacking them changes no result.
        let blk = l.pointwise ? Gemm.blocking
                              : Gemm.Blocking(kc: Gemm.balancedKC(l.coutPG, kcMax: 640), mc: Gemm.blocking.mc, nc: Gemm.blocking.nc)
        overBatch(s.n, parts: l.parts, colsCount: l.dataColsCount(s.n)) { _, images, cols, inner in
            var i0 = images.lowerBound
            while i0 < images.upperBound {
                let count = min(stack, images.upperBound - i0)
                for g in 0..<s.groups {
                    if l.pointwise && count == 1 {
                        // dIn_g (cin/g, P) = W_gᵀ · dOut_g directly (the cols ARE the input).
                        let dOut = gradOutput + i0 * l.outImage, dIn = gradInput + i0 * l.inImage
                        Gemm.sgemm(transA: true, transB: false, m: l.k, n: l.p, k: l.coutPG, alpha: 1,
                                   a: weight + g * l.wGroup, lda: l.k, b: dOut + g * l.outGroup, ldb: l.p,
                                   beta: 0, c: dIn + g * l.inGroup, ldc: l.p, threads: inner)
                        continue
                    }
                    let dOut0 = gradOutput + i0 * l.outImage + g * l.outGroup
                    let ld = count * l.p
                    if count == 1 {
                        Gemm.sgemm(transA: true, transB: false, m: l.k, n: l.p, k: l.coutPG, alpha: 1,
                                   a: weight + g * l.wGroup, lda: l.k, b: dOut0, ldb: l.p,
                                   beta: 0, c: cols, ldc: l.p, threads: inner)
                    } else {
                        let readable = (s.n - i0) * l.outImage - g * l.outGroup
                        Gemm.sgemmPackedB(transA: true, m: l.k, n: ld, k: l.coutPG, alpha: 1,
                                          a: weight + g * l.wGroup, lda: l.k,
                                          packB: { p0, j0, kc, nc, dst in
                                              packStackedB(planes: dOut0, p: l.p, imageStride: l.outImage, readable: readable,
                                                           p0: p0, j0: j0, kc: kc, nc: nc, dst: dst)
                                          },
                                          beta: 0, c: cols, ldc: ld, threads: inner, blocking: blk)
                    }
                    if l.pointwise {
                        // The columns are the input planes: copy each image's back.
                        for j in 0..<count {
                            unstack(cols, ld: ld, rows: l.k, p: l.p, image: j, into: gradInput + (i0 + j) * l.inImage)
                        }
                        continue
                    }
                    for j in 0..<count {
                        col2im(s, cols: cols + j * l.p, ld: ld, channels: l.cinPG,
                               image: gradInput + (i0 + j) * l.inImage + g * l.inGroup, threads: inner)
                    }
                }
                i0 += count
            }
        }
    }

    /// gradWeight (cout,cin/groups,kh,kw) and gradBias (cout)? — overwrites both.
    public static func backwardWeight(_ s: ConvShape, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                      gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?) {
        let l = ConvLowering(s)
        let wCount = s.cout * l.k
        guard s.n > 0 else {
            // An empty batch contributes nothing: the gradients are exactly zero.
            gradWeight.update(repeating: 0, count: wCount)
            gradBias?.update(repeating: 0, count: s.cout)
            return
        }
        if let tile = ConvAlgorithm.winogradTile(for: s, pass: .backwardWeight) {
            WinogradKernels.backwardWeight(s, tile: tile, input: input, gradOutput: gradOutput,
                                           gradWeight: gradWeight, gradBias: gradBias)
            return
        }
        // Each worker accumulates Σ_its images dOut_g · colsᵀ into its own dW' in tap-major
        // order (co, ky, kx, c), with B packed from a zero-bordered channel-last copy of the
        // image (see packWeightB); the partials are then summed in worker order and permuted
        // back to (co, c, ky, kx). Memory: parts × (weights + one padded image group).
        let taps = s.kh * s.kw, cpg = l.cinPG
        let hwcCount = l.paddedImageCount, wp = s.w + 2 * s.padW
        let blk = Gemm.Blocking(kc: Gemm.balancedKC(l.p, kcMax: 640), mc: Gemm.blocking.mc, nc: 4096)
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: l.parts * wCount)
        defer { partials.deallocate() }
        overBatch(s.n, parts: l.parts, colsCount: hwcCount) { part, images, hwc, inner in
            let dW = partials + part * wCount
            hwc.update(repeating: 0, count: hwcCount)
            for i in images {
                let img = input + i * l.inImage, dOut = gradOutput + i * l.outImage
                for g in 0..<s.groups {
                    if l.pointwise {
                        // 1×1 stride 1: cols = the input planes, tap-major order = weight order;
                        // the plain transposed-B GEMM measured faster than the channel-last copy.
                        Gemm.sgemm(transA: false, transB: true, m: l.coutPG, n: l.k, k: l.p, alpha: 1,
                                   a: dOut + g * l.outGroup, lda: l.p, b: img + g * l.inGroup, ldb: l.p,
                                   beta: i == images.lowerBound ? 0 : 1, c: dW + g * l.wGroup, ldc: l.k,
                                   threads: inner)
                        continue
                    }
                    toPaddedHWC(s, image: img + g * l.inGroup, channels: cpg, hwc: hwc, wp: wp)
                    let src = UnsafePointer(hwc)
                    // The first image of the range overwrites (beta 0), later ones accumulate.
                    Gemm.sgemmPackedB(transA: false, m: l.coutPG, n: l.k, k: l.p, alpha: 1,
                                      a: dOut + g * l.outGroup, lda: l.p,
                                      packB: { p0, j0, kc, nc, dst in
                                          packWeightB(s, hwc: src, channels: cpg, wp: wp,
                                                      p0: p0, j0: j0, kc: kc, nc: nc, dst: dst)
                                      },
                                      beta: i == images.lowerBound ? 0 : 1, c: dW + g * l.wGroup, ldc: l.k,
                                      threads: inner, blocking: blk)
                }
            }
        }
        // Fixed order worker 0, 1, 2, ... for every element: reproducible for a given thread count.
        let parts = l.parts
        Parallel.forRanges(s.cout * cpg, granule: 4) { rows in
            for row in rows {
                let co = row / cpg, c = row % cpg
                let dst = gradWeight + row * taps, src = partials + co * l.k + c
                for t in 0..<taps {
                    var acc = src[t * cpg]
                    for p in 1..<max(1, parts) { acc += src[p * wCount + t * cpg] }
                    dst[t] = acc
                }
            }
        }
        if let gradBias {
            // dbias[co] = Σ_{images, pixels} dOut: out depends on bias[co] with slope 1 at every pixel.
            Parallel.forRanges(s.cout) { chans in
                for co in chans {
                    var acc = 0.0
                    for i in 0..<s.n { acc += AccurateSum.sum(gradOutput + i * l.outImage + co * l.p, l.p) }
                    gradBias[co] = Float(acc)
                }
            }
        }
    }

    /// Runs `body(part, images, cols, innerThreads)` for `parts` contiguous batch ranges, each
    /// on its own worker with its own column buffer of `colsCount` floats.
    private static func overBatch(_ n: Int, parts: Int, colsCount: Int,
                                  _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>, Int) -> Void) {
        let inner = parts > 1 ? 1 : Parallel.threads
        Parallel.run(parts: parts, threads: parts) { part in
            let images = (n * part / parts)..<(n * (part + 1) / parts)
            let (raw, cap) = columnBuffers.acquire(bytes: max(1, colsCount) * 4)
            defer { columnBuffers.release(raw, bytes: cap) }
            body(part, images, raw.bindMemory(to: Float.self, capacity: cap / 4), inner)
        }
    }

    /// Retained column buffers (one per worker and pass in flight). Allocated per call they
    /// were fresh pages each time (megabytes, so glibc maps them): page faults and clearing
    /// were ~4 % of a paper training step (perf: clear_page_erms, exc_page_fault).
    private static let columnBuffers = ScratchPool(capacity: 4)

    // MARK: Reference (direct loops, the test oracle)

    @inline(__always)
    private static func weightIndex(_ s: ConvShape, _ co: Int, _ ci: Int, _ ky: Int, _ kx: Int) -> Int {
        ((co * s.cinPerGroup + ci) * s.kh + ky) * s.kw + kx
    }

    /// Direct 7-nested-loop forward pass (n, cout, oy, ox, ci, ky, kx).
    public static func forwardReference(_ s: ConvShape, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                        bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let hout = s.hout, wout = s.wout, cpg = s.cinPerGroup, opg = s.coutPerGroup
        for i in 0..<max(0, s.n) {
            for co in 0..<s.cout {
                let g = co / opg
                for oy in 0..<hout {
                    for ox in 0..<wout {
                        var acc: Float = 0
                        for ci in 0..<cpg {
                            let plane = input + (i * s.cin + g * cpg + ci) * s.h * s.w
                            for ky in 0..<s.kh {
                                let iy = oy * s.strideH - s.padH + ky * s.dilH
                                if iy < 0 || iy >= s.h { continue }
                                for kx in 0..<s.kw {
                                    let ix = ox * s.strideW - s.padW + kx * s.dilW
                                    if ix < 0 || ix >= s.w { continue }
                                    acc += plane[iy * s.w + ix] * weight[weightIndex(s, co, ci, ky, kx)]
                                }
                            }
                        }
                        output[((i * s.cout + co) * hout + oy) * wout + ox] = acc + (bias?[co] ?? 0)
                    }
                }
            }
        }
    }

    /// Direct backward-data: every (output pixel, tap) pair pushes dOut·w back to the input pixel it read.
    public static func backwardDataReference(_ s: ConvShape, gradOutput: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                             gradInput: UnsafeMutablePointer<Float>) {
        let hout = s.hout, wout = s.wout, cpg = s.cinPerGroup, opg = s.coutPerGroup
        gradInput.update(repeating: 0, count: max(0, s.n) * s.cin * s.h * s.w)
        for i in 0..<max(0, s.n) {
            for co in 0..<s.cout {
                let g = co / opg
                for oy in 0..<hout {
                    for ox in 0..<wout {
                        let go = gradOutput[((i * s.cout + co) * hout + oy) * wout + ox]
                        for ci in 0..<cpg {
                            let plane = gradInput + (i * s.cin + g * cpg + ci) * s.h * s.w
                            for ky in 0..<s.kh {
                                let iy = oy * s.strideH - s.padH + ky * s.dilH
                                if iy < 0 || iy >= s.h { continue }
                                for kx in 0..<s.kw {
                                    let ix = ox * s.strideW - s.padW + kx * s.dilW
                                    if ix < 0 || ix >= s.w { continue }
                                    plane[iy * s.w + ix] += go * weight[weightIndex(s, co, ci, ky, kx)]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Direct backward-weight: dW[co,ci,ky,kx] = Σ dOut[i,co,oy,ox]·in[i,ci,iy,ix]; dBias[co] = Σ dOut.
    public static func backwardWeightReference(_ s: ConvShape, input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                               gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>?) {
        let hout = s.hout, wout = s.wout, cpg = s.cinPerGroup, opg = s.coutPerGroup
        gradWeight.update(repeating: 0, count: s.cout * cpg * s.kh * s.kw)
        gradBias?.update(repeating: 0, count: s.cout)
        for i in 0..<max(0, s.n) {
            for co in 0..<s.cout {
                let g = co / opg
                for oy in 0..<hout {
                    for ox in 0..<wout {
                        let go = gradOutput[((i * s.cout + co) * hout + oy) * wout + ox]
                        gradBias?[co] += go
                        for ci in 0..<cpg {
                            let plane = input + (i * s.cin + g * cpg + ci) * s.h * s.w
                            for ky in 0..<s.kh {
                                let iy = oy * s.strideH - s.padH + ky * s.dilH
                                if iy < 0 || iy >= s.h { continue }
                                for kx in 0..<s.kw {
                                    let ix = ox * s.strideW - s.padW + kx * s.dilW
                                    if ix < 0 || ix >= s.w { continue }
                                    gradWeight[weightIndex(s, co, ci, ky, kx)] += go * plane[iy * s.w + ix]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Strides and sizes of the GEMM lowering of one convolution (see `ConvKernels`).
struct ConvLowering {
    let pointwise: Bool
    let cinPG, coutPG, k, p: Int
    let inImage, inGroup, outImage, outGroup, wGroup: Int
    /// Floats in one column buffer (one image·group); 0 when the input is used in place.
    let colsCount: Int
    /// Floats in backwardWeight's zero-bordered channel-last copy of one image group.
    let paddedImageCount: Int
    /// Batch workers: all threads when every worker gets at least one image, else one.
    let parts: Int
    let groups: Int

    init(_ s: ConvShape) {
        pointwise = s.kh == 1 && s.kw == 1 && s.strideH == 1 && s.strideW == 1 && s.padH == 0 && s.padW == 0
        cinPG = s.cinPerGroup; coutPG = s.coutPerGroup
        k = cinPG * s.kh * s.kw
        p = s.hout * s.wout
        inImage = s.cin * s.h * s.w; inGroup = cinPG * s.h * s.w
        outImage = s.cout * p; outGroup = coutPG * p
        wGroup = coutPG * k
        // Saturating: a hostile shape's scratch must reach `ConvKernels.scratchBytes` (which
        // refuses it against the memory budget) as a huge number, not trap here.
        colsCount = pointwise ? 0 : k.saturatingTimes(p)
        let hp = s.h.saturatingPlus(2 * s.padH), wp = s.w.saturatingPlus(2 * s.padW)
        paddedImageCount = pointwise ? 0 : hp.saturatingTimes(wp).saturatingTimes(cinPG)
        let t = Parallel.threads
        parts = t > 1 && s.n >= t ? t : 1
        groups = s.groups
    }

    /// Images one backwardData GEMM covers side by side (N = stack·P) for a batch of n.
    func dataStack(_ n: Int) -> Int { pointwise ? pointwiseStack(n) : sideBySide(n) }

    /// Images one pointwise forward or backwardData product covers side by side: 1×1 layers
    /// on images under 256 pixels (one group), whose single-image products left micro-panel
    /// columns empty (49 pixels fill 64 columns, 225 fill 256) and packed B and wrote C in
    /// short pieces. The product lands in a column buffer and is copied to each image.
    func pointwiseStack(_ n: Int) -> Int { pointwise && groups == 1 && p < 256 ? sideBySide(n) : 1 }

    /// Images of one worker's share that fit side by side in N ≤ 768 columns.
    private func sideBySide(_ n: Int) -> Int { max(1, min((n + parts - 1) / parts, 768 / max(p, 1))) }

    /// Floats of forward's column buffer per worker for a batch of n (the implicit path
    /// allocates none; `scratchBytes` counts it with implicit false all the same).
    func forwardColsCount(_ n: Int, implicit: Bool) -> Int {
        if pointwise { let stack = pointwiseStack(n); return stack > 1 ? coutPG.saturatingTimes(p * stack) : 0 }
        return implicit ? 0 : colsCount
    }

    /// Floats of backwardData's column buffer per worker for a batch of n.
    func dataColsCount(_ n: Int) -> Int {
        let stack = dataStack(n)
        if pointwise { return stack > 1 ? k.saturatingTimes(p * stack) : 0 }
        return colsCount.saturatingTimes(stack)
    }
}
