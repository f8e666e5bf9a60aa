#if canImport(Glibc)
import Glibc
#endif
import CParallel

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
///                     (U[ξ] is transformed straight into the GEMM's packed A panels, once per
///                     call, see `transformFilters`)
///     backwardData    the forward of dOut with the 180°-rotated, in/out-swapped filters and
///                     padding 2 − pad ("full" correlation: dIn[y,x] = Σ dOut[y−ky+pad, x−kx+pad]·w[ky,kx]);
///                     a padding above 2 gives a negative padding, which is a crop and works the same.
///     backwardWeight  Y is linear in g: dg = Gᵀ [ (A dY Aᵀ) ⊙ V ] G summed over tiles, so with
///                     Z = A dY Aᵀ per output tile,  dUᵀ[ξ] (cin, cout) = Σ_chunks V[ξ] (cin, T) · Z[ξ] (T, cout),
///                     then dW[co, ci] = Gᵀ dU[·, co, ci] G.
///
/// The α² products per chunk of T tiles are the work (α²/(m²·9) of the direct multiply-adds:
/// 4/9 for F(2,3), 1/4 for F(4,3)); they run on the packed `Gemm` at `threads: 1`.
///
/// Chunks and threads: the batch's tile rows (image, ty) are cut into chunks of whole tile rows,
/// ≈ `targetTiles` tiles each (see there), independent of the thread count. Chunks run one
/// after another; inside a chunk each phase is split over the workers: the input transform by
/// channel, the α² GEMMs by ξ (each at `threads: 1`), the output transform by channel. U is
/// transformed into packed panels once per call, before the chunks. (A first cut that gave
/// each worker its own chunks packed all of U on both cores for every chunk, and on the wide
/// 14×14 layers (few tiles, U = α²·cin·cout floats) that packing, streamed from memory, was
/// ~22 % of the time (perf).)
/// Narrow layers (cin·cout ≤ `perWorkerMaxChannelPairs`) instead give each worker whole chunks
/// (no barrier per chunk); their weight pass sums dU over a fixed number of chunk ranges
/// (`weightSlots`) added in order. (Whole chunks per worker on the 160 → 160 @56 layer, with U
/// shared, measured 47 → 56 ms forward: both cores then stream U and their own V and M.)
/// No element's arithmetic depends on the split (per-element transforms, one single-threaded
/// GEMM per ξ, dU[ξ] accumulated over the same chunk sequence whoever runs it), so all three
/// passes give bit-identical results for any thread count.
///
/// Accuracy (float32, data in [−1, 1], error relative to the largest reference value, worst over
/// WinogradTests' shapes, K up to 576): F(2,3) ≤ 2.2e-6, F(4,3) ≤ 6.2e-6 in all three passes,
/// against ≤ 3.1e-7 for the direct kernel. The error grows with m (F(4,3)'s transforms scale by
/// up to 8 and 1/24), which is why F(6,3) is not offered (WinogradTransforms.swift).
///
/// Layouts inside a chunk (TP = T rounded up to 16, plus 16 of slack for the input transform):
///     V  [c][ξ][TP]     input transform, 16 tiles per vector (column pass on image rows, row
///                       pass on 16 tiles by strided loads or gathers); the GEMMs see V[ξ] with
///                       leading dimension α²·TP
///     M  [co][ξ][TP]    forward GEMM output (ldc α²·TP), read 16 tiles per vector by the output
///                       transform: the α² vectors of one channel lie within α²·TP floats, not
///                       in α² planes cout·TP apart
///     Z  [ξ][t][coP]    dOut transform for the weight pass, 16 channels per vector (coP = cout
///                       rounded up to 16) so that it is the GEMM's non-transposed B
public enum WinogradKernels {
    /// Output tile side: F(2×2, 3×3) or F(4×4, 3×3).
    public enum Tile: Int, Sendable, CaseIterable {
        case f2 = 2, f4 = 4
        public var name: String { "F(\(rawValue)x\(rawValue),3x3)" }
    }

    /// Tiles per chunk the GEMMs aim for (N of the forward product, K of the weight product),
    /// doubled when either side has ≥ 256 channels. Chunk buffers take α²·(cin + cout)·T floats
    /// (71 MB for 640→640 at F(4,3) and T = 384; 50 MB at batch 16, whose 256 tiles make one
    /// chunk). F(4,3) ms per pass fwd / data / weight, two interleaved rounds at load ~4–5
    /// (`mer-bench --winograd --winograd-tiles T`, with every layer on the phase split, before
    /// narrow layers got whole chunks per worker):
    ///
    ///     T                     96                  192                 384                 768
    ///     64→64 @112 b16    100 / 95 / 108     91 / 94 / 106      100 / 100 / 116     114 / 121 / 131
    ///     64→64 @32 b32     16.3 / 15.6 / 19.1 15.3 / 15.6 / 19.2 16.5 / 17.6 / 20.1  20.1 / 21.7 / 23.9
    ///     320→320 @28 b16   129 / 131 / 112    108 / 106 / 96     107 / 146 / 94 (2nd round 97 / 100 / 96)
    ///     640→640 @14 b16   146 / 145 / 122    130 / 128 / 113    116 / 113 / 107 (2nd round 150 / 142 / 105)
    ///
    /// Narrow layers want short chunks (V and M stay nearer the cores), wide ones long chunks
    /// (U[ξ], cin·cout floats, is packed once per chunk).
    nonisolated(unsafe) public static var targetTiles = 192

    /// Whether `s` is a convolution these kernels compute: 3×3, stride 1, dilation 1, groups 1.
    public static func supports(_ s: ConvShape) -> Bool {
        s.kh == 3 && s.kw == 3 && s.strideH == 1 && s.strideW == 1 && s.dilH == 1 && s.dilW == 1
            && s.groups == 1 && s.problem == nil
    }

    // MARK: Public entry points (same contracts as ConvKernels.forward / backwardData / backwardWeight)

    /// output (n,cout,hout,wout) = conv(input, weight) + bias? — `supports(s)` must hold. An
    /// `epilogue` (bias must then be nil) is applied to each output row as it is written.
    /// `packedFilters`: U[ξ]ᵀ per ξ as `packFilters` made them for this layer and tile (used
    /// instead of transforming and packing the filters again when they fit the blocking).
    public static func forward(_ s: ConvShape, tile: Tile, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                               epilogue: ConvEpilogue? = nil, packedFilters: [PackedMatrix]? = nil) {
        precondition(supports(s), "WinogradKernels.forward: unsupported shape \(s)")
        guard s.n > 0 else { return }
        let geo = Geometry(forward: s, tile: tile)
        // U[ξ][co][ci] = (G w[co,ci] Gᵀ)[ξ]
        let filters = FilterAccess(weight: weight, ocStride: s.cin * 9, icStride: 9, flip: false)
        let packed = packedFilters.flatMap { filtersFit($0, s, tile: tile) ? $0 : nil }
        GemmPrecision.with(.float32) {     // never bf16: see GemmPrecision
            switch tile {
            case .f2: run(WinogradF2.self, geo, input: input, filters: filters, bias: bias, output: output, epilogue: epilogue,
                          packedFilters: packed)
            case .f4: run(WinogradF4.self, geo, input: input, filters: filters, bias: bias, output: output, epilogue: epilogue,
                          packedFilters: packed)
            }
        }
    }

    /// Whether `packed` are U[ξ]ᵀ for every ξ of `tile`, packed for `s`'s channels and the K
    /// block the forward products use now.
    static func filtersFit(_ packed: [PackedMatrix], _ s: ConvShape, tile: Tile) -> Bool {
        packed.count == (tile.rawValue + 2) * (tile.rawValue + 2)
            && packed.allSatisfy { $0.fits(transA: true, m: s.cout, k: s.cin, kcMax: Gemm.blocking.kc) }
    }

    /// The forward pass's transformed filters U[ξ]ᵀ (cout × cin) of `s` at `tile`, each packed as
    /// the ξ-th product's A operand (for `forward(packedFilters:)`).
    public static func packFilters(_ s: ConvShape, tile: Tile, weight: UnsafePointer<Float>) -> [PackedMatrix] {
        precondition(supports(s), "WinogradKernels.packFilters: unsupported shape \(s)")
        var one = s
        one.n = max(1, s.n)       // the filters do not depend on the batch; a geometry needs one image
        let geo = Geometry(forward: one, tile: tile)
        let packed = (0..<(geo.alpha * geo.alpha)).map { _ in
            PackedMatrix(uninitializedTransA: true, m: s.cout, k: s.cin, kcMax: Gemm.blocking.kc)
        }
        switch tile {
        case .f2: transformFilters(WinogradF2.self, geo, weight: weight, ocStride: s.cin * 9, icStride: 9, flip: false, into: packed)
        case .f4: transformFilters(WinogradF4.self, geo, weight: weight, ocStride: s.cin * 9, icStride: 9, flip: false, into: packed)
        }
        return packed
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
        GemmPrecision.with(.float32) {     // never bf16: see GemmPrecision
            switch tile {
            case .f2: run(WinogradF2.self, geo, input: gradOutput, filters: filters, bias: nil, output: gradInput)
            case .f4: run(WinogradF4.self, geo, input: gradOutput, filters: filters, bias: nil, output: gradInput)
            }
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
        let geo = Geometry(forward: s, tile: tile)
        GemmPrecision.with(.float32) {     // never bf16: see GemmPrecision
            switch tile {
            case .f2: runWeight(WinogradF2.self, geo, input: input, gradOutput: gradOutput, gradWeight: gradWeight)
            case .f4: runWeight(WinogradF4.self, geo, input: input, gradOutput: gradOutput, gradWeight: gradWeight)
            }
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
        /// Tile rows (image, ty) of the largest chunk, chunk count, and the padded
        /// tiles-per-chunk TP.
        let rowsPerChunk, chunks, tp: Int
        /// Width of the row buffers: the input columns a tile row reads, rounded up to 16.
        let rowWidth: Int

        /// `chunks`: at least this many chunks (at most one per tile row), instead of the
        /// count `targetTiles` gives.
        init(n: Int, cIn: Int, cOut: Int, inH: Int, inW: Int, outH: Int, outW: Int, offY: Int, offX: Int, m: Int,
             chunks atLeast: Int = 1) {
            self.n = n; self.cIn = cIn; self.cOut = cOut; self.inH = inH; self.inW = inW
            self.outH = outH; self.outW = outW; self.offY = offY; self.offX = offX; self.m = m
            alpha = m + 2
            tilesY = (outH + m - 1) / m; tilesX = (outW + m - 1) / m
            let units = n * tilesY
            let target = WinogradKernels.targetTiles * (max(cIn, cOut) >= 256 ? 2 : 1)
            let most = max(1, min(units, target / tilesX))
            chunks = max((units + most - 1) / most, min(units, atLeast))
            // The rows shared out evenly (`chunkRows`): 14 rows at 13 per chunk make two chunks
            // of 7, not 13 and 1 (160 → 160 @56 at batch 1), whose lone row's products are
            // 14 tiles wide, under half a 32-column micro-panel.
            let rows = (units + chunks - 1) / chunks
            rowsPerChunk = rows
            // 16 floats of slack: a tile group's last vector may run past the last tile.
            tp = (rows * tilesX + 15) / 16 * 16 + 16
            rowWidth = (tilesX * m + 2 + 15) / 16 * 16
        }

        /// The correlation of `s`'s forward pass (and of its weight pass) at `tile`.
        init(forward s: ConvShape, tile: Tile) {
            self.init(n: s.n, cIn: s.cin, cOut: s.cout, inH: s.h, inW: s.w, outH: s.hout, outW: s.wout,
                      offY: -s.padH, offX: -s.padW, m: tile.rawValue)
        }

        var units: Int { n * tilesY }

        /// The same correlation cut into a multiple of `k` chunks (when there are enough tile
        /// rows), so that `k` workers can take equal shares of whole chunks.
        /// Not when that leaves chunks under `minTiles` tiles, whose products would be too
        /// narrow for the micro-kernel's 32 columns while both cores stream all of U.
        func chunked(multipleOf k: Int, minTiles: Int) -> Geometry {
            let more = (chunks + k - 1) / k * k
            guard more != chunks, units >= more, units * tilesX / more >= minTiles else { return self }
            return Geometry(n: n, cIn: cIn, cOut: cOut, inH: inH, inW: inW, outH: outH, outW: outW, offY: offY, offX: offX,
                            m: m, chunks: more)
        }

        /// How `run` shares this correlation over `threads` workers: the chunks it runs, and
        /// whether each worker takes whole chunks (else each chunk's phases are split).
        /// Narrow layers (small U) run whole chunks per worker, with no barrier per chunk and no
        /// transformed data crossing cores. Splitting each chunk's phases instead sends half of V
        /// and of M from one core's cache to the other's between phases: at batch 1, 32 → 32 @64
        /// (2 chunks) took 0.30–0.32 ms split by phase and 0.24–0.26 as one chunk per worker
        /// (`mer-bench --winograd --batch 1 --profile fwd`, three alternating rounds). So few
        /// chunks are cut into a multiple of the workers (64 → 128 @16 at batch 32 had 3 chunks,
        /// 2 + 1 per worker, 1.8× slower than the phase split), which changes no result: the
        /// forward products do not depend on the chunking. Not into chunks under 64 tiles: at
        /// batch 1, 64 → 128 @16 cut into two chunks of 8 tiles took 0.78 ms against 0.50 as one
        /// chunk split by phase, and 72 → 173 @15 1.03 against 0.59 (one round, machine in a
        /// slow spell); 64 → 64 @112 (6 chunks of 112–140 tiles instead of 5) took 2.37–2.39
        /// against 2.55–2.81 (three alternating rounds).
        /// Wide layers keep the phase split, each ξ's U read by one core only (whole chunks per
        /// worker, both streaming U, took the 160 → 160 @56 forward from 47 to 56 ms).
        /// Either way every output element sees the same operations, so results do not change.
        func forwardSplit(threads: Int) -> (geo: Geometry, perWorker: Bool) {
            let narrow = cIn * cOut <= WinogradKernels.perWorkerMaxChannelPairs
            let geo = narrow && threads > 1 && chunks < 4 * threads ? chunked(multipleOf: threads, minTiles: 64) : self
            let parts = min(threads, geo.chunks)
            // Whole chunks balance when they share out evenly or are many (≥ 4 per worker).
            return (geo, parts > 1 && narrow && (geo.chunks % parts == 0 || geo.chunks >= 4 * parts))
        }
    }

    /// `forwardSplit` of the forward pass of `s` at `tile` (for tests and benchmarks).
    public static func forwardSplit(_ s: ConvShape, tile: Tile, threads: Int) -> (chunks: Int, wholeChunksPerWorker: Bool) {
        let geo = Geometry(forward: s, tile: tile)
        let split = geo.forwardSplit(threads: threads)
        return (split.geo.chunks, split.perWorker)
    }

    /// Tile rows u0 ..< u1 of chunk `chunk` (the units shared out evenly: chunks differ by at
    /// most one row) and its tile count.
    @inline(__always)
    private static func chunkRows(_ geo: Geometry, _ chunk: Int) -> (u0: Int, u1: Int, nt: Int) {
        let u0 = geo.units * chunk / geo.chunks, u1 = geo.units * (chunk + 1) / geo.chunks
        return (u0, u1, (u1 - u0) * geo.tilesX)
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

    /// `count` floats rounded up to whole 64-byte lines, so carved sub-buffers stay aligned.
    @inline(__always)
    private static func lines(_ count: Int) -> Int { (count + 15) / 16 * 16 }

    /// Runs `body` on `count` floats of the retained workspace (`workspace`).
    private static func withWorkspace<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
        let (raw, cap) = workspace.acquire(bytes: max(1, count) * 4)
        defer { workspace.release(raw, bytes: cap) }
        return body(raw.bindMemory(to: Float.self, capacity: cap / 4))
    }

    /// One retained buffer for U (or dU), V and M (or Z), grown to the largest call.
    /// Fresh pages per call cost ~10 % of a 640→640 @14 forward in page faults and clearing
    /// (perf: clear_page_erms, exc_page_fault), since U alone is α²·cin·cout floats (59 MB
    /// there). The price is that the largest workspace stays allocated (~110 MB for the paper
    /// model's widest layer at batch 16). A concurrent second call allocates its own.
    private static let workspace = ScratchPool(capacity: 1)

    // MARK: Filter transforms (once per call, 16 filters per vector)

    /// p[o[0]], …, p[o[15]] built in registers. (Filling a zero vector lane by lane went through
    /// the stack: 16 scalar stores then one 64-byte load, a failed store forwarding that made
    /// the gather loop ~40 % of the input transform.)
    @inline(__always)
    private static func gather16(_ p: UnsafePointer<Float>, _ o: UnsafePointer<Int>) -> SIMD16<Float> {
        SIMD16<Float>(p[o[0]], p[o[1]], p[o[2]], p[o[3]], p[o[4]], p[o[5]], p[o[6]], p[o[7]],
                      p[o[8]], p[o[9]], p[o[10]], p[o[11]], p[o[12]], p[o[13]], p[o[14]], p[o[15]])
    }

    /// The row pass's 16 lanes when a tile row has 4 or 8 tiles: lanes k·tilesX ..< (k+1)·tilesX
    /// are tiles 0 ..< tilesX of tile row firstRow + k (rows past lastRow repeat it: those lanes
    /// are overwritten later or never read, as the gather's), each row's p[0], p[m], … taken from
    /// one contiguous load by a constant shuffle. `p`: column j of the group's first tile row;
    /// rows `rowStride` floats apart. Reads up to 8·m floats of a row (within `vert`'s row width and slack).
    @inline(__always)
    private static func rowsStrided<T: WinogradTransform>(_: T.Type, _ p: UnsafePointer<Float>, firstRow: Int, lastRow: Int,
                                                         rowStride: Int, tilesX: Int) -> SIMD16<Float> {
        @inline(__always) func row(_ k: Int) -> UnsafeRawPointer {
            UnsafeRawPointer(p + min(firstRow + k, lastRow) * rowStride)
        }
        @inline(__always) func eight(_ k: Int) -> SIMD8<Float> {
            if T.m == 4 {
                let a = row(k).loadUnaligned(as: SIMD32<Float>.self)
                return SIMD8(a[0], a[4], a[8], a[12], a[16], a[20], a[24], a[28])
            }
            let a = row(k).loadUnaligned(as: SIMD16<Float>.self)
            return SIMD8(a[0], a[2], a[4], a[6], a[8], a[10], a[12], a[14])
        }
        @inline(__always) func four(_ k: Int) -> SIMD4<Float> {
            if T.m == 4 {
                let a = row(k).loadUnaligned(as: SIMD16<Float>.self)
                return SIMD4(a[0], a[4], a[8], a[12])
            }
            let a = row(k).loadUnaligned(as: SIMD8<Float>.self)
            return SIMD4(a[0], a[2], a[4], a[6])
        }
        if tilesX == 8 { return SIMD16(lowHalf: eight(0), highHalf: eight(1)) }
        return SIMD16(lowHalf: SIMD8(lowHalf: four(0), highHalf: four(1)), highHalf: SIMD8(lowHalf: four(2), highHalf: four(3)))
    }

    /// p[0], p[s], …, p[15·s] built in registers (see the other `gather16`).
    @inline(__always)
    private static func gather16(_ p: UnsafePointer<Float>, stride s: Int) -> SIMD16<Float> {
        SIMD16<Float>(p[0], p[s], p[2 * s], p[3 * s], p[4 * s], p[5 * s], p[6 * s], p[7 * s],
                      p[8 * s], p[9 * s], p[10 * s], p[11 * s], p[12 * s], p[13 * s], p[14 * s], p[15 * s])
    }

    /// `count` floats from `src` to `dst` in vector moves. The rows these kernels copy are a few
    /// hundred bytes, where a call to memmove (and its `rep movsb` start-up) cost 5–7 % of a
    /// 160 → 160 @56 backward-data pass (perf).
    @inline(__always)
    private static func copy(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self),
                                                        as: SIMD16<Float>.self)
            i += 16
        }
        if i + 8 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self),
                                                        as: SIMD8<Float>.self)
            i += 8
        }
        while i < count { dst[i] = src[i]; i += 1 }
    }

    /// Writes `value` to `count` floats from `dst` on (see `copy`).
    @inline(__always)
    private static func fill(_ dst: UnsafeMutablePointer<Float>, _ value: Float, count: Int) {
        var i = 0
        while i + 16 <= count {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD16<Float>(repeating: value), as: SIMD16<Float>.self)
            i += 16
        }
        while i < count { dst[i] = value; i += 1 }
    }

    /// Up to 16 floats from `p` (lanes past `lanes` are zero).
    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, lanes: Int) -> SIMD16<Float> {
        if lanes == 16 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
        var v = SIMD16<Float>()
        for l in 0..<lanes { v[l] = p[l] }
        return v
    }

    /// U[ξ] = (G f Gᵀ)[ξ] for the correlation's filters f(oc, ic)[k] = weight[oc·ocStride +
    /// ic·icStride + (flip ? 8 − k : k)] (k = 3·ky + kx), written straight into the packed panels
    /// the ξ-th product reads as its A operand (op(A) = U[ξ], cout × cin, see `PackedMatrix`):
    /// one micro-panel row (MR = 12 output channels) per vector. Packing U once per call instead
    /// of once per chunk: the per-chunk packing streamed all α²·cin·cout floats of U from
    /// memory for every chunk, ~10 % of a 160 → 160 @56 forward (perf). Float is enough: G's
    /// entries are exact or one rounding away (1/6, 1/24), so U carries a few ulps, far below
    /// the error the data transforms add.
    private static func transformFilters<T: WinogradTransform>(_: T.Type, _ geo: Geometry, weight: UnsafePointer<Float>,
                                                              ocStride: Int, icStride: Int, flip: Bool,
                                                              into packed: [PackedMatrix]) {
        let alpha = geo.alpha, cOut = geo.cOut, cIn = geo.cIn
        let mr = GemmKernel.mr
        precondition(mr == 12, "transformFilters writes 12-row micro-panels")
        let g = T.g.flatMap { $0 }.map(Float.init)   // G[a][k] at g[a·3 + k]
        let kc = packed[0].kc
        // Panel by panel, input channel inside: each ξ's panel is then written as one sequential
        // run of 12-float rows, and (forward) each output channel's filters are read in order.
        Parallel.forRanges((cOut + mr - 1) / mr) { panelRange in
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 9 + 3 * alpha) { tmp in
                let w = tmp.baseAddress!, gf = w + 9
                for panel in panelRange {
                    let ocb = panel * mr
                    // Lanes past cout stay zero: the panel's padding rows.
                    let lanes = min(mr, cOut - ocb)
                    for ic in 0..<cIn {
                        for k in 0..<9 {
                            let src = weight + ocb * ocStride + ic * icStride + (flip ? 8 - k : k)
                            if lanes == 12 {
                                let s = ocStride   // built in registers: see `gather16`
                                w[k] = SIMD16<Float>(src[0], src[s], src[2 * s], src[3 * s], src[4 * s], src[5 * s],
                                                     src[6 * s], src[7 * s], src[8 * s], src[9 * s], src[10 * s],
                                                     src[11 * s], 0, 0, 0, 0)
                            } else {
                                var v = SIMD16<Float>()
                                for l in 0..<lanes { v[l] = src[l * ocStride] }
                                w[k] = v
                            }
                        }
                        // gf = G w (α×3), then U = gf Gᵀ (α×α).
                        for a in 0..<alpha {
                            for kx in 0..<3 {
                                gf[a * 3 + kx] = g[a * 3] * w[kx] + g[a * 3 + 1] * w[3 + kx] + g[a * 3 + 2] * w[6 + kx]
                            }
                        }
                        let at = PackedMatrix.panelOffset(ocb, ic, m: cOut, k: cIn, kc: kc)
                        for a in 0..<alpha {
                            for b in 0..<alpha {
                                let v = gf[a * 3] * g[b * 3] + gf[a * 3 + 1] * g[b * 3 + 1] + gf[a * 3 + 2] * g[b * 3 + 2]
                                let dst = UnsafeMutableRawPointer(packed[a * alpha + b].panels + at)
                                dst.storeBytes(of: v.lowHalf, as: SIMD8<Float>.self)
                                dst.storeBytes(of: v.highHalf.lowHalf, toByteOffset: 32, as: SIMD4<Float>.self)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Forward (also backwardData through its geometry)

    private static func run<T: WinogradTransform>(_ t: T.Type, _ layer: Geometry, input: UnsafePointer<Float>,
                                                 filters f: FilterAccess,
                                                 bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                                 epilogue: ConvEpilogue? = nil, packedFilters: [PackedMatrix]? = nil) {
        let (geo, perWorker) = layer.forwardSplit(threads: Parallel.threads)
        let a2 = geo.alpha * geo.alpha, tp = geo.tp
        let plane = lines(PackedMatrix.floats(m: geo.cOut, k: geo.cIn))
        let uCount = packedFilters == nil ? a2 * plane : 0
        let vCount = lines(a2 * geo.cIn * tp), mCount = lines(a2 * geo.cOut * tp)
        let parts = max(1, min(Parallel.threads, geo.chunks))
        withWorkspace(uCount + (perWorker ? parts : 1) * (vCount + mCount)) { ws in
            // The ξ-th product's A, U[ξ] packed: prepared once (inference weights), or
            // transformed into packed panels in the workspace now, once for all chunks.
            let packed = packedFilters ?? (0..<a2).map {
                PackedMatrix(borrowing: ws + $0 * plane, transA: true, m: geo.cOut, k: geo.cIn, kcMax: Gemm.blocking.kc)
            }
            if packedFilters == nil {
                transformFilters(t, geo, weight: f.weight, ocStride: f.ocStride, icStride: f.icStride, flip: f.flip, into: packed)
            }
            @inline(__always) func gemm(_ xi: Int, _ nt: Int, _ v: UnsafeMutablePointer<Float>, _ mBuf: UnsafeMutablePointer<Float>) {
                Gemm.sgemm(transA: true, transB: false, m: geo.cOut, n: nt, k: geo.cIn, alpha: 1,
                           a: UnsafePointer(packed[xi].panels), lda: geo.cOut, b: v + xi * tp, ldb: a2 * tp,
                           beta: 0, c: mBuf + xi * tp, ldc: a2 * tp, threads: 1, packedA: packed[xi])
            }
            if perWorker {
                Parallel.run(parts: parts, threads: parts) { p in
                    let v = ws + uCount + p * (vCount + mCount), mBuf = v + vCount
                    for chunk in (geo.chunks * p / parts)..<(geo.chunks * (p + 1) / parts) {
                        let (u0, u1, nt) = chunkRows(geo, chunk)
                        transformInput(t, geo, input: input, u0: u0, u1: u1, channels: 0..<geo.cIn, v: v)
                        for xi in 0..<a2 { gemm(xi, nt, v, mBuf) }
                        transformOutput(t, geo, m: mBuf, u0: u0, nt: nt, channels: 0..<geo.cOut, bias: bias, output: output,
                                        epilogue: epilogue)
                    }
                }
                return
            }
            let v = ws + uCount, mBuf = v + vCount
            for chunk in 0..<geo.chunks {
                let (u0, u1, nt) = chunkRows(geo, chunk)
                Parallel.forRanges(geo.cIn) { cs in
                    transformInput(t, geo, input: input, u0: u0, u1: u1, channels: cs, v: v)
                }
                Parallel.forRanges(a2) { xis in
                    for xi in xis { gemm(xi, nt, v, mBuf) }
                }
                Parallel.forRanges(geo.cOut) { cos in
                    transformOutput(t, geo, m: mBuf, u0: u0, nt: nt, channels: cos, bias: bias, output: output, epilogue: epilogue)
                }
            }
        }
    }

    /// Layers with at most this many channel pairs (cin·cout) run whole chunks per worker (or
    /// per weight slot) instead of splitting each chunk's phases (see `run`, `runWeight`).
    nonisolated(unsafe) public static var perWorkerMaxChannelPairs = 128 * 128

    /// Fixed number of partial dU sums of the narrow-layer weight pass (see `runWeight`): a
    /// multiple of the 2 cores here, and independent of the thread count so results are too.
    static let weightSlots = 4

    /// V[c][ξ][t] = (Bᵀ d_{c,t} B)[ξ] for the tiles of tile rows u0 ..< u1 (t = (u − u0)·tilesX + tx).
    /// Column pass first, on whole image rows (16 columns per vector, no waste); then the row
    /// pass on 16 tiles at a time, gathering each tile's α columns (stride m) into lanes.
    /// Tile rows go in groups of ~64 tiles so the column-transformed rows of a group stay in L1
    /// while the row pass gathers from them (whole chunks at once, 40 KB per channel at 112 px,
    /// spilled to L2: the gathers were then ~⅓ of the input transform). A group's last 16-tile
    /// vector may run past the group: those lanes repeat its last tile and are overwritten by
    /// the next group (or land in the padding past the chunk's last tile, see `Geometry.tp`).
    private static func transformInput<T: WinogradTransform>(_: T.Type, _ geo: Geometry, input: UnsafePointer<Float>,
                                                            u0: Int, u1: Int, channels: Range<Int>,
                                                            v: UnsafeMutablePointer<Float>) {
        let alpha = geo.alpha, a2 = alpha * alpha, m = geo.m, rw = geo.rowWidth, tp = geo.tp, tilesX = geo.tilesX
        let groupRows = max(1, 64 / tilesX)
        // Wide rows (≥ 12 tiles) take the row pass 16 tiles of one tile row at a time with
        // strided vector loads (`T.strided`) instead of per-lane gathers; narrower ones would
        // leave too many of the 16 lanes idle. The strided loads may read 16·m floats past a
        // row's last tile: slack at the end of `vert`.
        let segments = tilesX >= 12
        let rows = allocate(alpha * rw), vert = allocate(groupRows * alpha * rw + 16 * m + 16)
        let tileOffset = UnsafeMutablePointer<Int>.allocate(capacity: groupRows * tilesX + 16)
        defer { rows.deallocate(); vert.deallocate(); tileOffset.deallocate() }
        let plane = geo.inH * geo.inW
        // Input columns x = xp + offX for xp in 0 ..< rw: the valid ones are [xLo, xHi).
        let xLo = max(0, -geo.offX), xHi = min(rw, geo.inW - geo.offX)
        var g0 = u0
        while g0 < u1 {
            let g1 = min(u1, g0 + groupRows)
            let gTiles = (g1 - g0) * tilesX, tg0 = (g0 - u0) * tilesX
            for t in 0..<(gTiles + 15) / 16 * 16 {
                let tc = min(t, gTiles - 1)
                tileOffset[t] = (tc / tilesX) * alpha * rw + (tc % tilesX) * m
            }
            for c in channels {
                for un in g0..<g1 {
                    let img = un / geo.tilesY, ty = un % geo.tilesY
                    let src = input + (img * geo.cIn + c) * plane
                    for r in 0..<alpha {
                        let y = ty * m + geo.offY + r
                        let row = rows + r * rw
                        if y < 0 || y >= geo.inH || xLo >= xHi {
                            fill(row, 0, count: rw)
                            continue
                        }
                        if xLo > 0 { fill(row, 0, count: xLo) }
                        copy(src + y * geo.inW + xLo + geo.offX, to: row + xLo, count: xHi - xLo)
                        if xHi < rw { fill(row + xHi, 0, count: rw - xHi) }
                    }
                    // Column pass: vert[u][ξy][x] = Σ_r Bᵀ[ξy][r] row_r[x].
                    let vOut = vert + (un - g0) * alpha * rw
                    var xb = 0
                    while xb < rw {
                        T.input(load: { r in UnsafeRawPointer(rows + r * rw + xb).loadUnaligned(as: SIMD16<Float>.self) },
                                store: { r, x in UnsafeMutableRawPointer(vOut + r * rw + xb).storeBytes(of: x, as: SIMD16<Float>.self) })
                        xb += 16
                    }
                }
                if segments {
                    for un in g0..<g1 {
                        let vRow = vert + (un - g0) * alpha * rw
                        var tx0 = 0
                        while tx0 < tilesX {
                            let t0 = (un - u0) * tilesX + tx0
                            for ey in 0..<alpha {
                                let base = vRow + ey * rw + tx0 * m
                                let dst = v + (c * a2 + ey * alpha) * tp + t0
                                T.input(load: { j in T.strided(base + j) },
                                        store: { ex, x in UnsafeMutableRawPointer(dst + ex * tp).storeBytes(of: x, as: SIMD16<Float>.self) })
                            }
                            tx0 += 16
                        }
                    }
                    continue
                }
                // Row pass on 16 tiles: lane l reads vert[u_l][ξy][tx_l·m + j]. Rows of 4 or 8 tiles
                // put 4 or 2 whole tile rows in a vector: strided loads of each row's tiles
                // (`rowsStrided`) instead of a gather, which cost one access per lane (perf: the
                // gathers were ~15 % of 64 → 64 @32's forward pass).
                var t0 = 0
                while t0 < gTiles {
                    let offs = tileOffset + t0
                    for ey in 0..<alpha {
                        let base = vert + ey * rw
                        let dst = v + (c * a2 + ey * alpha) * tp + tg0 + t0
                        if tilesX == 4 || tilesX == 8 {
                            let first = t0 / tilesX, last = g1 - g0 - 1
                            T.input(load: { j in rowsStrided(T.self, base + j, firstRow: first, lastRow: last,
                                                             rowStride: alpha * rw, tilesX: tilesX) },
                                    store: { ex, x in UnsafeMutableRawPointer(dst + ex * tp).storeBytes(of: x, as: SIMD16<Float>.self) })
                        } else {
                            T.input(load: { j in gather16(base + j, offs) },
                                    store: { ex, x in UnsafeMutableRawPointer(dst + ex * tp).storeBytes(of: x, as: SIMD16<Float>.self) })
                        }
                    }
                    t0 += 16
                }
            }
            g0 = g1
        }
    }

    /// Y = Aᵀ M A per tile and channel, written to the output with the bias. Tiles go 16 at a
    /// time along one tile row (vectors may start anywhere in M's row: loads are unaligned and
    /// TP has 16 floats of slack), so the m results of an output row for 16 neighbouring tiles
    /// are m·16 contiguous pixels: interleaved in registers and copied as one run (the lane-by-
    /// lane scalar stores of the first cut were ~15 % of a 64-channel forward).
    private static func transformOutput<T: WinogradTransform>(_: T.Type, _ geo: Geometry, m mBuf: UnsafePointer<Float>,
                                                             u0: Int, nt: Int, channels: Range<Int>,
                                                             bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                                                             epilogue: ConvEpilogue?) {
        let alpha = geo.alpha, m = geo.m, a2 = alpha * alpha, tp = geo.tp, tilesX = geo.tilesX
        let outPlane = geo.outH * geo.outW
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: alpha * m + m * m + m) { tmp in
            let half = tmp.baseAddress!, y = half + alpha * m
            let row = UnsafeMutableRawPointer(y + m * m)   // m·16 floats
            // Y = Aᵀ M A for the 16 tiles whose M vectors start at `mt`: column pass
            // half[i][ξx] = Σ_ξy Aᵀ[i][ξy] M[ξy][ξx], straight from M; then rows, Y[i][j] into y.
            @inline(__always) func transformTiles(_ mt: UnsafePointer<Float>) {
                for ex in 0..<alpha {
                    T.output(load: { ey in UnsafeRawPointer(mt + (ey * alpha + ex) * tp).loadUnaligned(as: SIMD16<Float>.self) },
                             store: { i, x in half[i * alpha + ex] = x })
                }
                for i in 0..<m { T.output(load: { half[i * alpha + $0] }, store: { j, x in y[i * m + j] = x }) }
            }
            // The epilogue on `count` outputs just written at `out` (channel co of image img).
            @inline(__always) func finish(_ out: UnsafeMutablePointer<Float>, count: Int, co: Int, img: Int) {
                epilogue?.apply(output, count: count, channel: co, offset: out - output,
                                planeStart: (img * geo.cOut + co) * outPlane, planeCount: outPlane)
            }
            // Rows of at most 8 tiles: one 16-tile vector holds ⌊16/tilesX⌋ whole tile rows (as
            // M stores them, t = (u − u0)·tilesX + tx), transformed together and written row by
            // row; one row per vector left 16 − tilesX lanes' arithmetic unused (12 of 16 at
            // 4 tiles a row, 9 at 7).
            let rowsPerVector = tilesX <= 8 ? 16 / tilesX : 1
            for co in channels where rowsPerVector > 1 {
                let b = bias?[co] ?? 0
                var un = u0
                while un < u0 + nt / tilesX {
                    transformTiles(mBuf + co * a2 * tp + (un - u0) * tilesX)
                    let rows = min(rowsPerVector, u0 + nt / tilesX - un), width = min(tilesX * m, geo.outW)
                    for i in 0..<m {
                        T.interleave(y + i * m, bias: b, into: row)
                        for k in 0..<rows {
                            let img = (un + k) / geo.tilesY, ty = (un + k) % geo.tilesY
                            guard ty * m + i < geo.outH else { continue }
                            let out = output + (img * geo.cOut + co) * outPlane + (ty * m + i) * geo.outW
                            copy(row.assumingMemoryBound(to: Float.self) + k * tilesX * m, to: out, count: width)
                            finish(out, count: width, co: co, img: img)
                        }
                    }
                    un += rowsPerVector
                }
            }
            for co in channels where rowsPerVector == 1 {
                let b = bias?[co] ?? 0
                for un in u0..<(u0 + nt / tilesX) {
                    let img = un / geo.tilesY, ty = un % geo.tilesY
                    let oy = ty * m, rowsIn = min(m, geo.outH - oy)
                    let dst = output + (img * geo.cOut + co) * outPlane + oy * geo.outW
                    var tx0 = 0
                    while tx0 < tilesX {
                        transformTiles(mBuf + co * a2 * tp + (un - u0) * tilesX + tx0)
                        let ox = tx0 * m, width = min(16 * m, geo.outW - ox)
                        for i in 0..<rowsIn {
                            let out = dst + i * geo.outW + ox
                            if width == 16 * m {
                                T.interleave(y + i * m, bias: b, into: UnsafeMutableRawPointer(out))
                            } else {
                                T.interleave(y + i * m, bias: b, into: row)
                                copy(row.assumingMemoryBound(to: Float.self), to: out, count: width)
                            }
                            finish(out, count: width, co: co, img: img)
                        }
                        tx0 += 16
                    }
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
        let vCount = lines(a2 * geo.cIn * tp), zCount = lines(a2 * tp * coP)
        // Narrow layers: the chunks are cut into `weightSlots` contiguous ranges, a fixed number
        // (not the thread count), each summed into its own dU by whichever worker runs it, with
        // no barrier per chunk; the slots are added in slot order below. The result is the same
        // for any thread count. Wide layers keep one dU and split each chunk's phases (slots
        // would each repack a large U-sized dU and its partial sums).
        // As in `run`, only with enough chunks (≥ 2 per slot) for the slots to balance on 2 cores.
        let slots = geo.cIn * geo.cOut <= perWorkerMaxChannelPairs && geo.chunks >= 2 * weightSlots ? weightSlots : 1
        let slotCount = lines(uCount) + vCount + zCount
        withWorkspace(slots * slotCount) { ws in
        let dU = ws
        if slots > 1 {
            Parallel.run(parts: slots, threads: min(Parallel.threads, slots)) { sl in
                let dUs = ws + sl * slotCount, v = dUs + lines(uCount), z = v + vCount
                let first = geo.chunks * sl / slots
                for chunk in first..<(geo.chunks * (sl + 1) / slots) {
                    let (u0, u1, nt) = chunkRows(geo, chunk)
                    transformInput(t, geo, input: input, u0: u0, u1: u1, channels: 0..<geo.cIn, v: v)
                    transformGradOutput(t, geo, gradOutput: gradOutput, u0: u0, tiles: 0..<nt, z: z, ldz: coP)
                    for xi in 0..<a2 {
                        Gemm.sgemm(transA: false, transB: false, m: geo.cIn, n: geo.cOut, k: nt, alpha: 1,
                                   a: v + xi * tp, lda: a2 * tp, b: z + xi * tp * coP, ldb: coP,
                                   beta: chunk == first ? 0 : 1, c: dUs + xi * geo.cIn * geo.cOut, ldc: geo.cOut,
                                   threads: 1)
                    }
                }
            }
        } else {
            let v = ws + lines(uCount), z = v + vCount
            for chunk in 0..<geo.chunks {
                let (u0, u1, nt) = chunkRows(geo, chunk)
                Parallel.forRanges(geo.cIn) { cs in
                    transformInput(t, geo, input: input, u0: u0, u1: u1, channels: cs, v: v)
                }
                Parallel.forRanges(nt) { ts in
                    transformGradOutput(t, geo, gradOutput: gradOutput, u0: u0, tiles: ts, z: z, ldz: coP)
                }
                // dU[ξ] belongs to one worker and sums the chunks in order (the first overwrites).
                Parallel.forRanges(a2) { xis in
                    for xi in xis {
                        Gemm.sgemm(transA: false, transB: false, m: geo.cIn, n: geo.cOut, k: nt, alpha: 1,
                                   a: v + xi * tp, lda: a2 * tp, b: z + xi * tp * coP, ldb: coP,
                                   beta: chunk == 0 ? 0 : 1, c: dU + xi * geo.cIn * geo.cOut, ldc: geo.cOut, threads: 1)
                    }
                }
            }
        }
        // dW[co, ci] = Gᵀ dU[·][ci][co] G, 16 co per vector: the α² planes of dU are read as α²
        // sequential streams (a scalar loop with co outer, strided by cout, cost ~40 % of the
        // 640→640 @14 pass in the first cut).
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
                            var acc = load(dU + at, lanes: lanes)
                            for sl in 1..<max(1, slots) { acc += load(dU + sl * slotCount + at, lanes: lanes) }
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
    }

    /// Z[ξ][t][co] = (A dY_{co,t} Aᵀ)[ξ], 16 channels per vector (lanes past cout are zero).
    ///
    /// Neighbouring tiles of one tile row go in groups of up to 16/m (`transformGradGroup`):
    /// each output row of the group is 16 channels × ≤ 16 contiguous pixels, loaded as rows and
    /// transposed in registers into 16-channel vectors. A tile alone (the last of a tile row
    /// whose group would be a single tile) gathers its 16 channels per pixel (`transformGradTile`),
    /// which costs one memory access per float: that path took a quarter of the narrow layers'
    /// weight pass (perf, 32 → 32 @64). Both paths do the same arithmetic on the same values.
    private static func transformGradOutput<T: WinogradTransform>(_: T.Type, _ geo: Geometry,
                                                                 gradOutput: UnsafePointer<Float>, u0: Int, tiles: Range<Int>,
                                                                 z: UnsafeMutablePointer<Float>, ldz: Int) {
        let alpha = geo.alpha, m = geo.m
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 16 * alpha + 16) { tmp in
            let half = tmp.baseAddress!, cols = half + 16 * alpha
            var t = tiles.lowerBound
            while t < tiles.upperBound {
                let tx = t % geo.tilesX
                let g = min(16 / m, geo.tilesX - tx, tiles.upperBound - t)
                if g >= 2 {
                    transformGradGroup(T.self, geo, gradOutput: gradOutput, u0: u0, t0: t, count: g, z: z, ldz: ldz,
                                       half: half, cols: cols)
                } else {
                    transformGradTile(T.self, geo, gradOutput: gradOutput, u0: u0, t: t, z: z, ldz: ldz, half: half)
                }
                t += g
            }
        }
    }

    /// `transformGradOutput` for the `count` (2 … 16/m) tiles t0 ..< t0+count of one tile row.
    /// Per output row i and 16 channels: 16 row loads of the group's ≤ 16 pixels (zero past the
    /// image), one `Transpose16`, so that `cols[q]` holds pixel q of the row for the 16 channels;
    /// then each tile's row pass reads its m columns from there.
    @inline(__always)
    private static func transformGradGroup<T: WinogradTransform>(_: T.Type, _ geo: Geometry, gradOutput: UnsafePointer<Float>,
                                                                u0: Int, t0: Int, count g: Int,
                                                                z: UnsafeMutablePointer<Float>, ldz: Int,
                                                                half: UnsafeMutablePointer<SIMD16<Float>>,
                                                                cols: UnsafeMutablePointer<SIMD16<Float>>) {
        typealias V = SIMD16<Float>
        let alpha = geo.alpha, m = geo.m
        let outPlane = geo.outH * geo.outW
        let un = u0 + t0 / geo.tilesX, tx = t0 % geo.tilesX
        let img = un / geo.tilesY, ty = un % geo.tilesY
        let oy = ty * m, ox = tx * m
        let rowsIn = min(m, geo.outH - oy), width = min(g * m, geo.outW - ox)
        // The group reads 16 channels × m rows: 16·m streams, more than the hardware
        // prefetcher follows, so each load missed (perf put the group's time on them). Ask for
        // the next group's lines of the same rows now.
        let ahead = min(16, geo.outW - ox - width)
        var cb = 0
        while cb < geo.cOut {
            let lanes = min(16, geo.cOut - cb)
            let src = gradOutput + (img * geo.cOut + cb) * outPlane + oy * geo.outW + ox
            if ahead > 0 {
                for c in 0..<lanes {
                    for i in 0..<rowsIn { mer_prefetch(src + c * outPlane + i * geo.outW + width + ahead - 1) }
                }
            }
            for i in 0..<m {
                if i < rowsIn {
                    let r = src + i * geo.outW
                    @inline(__always) func row(_ c: Int) -> V {
                        guard c < lanes else { return V() }
                        let p = r + c * outPlane
                        if width == 16 { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
                        var v = V()
                        for q in 0..<width { v[q] = p[q] }
                        return v
                    }
                    let tr = Transpose16.transpose((row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7),
                                                    row(8), row(9), row(10), row(11), row(12), row(13), row(14), row(15)))
                    cols[0] = tr.0; cols[1] = tr.1; cols[2] = tr.2; cols[3] = tr.3
                    cols[4] = tr.4; cols[5] = tr.5; cols[6] = tr.6; cols[7] = tr.7
                    cols[8] = tr.8; cols[9] = tr.9; cols[10] = tr.10; cols[11] = tr.11
                    cols[12] = tr.12; cols[13] = tr.13; cols[14] = tr.14; cols[15] = tr.15
                } else {
                    for q in 0..<16 { cols[q] = V() }
                }
                // Row pass: half[k][i][ξx] = Σ_j A[ξx][j] dY_k[i][j].
                for k in 0..<g {
                    T.expand(load: { j in cols[k * m + j] }, store: { ex, x in half[(k * m + i) * alpha + ex] = x })
                }
            }
            for k in 0..<g {
                storeZ(T.self, geo, half: half + k * m * alpha, t: t0 + k, cb: cb, z: z, ldz: ldz)
            }
            cb += 16
        }
    }

    /// `transformGradOutput` for tile t alone: 16 channels gathered per pixel.
    @inline(__always)
    private static func transformGradTile<T: WinogradTransform>(_: T.Type, _ geo: Geometry, gradOutput: UnsafePointer<Float>,
                                                               u0: Int, t: Int, z: UnsafeMutablePointer<Float>, ldz: Int,
                                                               half: UnsafeMutablePointer<SIMD16<Float>>) {
        let alpha = geo.alpha, m = geo.m
        let outPlane = geo.outH * geo.outW
        let un = u0 + t / geo.tilesX, tx = t % geo.tilesX
        let img = un / geo.tilesY, ty = un % geo.tilesY
        let oy = ty * m, ox = tx * m
        let rowsIn = min(m, geo.outH - oy), colsIn = min(m, geo.outW - ox)
        var cb = 0
        while cb < geo.cOut {
            let lanes = min(16, geo.cOut - cb)
            let src = gradOutput + (img * geo.cOut + cb) * outPlane + oy * geo.outW + ox
            /// dY[i][j] of 16 output channels, gathered in registers (zero past the image).
            @inline(__always) func dY(_ i: Int, _ j: Int) -> SIMD16<Float> {
                var lane = SIMD16<Float>()
                if i < rowsIn && j < colsIn {
                    let p = src + i * geo.outW + j
                    if lanes == 16 {
                        lane = gather16(p, stride: outPlane)
                    } else {
                        for l in 0..<lanes { lane[l] = p[l * outPlane] }
                    }
                }
                return lane
            }
            // Row pass: half[i][ξx] = Σ_j A[ξx][j] dY[i][j].
            for i in 0..<m { T.expand(load: { j in dY(i, j) }, store: { ex, x in half[i * alpha + ex] = x }) }
            storeZ(T.self, geo, half: half, t: t, cb: cb, z: z, ldz: ldz)
            cb += 16
        }
    }

    /// Column pass of the dOut transform for tile t and channels cb ..< cb+16: Z[ξy][ξx] =
    /// Σ_i A[ξy][i] half[i][ξx], stored straight into z (both grad paths end here).
    @inline(__always)
    private static func storeZ<T: WinogradTransform>(_: T.Type, _ geo: Geometry, half: UnsafeMutablePointer<SIMD16<Float>>,
                                                    t: Int, cb: Int, z: UnsafeMutablePointer<Float>, ldz: Int) {
        let alpha = geo.alpha, tp = geo.tp
        for ex in 0..<alpha {
            T.expand(load: { half[$0 * alpha + ex] }, store: { ey, x in
                UnsafeMutableRawPointer(z + ((ey * alpha + ex) * tp + t) * ldz + cb).storeBytes(of: x, as: SIMD16<Float>.self)
            })
        }
    }
}
