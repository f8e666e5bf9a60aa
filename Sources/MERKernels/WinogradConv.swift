/// Winograd convolution for 3×3, stride 1, dilation 1, one group (any padding), NCHW float32.
///
///     input  (n, cin, h, w)      weight (cout, cin, 3, 3)      output (n, cout, hout, wout)
///     tiles: the output is cut into m×m tiles, tilesY = ⌈hout/m⌉ × tilesX = ⌈wout/m⌉ per image;
///     tile (ty, tx) reads the α×α input patch at rows ty·m − padH …, cols tx·m − padW … (α = m+2),
///     zero outside the image; outputs past hout/wout are computed and dropped.
///
/// With U = G g Gᵀ (α×α per filter), V = Bᵀ d B (α×α per input patch), ξ = one of the α²
/// positions of the transformed tile (see WinogradTransforms.swift for Bᵀ, G, Aᵀ):
///
///     forward         M[ξ] (cout, T) = U[ξ] (cout, cin) · V[ξ] (cin, T);   Y_tile = Aᵀ M_tile A (+ bias)
///     backwardData    the forward of dOut with the 180°-rotated, in/out-swapped filters and
///                     padding 2 − pad ("full" correlation: dIn[y,x] = Σ dOut[y−ky+pad, x−kx+pad]·w[ky,kx]);
///                     a padding above 2 gives a negative padding, which is a crop and works the same.
///     backwardWeight  Y is linear in g: dg = Gᵀ [ (A dY Aᵀ) ⊙ V ] G summed over tiles, so with
///                     Z = A dY Aᵀ per output tile,  dUᵀ[ξ] (cin, cout) = Σ_chunks V[ξ] (cin, T) · Zᵀ[ξ] (T, cout),
///                     then dW[co, ci] = Gᵀ dU[·, co, ci] G.
///
/// The α² products per chunk of T tiles are the work (α²/(m²·9) of the direct multiply-adds:
/// 4/9 for F(2,3), 1/4 for F(4,3)); they run on the packed `Gemm` at `threads: 1`.
///
/// Chunks and threads: the batch's tile rows (image, ty) are cut into chunks of whole tile rows
/// (≈ `targetTiles` tiles each, and at least as many chunks as threads when there are enough
/// rows); each worker owns a contiguous range of chunks and its own V / M buffers (α²·(cin+cout)·T
/// floats). Every forward / backward-data output is computed inside one chunk by the same
/// operations whatever the chunking (the GEMM's K order does not depend on N), so those two are
/// bit-identical for any thread count. backwardWeight sums per-worker partials in worker order:
/// identical run to run for a given thread count, as the direct kernel.
///
/// Layouts inside a chunk (TP = T rounded up to 16, so tile vectors never straddle channels):
///     V  [ξ][c][TP]     input transform, 16 tiles per vector (row pass on image rows, column
///                       pass on 16 gathered tiles)
///     M  [ξ][co][TP]    forward GEMM output, read 16 tiles per vector by the output transform
///     Z  [ξ][t][coP]    dOut transform for the weight pass, 16 channels per vector (coP = cout
///                       rounded up to 16) so that it is the GEMM's non-transposed B
public enum WinogradKernels {
    /// Output tile side: F(2×2, 3×3) or F(4×4, 3×3).
    public enum Tile: Int, Sendable, CaseIterable {
        case f2 = 2, f4 = 4
        public var name: String { "F(\(rawValue)x\(rawValue),3x3)" }
    }

    /// Tiles per chunk the GEMMs aim for: N of the forward product, K of the weight product.
    /// 192 measured within noise of 128 and 384 on 64→64 @56 and 320→640 @14 (see mer-bench --winograd).
    nonisolated(unsafe) public static var targetTiles = 192

    /// Whether `s` is a convolution these kernels compute: 3×3, stride 1, dilation 1, groups 1.
    public static func supports(_ s: ConvShape) -> Bool {
        s.kh == 3 && s.kw == 3 && s.strideH == 1 && s.strideW == 1 && s.dilH == 1 && s.dilW == 1
            && s.groups == 1 && s.problem == nil
    }

    // MARK: Public entry points (same contracts as ConvKernels.forward / backwardData / backwardWeight)

    /// output (n,cout,hout,wout) = conv(input, weight) + bias? — `supports(s)` must hold.
    public static func forward(_ s: ConvShape, tile: Tile, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        precondition(supports(s), "WinogradKernels.forward: unsupported shape \(s)")
        guard s.n > 0 else { return }
        let geo = Geometry(n: s.n, cIn: s.cin, cOut: s.cout, inH: s.h, inW: s.w, outH: s.hout, outW: s.wout,
                           offY: -s.padH, offX: -s.padW, m: tile.rawValue)
        // U[ξ][co][ci] = (G w[co,ci] Gᵀ)[ξ]
        let filters = FilterAccess(weight: weight, ocStride: s.cin * 9, icStride: 9, flip: false)
        switch tile {
        case .f2: run(WinogradF2.self, geo, input: input, filters: filters, bias: bias, output: output)
        case .f4: run(WinogradF4.self, geo, input: input, filters: filters, bias: bias, output: output)
        }
    }

    /// gradInput (n,cin,h,w) from gradOutput (n,cout,hout,wout); overwrites gradInput.
    public static func backwardData(_ s: ConvShape, tile: Tile, gradOutput: UnsafePointer<Float>,
                                    weight: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        precondition(supports(s), "WinogradKernels.backwardData: unsupported shape \(s)")
        guard s.n > 0 else { return }
        // The transposed convolution: in = dOut (cout channels), out = dIn (cin channels),
        // padding 2 − pad, filter'[ci, co, ky, kx] = w[co, ci, 2 − ky, 2 − kx].
        let geo = Geometry(n: s.n, cIn: s.cout, cOut: s.cin, inH: s.hout, inW: s.wout, outH: s.h, outW: s.w,
                           offY: s.padH - 2, offX: s.padW - 2, m: tile.rawValue)
        let filters = FilterAccess(weight: weight, ocStride: 9, icStride: s.cin * 9, flip: true)
        switch tile {
        case .f2: run(WinogradF2.self, geo, input: gradOutput, filters: filters, bias: nil, output: gradInput)
        case .f4: run(WinogradF4.self, geo, input: gradOutput, filters: filters, bias: nil, output: gradInput)
        }
    }

    /// gradWeight (cout,cin,3,3) and gradBias (cout)? — overwrites both.
    public static func backwardWeight(_ s: ConvShape, tile: Tile, input: UnsafePointer<Float>,
                                      gradOutput: UnsafePointer<Float>, gradWeight: UnsafeMutablePointer<Float>,
                                      gradBias: UnsafeMutablePointer<Float>?) {
        precondition(supports(s), "WinogradKernels.backwardWeight: unsupported shape \(s)")
        guard s.n > 0 else {
            gradWeight.update(repeating: 0, count: s.cout * s.cin * 9)
            gradBias?.update(repeating: 0, count: s.cout)
            return
        }
        let geo = Geometry(n: s.n, cIn: s.cin, cOut: s.cout, inH: s.h, inW: s.w, outH: s.hout, outW: s.wout,
                           offY: -s.padH, offX: -s.padW, m: tile.rawValue)
        switch tile {
        case .f2: runWeight(WinogradF2.self, geo, input: input, gradOutput: gradOutput, gradWeight: gradWeight)
        case .f4: runWeight(WinogradF4.self, geo, input: input, gradOutput: gradOutput, gradWeight: gradWeight)
        }
        if let gradBias {
            // dbias[co] = Σ_{images, pixels} dOut, as in the direct kernel.
            let p = s.hout * s.wout
            Parallel.forRanges(s.cout) { chans in
                for co in chans {
                    var acc = 0.0
                    for i in 0..<s.n { acc += AccurateSum.sum(gradOutput + (i * s.cout + co) * p, p) }
                    gradBias[co] = Float(acc)
                }
            }
        }
    }

    // MARK: Geometry and chunking

    /// A stride-1 3×3 correlation out[y, x] = Σ in[y + offY + ky, x + offX + kx]·f[ky, kx], tiled by m.
    struct Geometry {
        let n, cIn, cOut, inH, inW, outH, outW, offY, offX, m, alpha: Int
        let tilesY, tilesX: Int
        /// Tile rows (image, ty) per chunk, chunk count, and the padded tiles-per-chunk TP.
        let rowsPerChunk, chunks, tp: Int
        /// Width of the row buffers: the input columns a tile row reads, rounded up to 16.
        let rowWidth: Int

        init(n: Int, cIn: Int, cOut: Int, inH: Int, inW: Int, outH: Int, outW: Int, offY: Int, offX: Int, m: Int) {
            self.n = n; self.cIn = cIn; self.cOut = cOut; self.inH = inH; self.inW = inW
            self.outH = outH; self.outW = outW; self.offY = offY; self.offX = offX; self.m = m
            alpha = m + 2
            tilesY = (outH + m - 1) / m; tilesX = (outW + m - 1) / m
            let units = n * tilesY
            let threads = Parallel.threads
            var rows = max(1, WinogradKernels.targetTiles / tilesX)
            // Enough chunks to keep every thread busy (batch-1 inference): then smaller chunks.
            rows = max(1, min(rows, (units + threads - 1) / threads))
            rowsPerChunk = rows
            chunks = (units + rows - 1) / rows
            tp = (rows * tilesX + 15) / 16 * 16
            rowWidth = (tilesX * m + 2 + 15) / 16 * 16
        }

        var units: Int { n * tilesY }
    }

    /// Runs `body(chunks, part)` for contiguous ranges of chunks on up to `Parallel.threads` workers.
    private static func overChunks(_ geo: Geometry, _ body: (Range<Int>, Int) -> Void) {
        let parts = max(1, min(Parallel.threads, geo.chunks))
        Parallel.run(parts: parts, threads: parts) { p in
            body((geo.chunks * p / parts)..<(geo.chunks * (p + 1) / parts), p)
        }
    }

    /// Where filter (oc, ic) of the correlation being run lies in the layer's weight tensor.
    struct FilterAccess {
        let weight: UnsafePointer<Float>
        let ocStride, icStride: Int
        /// Taps read in reverse (the 180° rotation of backwardData).
        let flip: Bool
    }

    /// 64-byte aligned scratch of `count` floats.
    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, count))
    }

    // MARK: Filter transforms (once per call, 16 filters per vector)

    /// Up to 16 floats from `p` (lanes past `lanes` are zero).
    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, lanes: Int) -> SIMD16<Float> {
        if lanes == 16 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        var v = SIMD16<Float>()
        for l in 0..<lanes { v[l] = p[l] }
        return v
    }

    /// U[ξ][oc][ic] = (G f G^T)[ξ] for the correlation's filters f(oc, ic)[k] =
    /// weight[oc·ocStride + ic·icStride + (flip ? 8 − k : k)] (k = 3·ky + kx), 16 ic per vector.
    /// Float is enough: G's entries are exact or one rounding away (1/6, 1/24), so U carries a
    /// few ulps, far below the error the data transforms add. The first cut (scalar, Double,
    /// nested arrays) was a visible share of wide layers (640×640 filters = 410 k transforms).
    private static func transformFilters<T: WinogradTransform>(_: T.Type, _ geo: Geometry, weight: UnsafePointer<Float>,
                                                              ocStride: Int, icStride: Int, flip: Bool,
                                                              into u: UnsafeMutablePointer<Float>) {
        let alpha = geo.alpha, plane = geo.cOut * geo.cIn, cIn = geo.cIn
        let g = T.g.flatMap { $0 }.map(Float.init)   // G[a][k] at g[a·3 + k]
        Parallel.forRanges(geo.cOut) { ocs in
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 9 + 3 * alpha) { tmp in
                let w = tmp.baseAddress!, gf = w + 9
                for oc in ocs {
                    var icb = 0
                    while icb < cIn {
                        let lanes = min(16, cIn - icb)
                        for k in 0..<9 {
                            let src = weight + oc * ocStride + icb * icStride + (flip ? 8 - k : k)
                            var v = SIMD16<Float>()
                            for l in 0..<lanes { v[l] = src[l * icStride] }
                            w[k] = v
                        }
                        // gf = G w (α×3), then U = gf Gᵀ (α×α).
                        for a in 0..<alpha {
                            for kx in 0..<3 {
                                gf[a * 3 + kx] = g[a * 3] * w[kx] + g[a * 3 + 1] * w[3 + kx] + g[a * 3 + 2] * w[6 + kx]
                            }
                        }
                        for a in 0..<alpha {
                            for b in 0..<alpha {
                                let v = gf[a * 3] * g[b * 3] + gf[a * 3 + 1] * g[b * 3 + 1] + gf[a * 3 + 2] * g[b * 3 + 2]
                                let dst = u + (a * alpha + b) * plane + oc * cIn + icb
                                if lanes == 16 {
                                    UnsafeMutableRawPointer(dst).storeBytes(of: v, as: SIMD16<Float>.self)
                                } else {
                                    for l in 0..<lanes { dst[l] = v[l] }
                                }
                            }
                        }
                        icb += 16
                    }
                }
            }
        }
    }

    // MARK: Forward (also backwardData through its geometry)

    private static func run<T: WinogradTransform>(_ t: T.Type, _ geo: Geometry, input: UnsafePointer<Float>,
                                                 filters f: FilterAccess,
                                                 bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let a2 = geo.alpha * geo.alpha
        let u = allocate(a2 * geo.cOut * geo.cIn)
        defer { u.deallocate() }
        transformFilters(t, geo, weight: f.weight, ocStride: f.ocStride, icStride: f.icStride, flip: f.flip, into: u)
        let tp = geo.tp
        overChunks(geo) { chunks, _ in
            let v = allocate(a2 * geo.cIn * tp), mBuf = allocate(a2 * geo.cOut * tp)
            let scratch = InputScratch(geo)
            defer { v.deallocate(); mBuf.deallocate(); scratch.deallocate() }
            for chunk in chunks {
                let u0 = chunk * geo.rowsPerChunk, u1 = min(geo.units, u0 + geo.rowsPerChunk)
                let nt = (u1 - u0) * geo.tilesX
                transformInput(t, geo, input: input, u0: u0, u1: u1, v: v, scratch: scratch)
                for xi in 0..<a2 {
                    Gemm.sgemm(transA: false, transB: false, m: geo.cOut, n: nt, k: geo.cIn, alpha: 1,
                               a: u + xi * geo.cOut * geo.cIn, lda: geo.cIn,
                               b: v + xi * geo.cIn * tp, ldb: tp,
                               beta: 0, c: mBuf + xi * geo.cOut * tp, ldc: tp, threads: 1)
                }
                transformOutput(t, geo, m: mBuf, u0: u0, nt: nt, bias: bias, output: output)
            }
        }
    }

    /// Per-worker buffers of the input transform: α image rows, their column-transformed
    /// rows for every tile row of a chunk, and each tile's offset into the latter.
    private struct InputScratch {
        let rows, vert: UnsafeMutablePointer<Float>
        let tileOffset: UnsafeMutablePointer<Int>
        init(_ geo: Geometry) {
            rows = WinogradKernels.allocate(geo.alpha * geo.rowWidth)
            vert = WinogradKernels.allocate(geo.rowsPerChunk * geo.alpha * geo.rowWidth)
            tileOffset = .allocate(capacity: geo.tp)
        }
        func deallocate() { rows.deallocate(); vert.deallocate(); tileOffset.deallocate() }
    }

    /// V[ξ][c][t] = (Bᵀ d_{c,t} B)[ξ] for the tiles of tile rows u0 ..< u1 (t = (u − u0)·tilesX + tx).
    /// Column pass first, on whole image rows (16 columns per vector, no waste); then the row
    /// pass on 16 tiles at a time, gathering each tile's α columns (stride m) into lanes.
    private static func transformInput<T: WinogradTransform>(_: T.Type, _ geo: Geometry, input: UnsafePointer<Float>,
                                                            u0: Int, u1: Int, v: UnsafeMutablePointer<Float>,
                                                            scratch: InputScratch) {
        let alpha = geo.alpha, m = geo.m, rw = geo.rowWidth, tp = geo.tp
        let nt = (u1 - u0) * geo.tilesX
        let plane = geo.inH * geo.inW
        // Input columns x = xp + offX for xp in 0 ..< rw: the valid ones are [xLo, xHi).
        let xLo = max(0, -geo.offX), xHi = min(rw, geo.inW - geo.offX)
        for t in 0..<tp {
            let tc = min(t, nt - 1)
            scratch.tileOffset[t] = (tc / geo.tilesX) * alpha * rw + (tc % geo.tilesX) * m
        }
        let rows = scratch.rows, vert = scratch.vert
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 2 * alpha) { tmp in
            let d = tmp.baseAddress!, o = d + alpha
            for c in 0..<geo.cIn {
                for un in u0..<u1 {
                    let img = un / geo.tilesY, ty = un % geo.tilesY
                    let src = input + (img * geo.cIn + c) * plane
                    for r in 0..<alpha {
                        let y = ty * m + geo.offY + r
                        let row = rows + r * rw
                        if y < 0 || y >= geo.inH || xLo >= xHi {
                            row.update(repeating: 0, count: rw)
                            continue
                        }
                        if xLo > 0 { row.update(repeating: 0, count: xLo) }
                        row.advanced(by: xLo).update(from: src + y * geo.inW + xLo + geo.offX, count: xHi - xLo)
                        if xHi < rw { row.advanced(by: xHi).update(repeating: 0, count: rw - xHi) }
                    }
                    // Column pass: vert[u][ξy][x] = Σ_r Bᵀ[ξy][r] row_r[x].
                    let vOut = vert + (un - u0) * alpha * rw
                    var xb = 0
                    while xb < rw {
                        for r in 0..<alpha {
                            d[r] = UnsafeRawPointer(rows + r * rw + xb).loadUnaligned(as: SIMD16<Float>.self)
                        }
                        T.input(d, 1, o, 1)
                        for r in 0..<alpha {
                            UnsafeMutableRawPointer(vOut + r * rw + xb).storeBytes(of: o[r], as: SIMD16<Float>.self)
                        }
                        xb += 16
                    }
                }
                // Row pass on 16 tiles: lane l reads vert[u_l][ξy][tx_l·m + j].
                var t0 = 0
                while t0 < nt {
                    let offs = scratch.tileOffset + t0
                    for ey in 0..<alpha {
                        let base = vert + ey * rw
                        for j in 0..<alpha {
                            var lane = SIMD16<Float>()
                            for l in 0..<16 { lane[l] = base[offs[l] + j] }
                            d[j] = lane
                        }
                        T.input(d, 1, o, 1)
                        for ex in 0..<alpha {
                            let dst = v + ((ey * alpha + ex) * geo.cIn + c) * tp + t0
                            UnsafeMutableRawPointer(dst).storeBytes(of: o[ex], as: SIMD16<Float>.self)
                        }
                    }
                    t0 += 16
                }
            }
        }
    }

    /// Y = Aᵀ M A per tile and channel (16 tiles per vector), written to the output with the bias.
    private static func transformOutput<T: WinogradTransform>(_: T.Type, _ geo: Geometry, m mBuf: UnsafePointer<Float>,
                                                             u0: Int, nt: Int, bias: UnsafePointer<Float>?,
                                                             output: UnsafeMutablePointer<Float>) {
        let alpha = geo.alpha, m = geo.m, a2 = alpha * alpha, tp = geo.tp
        let outPlane = geo.outH * geo.outW
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: a2 + alpha * m + m * m) { tmp in
            let mm = tmp.baseAddress!, half = mm + a2, y = half + alpha * m
            for co in 0..<geo.cOut {
                let b = bias?[co] ?? 0
                var t0 = 0
                while t0 < nt {
                    for xi in 0..<a2 {
                        mm[xi] = UnsafeRawPointer(mBuf + (xi * geo.cOut + co) * tp + t0).loadUnaligned(as: SIMD16<Float>.self)
                    }
                    // Column pass: half[i][ξx] = Σ_ξy Aᵀ[i][ξy] M[ξy][ξx]; then rows: Y[i][j].
                    for ex in 0..<alpha { T.output(mm + ex, alpha, half + ex, alpha) }
                    for i in 0..<m { T.output(half + i * alpha, 1, y + i * m, 1) }
                    let lanes = min(16, nt - t0)
                    for l in 0..<lanes {
                        let t = t0 + l
                        let un = u0 + t / geo.tilesX, tx = t % geo.tilesX
                        let img = un / geo.tilesY, ty = un % geo.tilesY
                        let oy = ty * m, ox = tx * m
                        let rowsIn = min(m, geo.outH - oy), colsIn = min(m, geo.outW - ox)
                        let dst = output + (img * geo.cOut + co) * outPlane + oy * geo.outW + ox
                        for i in 0..<rowsIn {
                            for j in 0..<colsIn { dst[i * geo.outW + j] = y[i * m + j][l] + b }
                        }
                    }
                    t0 += 16
                }
            }
        }
    }

    // MARK: Backward weight

    private static func runWeight<T: WinogradTransform>(_ t: T.Type, _ geo: Geometry, input: UnsafePointer<Float>,
                                                       gradOutput: UnsafePointer<Float>,
                                                       gradWeight: UnsafeMutablePointer<Float>) {
        let a2 = geo.alpha * geo.alpha, tp = geo.tp
        let coP = (geo.cOut + 15) / 16 * 16
        let uCount = a2 * geo.cIn * geo.cOut
        let parts = max(1, min(Parallel.threads, geo.chunks))
        let partials = allocate(parts * uCount)
        defer { partials.deallocate() }
        overChunks(geo) { chunks, part in
            let v = allocate(a2 * geo.cIn * tp), z = allocate(a2 * tp * coP)
            let scratch = InputScratch(geo)
            defer { v.deallocate(); z.deallocate(); scratch.deallocate() }
            let dU = partials + part * uCount
            for chunk in chunks {
                let u0 = chunk * geo.rowsPerChunk, u1 = min(geo.units, u0 + geo.rowsPerChunk)
                let nt = (u1 - u0) * geo.tilesX
                transformInput(t, geo, input: input, u0: u0, u1: u1, v: v, scratch: scratch)
                transformGradOutput(t, geo, gradOutput: gradOutput, u0: u0, nt: nt, z: z, ldz: coP)
                // The first chunk of the range overwrites (beta 0), later ones accumulate.
                let beta: Float = chunk == chunks.lowerBound ? 0 : 1
                for xi in 0..<a2 {
                    Gemm.sgemm(transA: false, transB: false, m: geo.cIn, n: geo.cOut, k: nt, alpha: 1,
                               a: v + xi * geo.cIn * tp, lda: tp, b: z + xi * tp * coP, ldb: coP,
                               beta: beta, c: dU + xi * geo.cIn * geo.cOut, ldc: geo.cOut, threads: 1)
                }
            }
        }
        // Fixed order worker 0, 1, … per element, then dW[co, ci] = Gᵀ dU[·][ci][co] G, 16 co
        // per vector: the α² partial planes are read as α² sequential streams (a scalar loop with
        // co outer, strided by cout, cost ~40 % of the 640→640 @14 pass in the first cut).
        let alpha = geo.alpha, cIn = geo.cIn, cOut = geo.cOut
        let g = T.g.flatMap { $0 }.map(Float.init)   // G[a][k] at g[a·3 + k]
        Parallel.forRanges(cIn) { cis in
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: a2 + 3 * alpha + 9) { tmp in
                let du = tmp.baseAddress!, gtd = du + a2, dw = gtd + 3 * alpha
                for ci in cis {
                    var cob = 0
                    while cob < cOut {
                        let lanes = min(16, cOut - cob)
                        for xi in 0..<a2 {
                            let at = xi * cIn * cOut + ci * cOut + cob
                            var acc = load(partials + at, lanes: lanes)
                            for p in 1..<max(1, parts) { acc += load(partials + p * uCount + at, lanes: lanes) }
                            du[xi] = acc
                        }
                        // gtd = Gᵀ dU (3×α), dW = gtd G (3×3).
                        for ky in 0..<3 {
                            for b in 0..<alpha {
                                var acc = SIMD16<Float>()
                                for a in 0..<alpha { acc += g[a * 3 + ky] * du[a * alpha + b] }
                                gtd[ky * alpha + b] = acc
                            }
                        }
                        for ky in 0..<3 {
                            for kx in 0..<3 {
                                var acc = SIMD16<Float>()
                                for b in 0..<alpha { acc += gtd[ky * alpha + b] * g[b * 3 + kx] }
                                dw[ky * 3 + kx] = acc
                            }
                        }
                        for l in 0..<lanes {
                            let dst = gradWeight + ((cob + l) * cIn + ci) * 9
                            for k in 0..<9 { dst[k] = dw[k][l] }
                        }
                        cob += 16
                    }
                }
            }
        }
    }

    /// Z[ξ][t][co] = (A dY_{co,t} Aᵀ)[ξ], 16 channels per vector (lanes past cout are zero).
    private static func transformGradOutput<T: WinogradTransform>(_: T.Type, _ geo: Geometry,
                                                                 gradOutput: UnsafePointer<Float>, u0: Int, nt: Int,
                                                                 z: UnsafeMutablePointer<Float>, ldz: Int) {
        let alpha = geo.alpha, m = geo.m, a2 = alpha * alpha, tp = geo.tp
        let outPlane = geo.outH * geo.outW
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: m * m + m * alpha + a2) { tmp in
            let dy = tmp.baseAddress!, half = dy + m * m, zz = half + m * alpha
            for t in 0..<nt {
                let un = u0 + t / geo.tilesX, tx = t % geo.tilesX
                let img = un / geo.tilesY, ty = un % geo.tilesY
                let oy = ty * m, ox = tx * m
                let rowsIn = min(m, geo.outH - oy), colsIn = min(m, geo.outW - ox)
                var cb = 0
                while cb < geo.cOut {
                    let lanes = min(16, geo.cOut - cb)
                    let src = gradOutput + (img * geo.cOut + cb) * outPlane + oy * geo.outW + ox
                    for i in 0..<m {
                        for j in 0..<m {
                            var lane = SIMD16<Float>()
                            if i < rowsIn && j < colsIn {
                                let p = src + i * geo.outW + j
                                for l in 0..<lanes { lane[l] = p[l * outPlane] }
                            }
                            dy[i * m + j] = lane
                        }
                    }
                    // Row pass: half[i][ξx] = Σ_j A[ξx][j] dY[i][j]; column pass: Z[ξy][ξx].
                    for i in 0..<m { T.expand(dy + i * m, 1, half + i * alpha, 1) }
                    for ex in 0..<alpha { T.expand(half + ex, alpha, zz + ex, alpha) }
                    for xi in 0..<a2 {
                        UnsafeMutableRawPointer(z + (xi * tp + t) * ldz + cb).storeBytes(of: zz[xi], as: SIMD16<Float>.self)
                    }
                    cb += 16
                }
            }
        }
    }
}
