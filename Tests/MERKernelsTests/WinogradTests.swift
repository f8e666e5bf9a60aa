import MERTestSupport
import XCTest
import MERKernels

/// Winograd F(2×2,3×3) / F(4×4,3×3) against the direct reference loops.
///
/// Error bounds reached in float32 (inputs, weights, dOut uniform in [−1, 1]; error = max |got −
/// reference| / max(1, max |reference|), as `assertClose` measures), worst over every shape here:
///
///                      forward   backward-data   backward-weight
///     F(2x2,3x3)       9.4e-7    7.2e-7          2.2e-6
///     F(4x4,3x3)       5.0e-6    4.8e-6          6.2e-6
///     direct kernel    3.1e-7  (forward, the 64-channel layer, K = 576)
///
/// The tests allow 2e-5 / 5e-5 (≥ 8× headroom). F(4,3)'s error is 3–7× F(2,3)'s: its
/// transforms multiply by up to 8 and 5 (Aᵀ, Bᵀ) and divide by 6 and 24 (G), where F(2,3)'s
/// matrices hold only 0, ±1 and ±1/2. A wrong transform entry gives errors of order 1.
private let tolerance: [WinogradKernels.Tile: Float] = [.f2: 2e-5, .f4: 5e-5]

private func outCount(_ s: ConvShape) -> Int { s.n * s.cout * s.hout * s.wout }
private func inCount(_ s: ConvShape) -> Int { s.n * s.cin * s.h * s.w }
private func weightCount(_ s: ConvShape) -> Int { s.cout * s.cin * 9 }

/// Outputs start as NaN so a kernel that leaves an element unwritten fails.
private func winoForward(_ s: ConvShape, _ tile: WinogradKernels.Tile, _ x: [Float], _ w: [Float], _ b: [Float]?) -> [Float] {
    var y = [Float](repeating: .nan, count: outCount(s))
    y.withUnsafeMutableBufferPointer { yp in
        if let b {
            WinogradKernels.forward(s, tile: tile, input: x, weight: w, bias: b, output: yp.baseAddress!)
        } else {
            WinogradKernels.forward(s, tile: tile, input: x, weight: w, bias: nil, output: yp.baseAddress!)
        }
    }
    return y
}

private func winoBackwardData(_ s: ConvShape, _ tile: WinogradKernels.Tile, _ gy: [Float], _ w: [Float]) -> [Float] {
    var gx = [Float](repeating: .nan, count: inCount(s))
    gx.withUnsafeMutableBufferPointer {
        WinogradKernels.backwardData(s, tile: tile, gradOutput: gy, weight: w, gradInput: $0.baseAddress!)
    }
    return gx
}

private func winoBackwardWeight(_ s: ConvShape, _ tile: WinogradKernels.Tile, _ x: [Float], _ gy: [Float]) -> ([Float], [Float]) {
    var gw = [Float](repeating: .nan, count: weightCount(s)), gb = [Float](repeating: .nan, count: s.cout)
    gw.withUnsafeMutableBufferPointer { wp in
        gb.withUnsafeMutableBufferPointer { bp in
            WinogradKernels.backwardWeight(s, tile: tile, input: x, gradOutput: gy, gradWeight: wp.baseAddress!,
                                           gradBias: bp.baseAddress!)
        }
    }
    return (gw, gb)
}

private func refForward(_ s: ConvShape, _ x: [Float], _ w: [Float], _ b: [Float]?) -> [Float] {
    var y = [Float](repeating: .nan, count: outCount(s))
    y.withUnsafeMutableBufferPointer { yp in
        if let b {
            ConvKernels.forwardReference(s, input: x, weight: w, bias: b, output: yp.baseAddress!)
        } else {
            ConvKernels.forwardReference(s, input: x, weight: w, bias: nil, output: yp.baseAddress!)
        }
    }
    return y
}

private func refBackwardData(_ s: ConvShape, _ gy: [Float], _ w: [Float]) -> [Float] {
    var gx = [Float](repeating: .nan, count: inCount(s))
    gx.withUnsafeMutableBufferPointer {
        ConvKernels.backwardDataReference(s, gradOutput: gy, weight: w, gradInput: $0.baseAddress!)
    }
    return gx
}

private func refBackwardWeight(_ s: ConvShape, _ x: [Float], _ gy: [Float]) -> ([Float], [Float]) {
    var gw = [Float](repeating: .nan, count: weightCount(s)), gb = [Float](repeating: .nan, count: s.cout)
    gw.withUnsafeMutableBufferPointer { wp in
        gb.withUnsafeMutableBufferPointer { bp in
            ConvKernels.backwardWeightReference(s, input: x, gradOutput: gy, gradWeight: wp.baseAddress!,
                                                gradBias: bp.baseAddress!)
        }
    }
    return (gw, gb)
}

private func describe(_ s: ConvShape) -> String {
    "n\(s.n) cin\(s.cin) \(s.h)x\(s.w) cout\(s.cout) p\(s.padH)x\(s.padW)"
}

/// Runs `body` with `ConvAlgorithm.mode` set, restoring the previous mode.
private func withMode<T>(_ mode: ConvAlgorithm, _ body: () throws -> T) rethrows -> T {
    let saved = ConvAlgorithm.mode
    ConvAlgorithm.mode = mode
    defer { ConvAlgorithm.mode = saved }
    return try body()
}

final class WinogradTests: XCTestCase {
    // MARK: Hand-computed

    func testOnesKernelCountsNeighbours() {
        // 3×3 kernel of ones, padding 1, on a 5×5 image of ones: each output is the number of
        // in-image pixels under the window (corners 4, edges 6, interior 9); bias 0.5 on top.
        let s = ConvShape(n: 1, cin: 1, h: 5, w: 5, cout: 1, kh: 3, kw: 3, padH: 1, padW: 1)
        let x = [Float](repeating: 1, count: 25), w = [Float](repeating: 1, count: 9)
        var want = [Float]()
        for y in 0..<5 {
            for xx in 0..<5 {
                let rows: Float = y == 0 || y == 4 ? 2 : 3, cols: Float = xx == 0 || xx == 4 ? 2 : 3
                want.append(rows * cols + 0.5)
            }
        }
        for tile in WinogradKernels.Tile.allCases {
            assertClose(winoForward(s, tile, x, w, [0.5]), want, tol: 1e-6, "forward \(tile.name)")
            // dOut = ones: dIn counts the windows covering each pixel, the same picture.
            assertClose(winoBackwardData(s, tile, [Float](repeating: 1, count: 25), w),
                        want.map { $0 - 0.5 }, tol: 1e-6, "backwardData \(tile.name)")
            // dW[ky,kx] = Σ of the input under tap (ky,kx) over all 25 windows: 16, 20, 16 / 20, 25, 20 / ...
            let (gw, gb) = winoBackwardWeight(s, tile, x, [Float](repeating: 1, count: 25))
            assertClose(gw, [16, 20, 16, 20, 25, 20, 16, 20, 16], tol: 1e-6, "backwardWeight \(tile.name)")
            XCTAssertEqual(gb, [25])
        }
    }

    // MARK: Against the reference

    private func check(_ s: ConvShape, seed: UInt64, threads: [Int] = [1, 2, 3]) {
        XCTAssertTrue(WinogradKernels.supports(s), describe(s))
        var rng = SplitMix64(seed: seed)
        let x = rng.array(inCount(s)), w = rng.array(weightCount(s)), b = rng.array(s.cout)
        let gy = rng.array(outCount(s))
        let yRef = refForward(s, x, w, b), gxRef = refBackwardData(s, gy, w)
        let (gwRef, gbRef) = refBackwardWeight(s, x, gy)
        for tile in WinogradKernels.Tile.allCases {
            let tol = tolerance[tile]!
            var first: ([Float], [Float], [Float])? = nil
            for t in threads {
                withThreads(t) {
                    let tag = "\(tile.name) \(describe(s)) threads \(t)"
                    let y = winoForward(s, tile, x, w, b)
                    assertClose(y, yRef, tol: tol, "forward \(tag)")
                    assertClose(winoForward(s, tile, x, w, nil), refForward(s, x, w, nil), tol: tol, "no bias \(tag)")
                    let gx = winoBackwardData(s, tile, gy, w)
                    assertClose(gx, gxRef, tol: tol, "backwardData \(tag)")
                    let (gw, gb) = winoBackwardWeight(s, tile, x, gy)
                    assertClose(gw, gwRef, tol: tol, "backwardWeight \(tag)")
                    assertClose(gb, gbRef, tol: 1e-5, "backwardBias \(tag)")
                    let (gw2, _) = winoBackwardWeight(s, tile, x, gy)
                    assertBitIdentical(gw, gw2, "backwardWeight rerun \(tag)")
                    // No element's arithmetic depends on how the phases are split over threads.
                    if let first {
                        assertBitIdentical(y, first.0, "forward vs 1 thread \(tag)")
                        assertBitIdentical(gx, first.1, "backwardData vs 1 thread \(tag)")
                        assertBitIdentical(gw, first.2, "backwardWeight vs 1 thread \(tag)")
                    } else {
                        first = (y, gx, gw)
                    }
                }
            }
        }
    }

    func testFixedShapesMatchReference() {
        let shapes = [
            ConvShape(n: 1, cin: 1, h: 3, w: 3, cout: 1, kh: 3, kw: 3),                                // one partial tile
            ConvShape(n: 2, cin: 3, h: 7, w: 9, cout: 5, kh: 3, kw: 3, padH: 1, padW: 1),
            ConvShape(n: 3, cin: 5, h: 11, w: 6, cout: 7, kh: 3, kw: 3, padH: 2, padW: 2),
            ConvShape(n: 2, cin: 4, h: 9, w: 13, cout: 3, kh: 3, kw: 3, padH: 0, padW: 1),
            ConvShape(n: 2, cin: 3, h: 5, w: 4, cout: 2, kh: 3, kw: 3, padH: 3, padW: 4),              // backwardData crops
            ConvShape(n: 1, cin: 2, h: 1, w: 2, cout: 3, kh: 3, kw: 3, padH: 1, padW: 1),              // image < kernel
            // Channels past one 16-lane vector and one 32-column GEMM panel, not multiples of either;
            // 33 tile columns at F(2,3) so a 16-tile vector spans two tile rows.
            ConvShape(n: 2, cin: 19, h: 13, w: 66, cout: 37, kh: 3, kw: 3, padH: 1, padW: 1),
            // Odd sizes, five images.
            ConvShape(n: 5, cin: 21, h: 29, w: 23, cout: 17, kh: 3, kw: 3, padH: 1, padW: 1),
        ]
        for (i, s) in shapes.enumerated() { check(s, seed: UInt64(50 + i)) }
    }

    /// Chunks of one or a few tile rows (chunks that end mid-image, the weight pass summing
    /// dU over many chunks) give the same results as one chunk, up to rounding. With ≥ 8 chunks
    /// (one tile row per chunk: every shape here at F(2,3), the first and third at F(4,3)) the
    /// narrow-layer paths run: whole chunks per worker and the weight pass's fixed slots, still
    /// bit-identical across thread counts.
    func testSmallChunksMatchReference() {
        let saved = WinogradKernels.targetTiles
        defer { WinogradKernels.targetTiles = saved }
        for target in [1, 9] {
            WinogradKernels.targetTiles = target
            check(ConvShape(n: 3, cin: 5, h: 11, w: 9, cout: 7, kh: 3, kw: 3, padH: 1, padW: 1), seed: UInt64(70 + target))
            check(ConvShape(n: 2, cin: 18, h: 7, w: 17, cout: 33, kh: 3, kw: 3, padH: 2, padW: 0), seed: UInt64(80 + target))
            check(ConvShape(n: 4, cin: 6, h: 13, w: 9, cout: 5, kh: 3, kw: 3, padH: 1, padW: 1), seed: UInt64(90 + target))
        }
    }

    /// One image of a narrow layer in one chunk: the workers take whole chunks of it, cut into
    /// a multiple of their number while each keeps ≥ 64 tiles, with the same bits as one
    /// thread (the forward products do not depend on the chunking; backwardData runs the same
    /// code through its geometry).
    func testOneImageIsCutIntoWholeChunksPerWorker() {
        let saved = WinogradKernels.targetTiles
        defer { WinogradKernels.targetTiles = saved }
        WinogradKernels.targetTiles = 1000
        let s = ConvShape(n: 1, cin: 8, h: 64, w: 64, cout: 12, kh: 3, kw: 3, padH: 1, padW: 1)   // 256 F(4,3) tiles
        XCTAssertEqual(WinogradKernels.forwardSplit(s, tile: .f4, threads: 1).chunks, 1)
        for threads in [2, 3] {
            let split = WinogradKernels.forwardSplit(s, tile: .f4, threads: threads)
            XCTAssertEqual(split.chunks, threads)
            XCTAssertTrue(split.wholeChunksPerWorker)
        }
        // 64 tiles would make chunks of 32: one chunk, its phases split.
        let small = ConvShape(n: 1, cin: 8, h: 32, w: 32, cout: 12, kh: 3, kw: 3, padH: 1, padW: 1)
        XCTAssertEqual(WinogradKernels.forwardSplit(small, tile: .f4, threads: 2).chunks, 1)
        XCTAssertFalse(WinogradKernels.forwardSplit(small, tile: .f4, threads: 2).wholeChunksPerWorker)
        // Wide layers are not cut.
        var wide = s
        wide.cin = 160; wide.cout = 160
        XCTAssertEqual(WinogradKernels.forwardSplit(wide, tile: .f4, threads: 2).chunks, 1)
        check(s, seed: 97)
        check(small, seed: 98)
    }

    /// The transformed filters go straight into the GEMM's packed panels (`transformFilters`),
    /// whose layout has one section per K block: with a K block of 8, the 19 input channels of
    /// the forward make 3 blocks and the 37 of backwardData 5, and 37 rows are not a whole
    /// number of 12-row panels.
    func testTransformedFiltersSpanSeveralKBlocks() {
        let saved = Gemm.blocking
        defer { Gemm.blocking = saved }
        Gemm.blocking.kc = 8
        check(ConvShape(n: 2, cin: 19, h: 13, w: 14, cout: 37, kh: 3, kw: 3, padH: 1, padW: 1), seed: 77, threads: [1, 2])
    }

    func testRandomShapesMatchReference() {
        var rng = SplitMix64(seed: 2016)
        for i in 0..<24 {
            let pad = rng.int(0...2)
            let s = ConvShape(n: rng.int(1...3), cin: rng.int(1...20), h: rng.int(max(1, 3 - 2 * pad)...17),
                              w: rng.int(max(1, 3 - 2 * pad)...17), cout: rng.int(1...20), kh: 3, kw: 3,
                              padH: pad, padW: rng.pick([pad, rng.int(0...2)]))
            if s.problem != nil { continue }
            check(s, seed: UInt64(500 + i), threads: [1, 2])
        }
    }

    /// A DBFEM-sized layer (64 channels) against the direct fast kernel, which is itself tested
    /// against the loops: the error bound holds at the GEMM depths the models use (K = 576).
    func testModelSizedLayerMatchesDirectKernel() {
        let s = ConvShape(n: 4, cin: 64, h: 22, w: 22, cout: 64, kh: 3, kw: 3, padH: 1, padW: 1)
        var rng = SplitMix64(seed: 64)
        let x = rng.array(inCount(s)), w = rng.array(weightCount(s)), gy = rng.array(outCount(s))
        var y = [Float](repeating: .nan, count: outCount(s)), gx = [Float](repeating: .nan, count: inCount(s))
        var gw = [Float](repeating: .nan, count: weightCount(s))
        withMode(.direct) {
            ConvKernels.forward(s, input: x, weight: w, bias: nil, output: &y)
            ConvKernels.backwardData(s, gradOutput: gy, weight: w, gradInput: &gx)
            ConvKernels.backwardWeight(s, input: x, gradOutput: gy, gradWeight: &gw, gradBias: nil)
        }
        for tile in WinogradKernels.Tile.allCases {
            let tol = tolerance[tile]!
            assertClose(winoForward(s, tile, x, w, nil), y, tol: tol, "forward \(tile.name)")
            assertClose(winoBackwardData(s, tile, gy, w), gx, tol: tol, "backwardData \(tile.name)")
            assertClose(winoBackwardWeight(s, tile, x, gy).0, gw, tol: tol, "backwardWeight \(tile.name)")
        }
    }

    // MARK: Dispatch

    func testModeSelectsTheAlgorithm() {
        let s = ConvShape(n: 2, cin: 8, h: 9, w: 9, cout: 8, kh: 3, kw: 3, padH: 1, padW: 1)
        var rng = SplitMix64(seed: 9)
        let x = rng.array(inCount(s)), w = rng.array(weightCount(s))
        func viaDispatch() -> [Float] {
            var y = [Float](repeating: .nan, count: outCount(s))
            ConvKernels.forward(s, input: x, weight: w, bias: nil, output: &y)
            return y
        }
        withMode(.winograd) {
            let tile = ConvAlgorithm.winogradTile(for: s, pass: .forward)
            XCTAssertNotNil(tile)
            assertBitIdentical(viaDispatch(), winoForward(s, tile!, x, w, nil), "winograd mode")
        }
        withMode(.direct) {
            XCTAssertNil(ConvAlgorithm.winogradTile(for: s, pass: .forward))
            let y = viaDispatch()
            // The direct path's rounding differs from Winograd's, but both are close to the loops.
            assertClose(y, refForward(s, x, w, nil), tol: 1e-5, "direct mode")
            XCTAssertNotEqual(y.map(\.bitPattern), winoForward(s, .f4, x, w, nil).map(\.bitPattern))
        }
    }

    /// The auto rule's shape logic (the timings behind it are in ConvAlgorithm.autoTile).
    func testAutoRule() {
        func conv(_ cin: Int, _ cout: Int, _ side: Int) -> ConvShape {
            ConvShape(n: 16, cin: cin, h: side, w: side, cout: cout, kh: 3, kw: 3, padH: 1, padW: 1)
        }
        withMode(.auto) {
            for pass in ConvAlgorithm.Pass.allCases {
                XCTAssertNil(ConvAlgorithm.winogradTile(for: conv(2, 64, 112), pass: pass), "2 input channels stay direct")
                XCTAssertNil(ConvAlgorithm.winogradTile(for: conv(64, 16, 32), pass: pass), "16 output channels stay direct")
                XCTAssertEqual(ConvAlgorithm.winogradTile(for: conv(32, 32, 64), pass: pass), .f4)
                XCTAssertEqual(ConvAlgorithm.winogradTile(for: conv(64, 64, 56), pass: pass), .f4)
                XCTAssertEqual(ConvAlgorithm.winogradTile(for: conv(640, 640, 14), pass: pass), .f4)
                // 6×6: 4 tiles of F(4,3) (36 each) tie 9 tiles of F(2,3) (16 each): F(4,3).
                XCTAssertEqual(ConvAlgorithm.winogradTile(for: conv(128, 128, 6), pass: pass), .f4)
                // 2×2: one F(4,3) tile (36) against one F(2,3) tile (16): F(2,3).
                var tiny = conv(128, 128, 2)
                tiny.n = 64
                XCTAssertEqual(ConvAlgorithm.winogradTile(for: tiny, pass: pass), .f2)
                XCTAssertEqual(ConvAlgorithm.winogradTile(for: conv(128, 128, 7), pass: pass), .f4)
                // Batch 1 at 14×14: 16 tiles of F(4,3), too few to pay for U.
                var single = conv(640, 640, 14)
                single.n = 1
                XCTAssertNil(ConvAlgorithm.winogradTile(for: single, pass: pass), "16 tiles stay direct")
                single.h = 28; single.w = 28
                XCTAssertEqual(ConvAlgorithm.winogradTile(for: single, pass: pass), .f4, "49 tiles take Winograd")
            }
        }
        // Prepared filters (inference): from 16 tiles and 8 channels; F(2,3) where only it has
        // 16 tiles and both sides have 64 channels; only the forward pass has prepared filters.
        withMode(.auto) {
            func single(_ cin: Int, _ cout: Int, _ side: Int) -> ConvShape {
                var s = conv(cin, cout, side)
                s.n = 1
                return s
            }
            func prepared(_ s: ConvShape) -> WinogradKernels.Tile? {
                ConvAlgorithm.winogradTile(for: s, pass: .forward, filtersPrepared: true)
            }
            XCTAssertEqual(prepared(single(640, 640, 14)), .f4)
            XCTAssertEqual(prepared(single(320, 640, 14)), .f4)
            XCTAssertNil(ConvAlgorithm.winogradTile(for: single(640, 640, 14), pass: .forward), "per call: 16 tiles stay direct")
            XCTAssertEqual(prepared(single(128, 128, 16)), .f4, "16 tiles")
            XCTAssertEqual(prepared(single(32, 32, 64)), .f4)
            XCTAssertEqual(prepared(single(8, 32, 64)), .f4)
            XCTAssertNil(prepared(single(4, 32, 64)), "4 channels")
            XCTAssertEqual(prepared(single(256, 256, 8)), .f2, "4 tiles of F(4,3), 16 of F(2,3)")
            XCTAssertEqual(prepared(single(128, 128, 7)), .f2)
            XCTAssertNil(prepared(single(32, 64, 8)), "16 tiles of F(2,3) but 32 channels")
            XCTAssertNil(prepared(single(128, 128, 6)), "9 tiles of F(2,3)")
            XCTAssertEqual(prepared(conv(640, 640, 14)), .f4, "a batch of 16: 256 tiles")
            for pass in [ConvAlgorithm.Pass.backwardData, .backwardWeight] {
                XCTAssertNil(ConvAlgorithm.winogradTile(for: single(640, 640, 14), pass: pass, filtersPrepared: true))
            }
        }
        withMode(.winograd) {
            XCTAssertEqual(ConvAlgorithm.winogradTile(for: conv(2, 64, 112), pass: .forward), .f4)
            XCTAssertEqual(ConvAlgorithm.winogradTile(for: conv(2, 64, 112), pass: .forward, filtersPrepared: true), .f4)
        }
        withMode(.direct) {
            XCTAssertNil(ConvAlgorithm.winogradTile(for: conv(64, 64, 56), pass: .forward))
        }
    }

    func testUnsupportedShapesStayDirect() {
        let base = ConvShape(n: 2, cin: 64, h: 16, w: 16, cout: 64, kh: 3, kw: 3, padH: 1, padW: 1)
        var strided = base; strided.strideH = 2; strided.strideW = 2
        var dilated = base; dilated.dilH = 2; dilated.dilW = 2
        var grouped = base; grouped.groups = 2
        var fiveByFive = base; fiveByFive.kh = 5; fiveByFive.kw = 5
        withMode(.winograd) {
            XCTAssertNotNil(ConvAlgorithm.winogradTile(for: base, pass: .forward))
            for s in [strided, dilated, grouped, fiveByFive] {
                XCTAssertFalse(WinogradKernels.supports(s))
                for pass in ConvAlgorithm.Pass.allCases { XCTAssertNil(ConvAlgorithm.winogradTile(for: s, pass: pass)) }
            }
        }
    }
}
