import MERTestSupport
import XCTest
import MERKernels

/// Array-level wrappers: outputs start as NaN so a kernel that reads (accumulates into) its output fails.
private func withOptional<R>(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let a else { return body(nil) }
    return a.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func outCount(_ s: ConvShape) -> Int { s.n * s.cout * s.hout * s.wout }
private func inCount(_ s: ConvShape) -> Int { s.n * s.cin * s.h * s.w }
private func weightCount(_ s: ConvShape) -> Int { s.cout * s.cinPerGroup * s.kh * s.kw }

private func forward(_ s: ConvShape, _ x: [Float], _ w: [Float], _ b: [Float]?, reference: Bool = false) -> [Float] {
    var y = [Float](repeating: .nan, count: outCount(s))
    withOptional(b) { bp in
        y.withUnsafeMutableBufferPointer { yp in
            if reference {
                ConvKernels.forwardReference(s, input: x, weight: w, bias: bp, output: yp.baseAddress!)
            } else {
                ConvKernels.forward(s, input: x, weight: w, bias: bp, output: yp.baseAddress!)
            }
        }
    }
    return y
}

private func backwardData(_ s: ConvShape, _ gy: [Float], _ w: [Float], reference: Bool = false) -> [Float] {
    var gx = [Float](repeating: .nan, count: inCount(s))
    gx.withUnsafeMutableBufferPointer { p in
        if reference {
            ConvKernels.backwardDataReference(s, gradOutput: gy, weight: w, gradInput: p.baseAddress!)
        } else {
            ConvKernels.backwardData(s, gradOutput: gy, weight: w, gradInput: p.baseAddress!)
        }
    }
    return gx
}

private func backwardWeight(_ s: ConvShape, _ x: [Float], _ gy: [Float], reference: Bool = false) -> ([Float], [Float]) {
    var gw = [Float](repeating: .nan, count: weightCount(s))
    var gb = [Float](repeating: .nan, count: s.cout)
    gw.withUnsafeMutableBufferPointer { wp in
        gb.withUnsafeMutableBufferPointer { bp in
            if reference {
                ConvKernels.backwardWeightReference(s, input: x, gradOutput: gy, gradWeight: wp.baseAddress!,
                                                    gradBias: bp.baseAddress!)
            } else {
                ConvKernels.backwardWeight(s, input: x, gradOutput: gy, gradWeight: wp.baseAddress!,
                                           gradBias: bp.baseAddress!)
            }
        }
    }
    return (gw, gb)
}

private func describe(_ s: ConvShape) -> String {
    "n\(s.n) cin\(s.cin) \(s.h)x\(s.w) cout\(s.cout) k\(s.kh)x\(s.kw) s\(s.strideH)x\(s.strideW) "
        + "p\(s.padH)x\(s.padW) d\(s.dilH)x\(s.dilW) g\(s.groups)"
}

final class ConvKernelTests: XCTestCase {
    // MARK: Hand-computed cases

    func testHandComputed2x2KernelOn3x3Input() {
        // input 1×1×3×3 = [1 2 3; 4 5 6; 7 8 9], weight 1×1×2×2 = [1 2; 3 4], bias 0.5, output 2×2:
        //   (0,0) = 1·1 + 2·2 + 4·3 + 5·4 = 37     (0,1) = 2·1 + 3·2 + 5·3 + 6·4 = 47
        //   (1,0) = 4·1 + 5·2 + 7·3 + 8·4 = 67     (1,1) = 5·1 + 6·2 + 8·3 + 9·4 = 77
        // With dOut = ones, dIn[p] = Σ of the weights that touch p:
        //   [1, 1+2, 2; 1+3, 1+2+3+4, 2+4; 3, 3+4, 4] = [1 3 2; 4 10 6; 3 7 4]
        // and dW[ky,kx] = Σ of the input under tap (ky,kx) over the 4 windows:
        //   [1+2+4+5, 2+3+5+6; 4+5+7+8, 5+6+8+9] = [12 16; 24 28], dBias = 4.
        let s = ConvShape(n: 1, cin: 1, h: 3, w: 3, cout: 1, kh: 2, kw: 2)
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9], w: [Float] = [1, 2, 3, 4]
        for threads in [1, 2] {
            withThreads(threads) {
                XCTAssertEqual(forward(s, x, w, [0.5]), [37.5, 47.5, 67.5, 77.5])
                XCTAssertEqual(forward(s, x, w, nil), [37, 47, 67, 77])
                XCTAssertEqual(backwardData(s, [1, 1, 1, 1], w), [1, 3, 2, 4, 10, 6, 3, 7, 4])
                let (gw, gb) = backwardWeight(s, x, [1, 1, 1, 1])
                XCTAssertEqual(gw, [12, 16, 24, 28])
                XCTAssertEqual(gb, [4])
            }
        }
    }

    func testHandComputedPaddedStride2() {
        // Same input, 2×2 kernel of ones, padding 1, stride 2: hout = (3 + 2 − 1 − 1)/2 + 1 = 2.
        // Windows start at rows/cols −1 and 1:
        //   (0,0) rows −1…0, cols −1…0 → 1          (0,1) rows −1…0, cols 1…2 → 2 + 3 = 5
        //   (1,0) rows 1…2,  cols −1…0 → 4 + 7 = 11  (1,1) rows 1…2, cols 1…2 → 5+6+8+9 = 28
        let s = ConvShape(n: 1, cin: 1, h: 3, w: 3, cout: 1, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 1, padW: 1)
        let x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        XCTAssertEqual(forward(s, x, [1, 1, 1, 1], nil), [1, 5, 11, 28])
        // Each input pixel lies in exactly one window here, so dIn is dOut spread back.
        XCTAssertEqual(backwardData(s, [1, 2, 3, 4], [1, 1, 1, 1]), [1, 2, 2, 3, 4, 4, 3, 4, 4])
    }

    // MARK: Fast vs reference

    static let fixedShapes: [ConvShape] = [
        ConvShape(n: 1, cin: 3, h: 7, w: 9, cout: 4, kh: 3, kw: 3, padH: 1, padW: 1),
        ConvShape(n: 3, cin: 4, h: 9, w: 8, cout: 6, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1, groups: 2),
        ConvShape(n: 3, cin: 4, h: 11, w: 10, cout: 4, kh: 3, kw: 3, padH: 2, padW: 2, dilH: 2, dilW: 2, groups: 4),
        ConvShape(n: 3, cin: 3, h: 9, w: 7, cout: 6, kh: 5, kw: 5, padH: 2, padW: 2, groups: 3),   // depthwise ×2
        ConvShape(n: 1, cin: 3, h: 8, w: 9, cout: 5, kh: 1, kw: 7, padW: 3),
        ConvShape(n: 3, cin: 3, h: 9, w: 6, cout: 2, kh: 7, kw: 1, strideH: 2, padH: 3),
        ConvShape(n: 3, cin: 6, h: 5, w: 7, cout: 4, kh: 1, kw: 1),                                 // pointwise
        ConvShape(n: 1, cin: 4, h: 5, w: 5, cout: 8, kh: 1, kw: 1, groups: 2),                      // pointwise grouped
        ConvShape(n: 1, cin: 2, h: 6, w: 7, cout: 3, kh: 1, kw: 1, strideH: 2, strideW: 2),         // 1×1 strided
        ConvShape(n: 3, cin: 2, h: 9, w: 11, cout: 3, kh: 5, kw: 5, strideH: 2, strideW: 2, padH: 2, padW: 2),
        ConvShape(n: 3, cin: 3, h: 10, w: 10, cout: 4, kh: 3, kw: 3, strideH: 2, strideW: 2, dilH: 2, dilW: 2),
        ConvShape(n: 3, cin: 3, h: 12, w: 11, cout: 4, kh: 3, kw: 5, strideH: 2, strideW: 3,
                  padH: 1, padW: 2, dilH: 2, dilW: 1),
        ConvShape(n: 1, cin: 2, h: 3, w: 4, cout: 2, kh: 5, kw: 5, padH: 3, padW: 3),                // kernel > input
        ConvShape(n: 4, cin: 8, h: 20, w: 19, cout: 12, kh: 3, kw: 3, padH: 1, padW: 1, groups: 2),  // medium
    ]

    static func randomShape(_ rng: inout SplitMix64) -> ConvShape {
        while true {
            let groups = rng.pick([1, 1, 2, 3])
            let cinPG = rng.pick([1, 1, 2, 3]), coutPG = rng.int(1...3)
            let kh = rng.pick([1, 2, 3, 5, 7]), kw = rng.pick([1, 2, 3, 5, 7])
            let s = ConvShape(n: rng.pick([1, 3]), cin: cinPG * groups, h: rng.int(1...12), w: rng.int(1...12),
                              cout: coutPG * groups, kh: kh, kw: kw,
                              strideH: rng.int(1...2), strideW: rng.int(1...2),
                              padH: rng.int(0...(kh / 2 + 1)), padW: rng.int(0...(kw / 2 + 1)),
                              dilH: rng.int(1...2), dilW: rng.int(1...2), groups: groups)
            if s.problem == nil { return s }
        }
    }

    private func checkAgainstReference(_ s: ConvShape, seed: UInt64) {
        XCTAssertNil(s.problem)
        var rng = SplitMix64(seed: seed)
        let x = rng.array(inCount(s)), w = rng.array(weightCount(s)), b = rng.array(s.cout)
        let gy = rng.array(outCount(s))
        let yRef = forward(s, x, w, b, reference: true)
        let gxRef = backwardData(s, gy, w, reference: true)
        let (gwRef, gbRef) = backwardWeight(s, x, gy, reference: true)
        for threads in [1, 2, 3] {
            withThreads(threads) {
                let tag = "\(describe(s)) threads \(threads)"
                let y = forward(s, x, w, b)
                assertClose(y, yRef, tol: 1e-5, "forward \(tag)")
                assertBitIdentical(y, forward(s, x, w, b), "forward rerun \(tag)")
                assertClose(forward(s, x, w, nil), forward(s, x, w, nil, reference: true), tol: 1e-5, "no bias \(tag)")
                let gx = backwardData(s, gy, w)
                assertClose(gx, gxRef, tol: 1e-5, "backwardData \(tag)")
                assertBitIdentical(gx, backwardData(s, gy, w), "backwardData rerun \(tag)")
                let (gw, gb) = backwardWeight(s, x, gy)
                assertClose(gw, gwRef, tol: 1e-5, "backwardWeight \(tag)")
                assertClose(gb, gbRef, tol: 1e-5, "backwardBias \(tag)")
                let (gw2, gb2) = backwardWeight(s, x, gy)
                assertBitIdentical(gw, gw2, "backwardWeight rerun \(tag)")
                assertBitIdentical(gb, gb2, "backwardBias rerun \(tag)")
            }
        }
    }

    func testFastMatchesReferenceOnFixedShapes() {
        for (i, s) in Self.fixedShapes.enumerated() { checkAgainstReference(s, seed: UInt64(100 + i)) }
    }

    /// Shapes big enough for the implicit-lowering block structure: forward K = 75·9 = 675
    /// splits into two K blocks (the second starts mid-channel, at channel 37 tap 5) and
    /// P = 667 spans several 384-column B blocks with a partial last panel; backwardWeight's
    /// reduction over P splits into two blocks starting mid-row, and channels = 75 make B
    /// panels straddle taps. The second shape has 32 channels per group (the contiguous
    /// channel-last fast path) with dilation; the third is a valid (unpadded) stride-1 conv,
    /// which must take the explicit im2col path (wout ≠ w).
    func testImplicitLoweringPathsMatchReference() {
        let shapes = [
            ConvShape(n: 2, cin: 75, h: 23, w: 29, cout: 13, kh: 3, kw: 3, padH: 1, padW: 1),
            ConvShape(n: 3, cin: 64, h: 9, w: 13, cout: 8, kh: 3, kw: 3, padH: 2, padW: 2,
                      dilH: 2, dilW: 2, groups: 2),
            ConvShape(n: 3, cin: 40, h: 12, w: 30, cout: 14, kh: 3, kw: 5),
        ]
        for (i, s) in shapes.enumerated() { checkAgainstReference(s, seed: UInt64(300 + i)) }
    }

    /// Pointwise convolutions of small images put several images side by side in one product
    /// (`ConvLowering.pointwiseStack`); each output element still sees the same K blocks, so
    /// forward and backwardData must equal the one-image products bit for bit. Images of 16
    /// pixels (element-wise packing), 35 and 49 (panels straddling two images, blended loads),
    /// 225; batches that leave a partial last stack; 1 and 2 threads.
    func testStackedPointwiseProductsMatchOneImageProducts() {
        var rng = SplitMix64(seed: 77)
        var stacked = 0
        for (h, w) in [(4, 4), (5, 7), (7, 7), (15, 15)] {
            for n in [5, 9, 17] {
                let s = ConvShape(n: n, cin: 70, h: h, w: w, cout: 37, kh: 1, kw: 1)
                let one = ConvShape(n: 1, cin: 70, h: h, w: w, cout: 37, kh: 1, kw: 1)
                let x = rng.array(inCount(s)), wt = rng.array(weightCount(s)), b = rng.array(s.cout)
                let gy = rng.array(outCount(s))
                for threads in [1, 2] {
                    withThreads(threads) {
                        if ConvKernels.pointwiseStack(s) > 1 { stacked += 1 }
                        var y: [Float] = [], gx: [Float] = []
                        for i in 0..<n {
                            let xi = Array(x[(i * inCount(one))..<((i + 1) * inCount(one))])
                            let gyi = Array(gy[(i * outCount(one))..<((i + 1) * outCount(one))])
                            y += forward(one, xi, wt, b)
                            gx += backwardData(one, gyi, wt)
                        }
                        let tag = "\(describe(s)) threads \(threads)"
                        assertBitIdentical(forward(s, x, wt, b), y, "forward \(tag)")
                        assertBitIdentical(backwardData(s, gy, wt), gx, "backwardData \(tag)")
                        assertClose(y, forward(s, x, wt, b, reference: true), tol: 1e-5, "forward vs reference \(tag)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(stacked, 15, "the stacked path ran")
    }

    /// Few taps per output (cin·kh·kw ≤ 64, stride 1, not 1×1: DBFEM's first layer on the
    /// 2-channel input) take `narrowForward`, which must give the GEMM path's bits: with and without
    /// bias, with a BN + residual + activation epilogue, rows of 1–2 blocks with partial last
    /// blocks, channel counts off the 8-channel groups, batches of 1 and 3, 1 and 2 threads.
    func testNarrowInputPathMatchesTheGemmPathBitForBit() {
        var rng = SplitMix64(seed: 91)
        let shapes = [
            ConvShape(n: 1, cin: 2, h: 64, w: 64, cout: 32, kh: 3, kw: 3, padH: 1, padW: 1),
            ConvShape(n: 1, cin: 2, h: 16, w: 64, cout: 32, kh: 1, kw: 3, padH: 0, padW: 1),
            ConvShape(n: 3, cin: 1, h: 9, w: 17, cout: 13, kh: 5, kw: 5, padH: 2, padW: 1),
            ConvShape(n: 1, cin: 4, h: 7, w: 5, cout: 3, kh: 3, kw: 3, padH: 2, padW: 2),
            ConvShape(n: 3, cin: 3, h: 11, w: 33, cout: 20, kh: 2, kw: 3, padH: 0, padW: 1),
            ConvShape(n: 1, cin: 1, h: 6, w: 40, cout: 9, kh: 7, kw: 7, padH: 3, padW: 3),
            ConvShape(n: 2, cin: 2, h: 8, w: 8, cout: 4, kh: 1, kw: 1),
        ]
        XCTAssertFalse(ConvKernels.takesNarrowPath(shapes.last!), "1×1 stays on GEMM")
        for s in shapes.dropLast() {
            XCTAssertTrue(ConvKernels.takesNarrowPath(s), describe(s))
            let x = rng.array(inCount(s)), wt = rng.array(weightCount(s)), b = rng.array(s.cout)
            XCTAssertEqual(ConvPreparedWeights.bytes(for: s), 0, "the few-tap path prepares nothing: \(describe(s))")
            XCTAssertNil(ConvPreparedWeights.prepare(s, weight: wt))
            let center = rng.array(s.cout), scale = rng.array(s.cout), shift = rng.array(s.cout)
            let residual = rng.array(outCount(s))
            func withEpilogue(_ narrow: Bool) -> [Float] {
                ConvKernels.narrowInputKernel = narrow
                defer { ConvKernels.narrowInputKernel = true }
                var y = [Float](repeating: .nan, count: outCount(s))
                let e = ConvEpilogue(center: center, scale: scale, shift: shift, residual: residual, activation: .leakyRelu(0.1))
                ConvKernels.forward(s, input: x, weight: wt, bias: nil, output: &y, epilogue: e)
                return y
            }
            func plain(_ narrow: Bool, bias: [Float]?) -> [Float] {
                ConvKernels.narrowInputKernel = narrow
                defer { ConvKernels.narrowInputKernel = true }
                return forward(s, x, wt, bias)
            }
            for threads in [1, 2] {
                withThreads(threads) {
                    let tag = "\(describe(s)) threads \(threads)"
                    assertBitIdentical(plain(true, bias: b), plain(false, bias: b), "with bias \(tag)")
                    assertBitIdentical(plain(true, bias: nil), plain(false, bias: nil), "without bias \(tag)")
                    assertBitIdentical(withEpilogue(true), withEpilogue(false), "with an epilogue \(tag)")
                    assertClose(plain(true, bias: b), forward(s, x, wt, b, reference: true), tol: 1e-5, "vs reference \(tag)")
                }
            }
        }
    }

    func testFastMatchesReferenceOnRandomShapes() {
        var rng = SplitMix64(seed: 7)
        for i in 0..<40 { checkAgainstReference(Self.randomShape(&rng), seed: UInt64(1000 + i)) }
    }

    // MARK: Finite differences

    /// L = Σ r ⊙ conv(x, W, b): dL/dx, dL/dW, dL/db must match backwardData / backwardWeight with dOut = r.
    private func checkGradients(_ s: ConvShape, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let x = rng.array(inCount(s)), w = rng.array(weightCount(s)), b = rng.array(s.cout)
        let r = rng.array(outCount(s))
        let gx = backwardData(s, r, w)
        let (gw, gb) = backwardWeight(s, x, r)
        let tag = describe(s)
        assertGradClose(gx, numericGradient(x) { weightedSum(forward(s, $0, w, b), r) }, "dx \(tag)")
        assertGradClose(gw, numericGradient(w) { weightedSum(forward(s, x, $0, b), r) }, "dW \(tag)")
        assertGradClose(gb, numericGradient(b) { weightedSum(forward(s, x, w, $0), r) }, "db \(tag)")
    }

    func testGradientsMatchFiniteDifferences() {
        let shapes = [
            ConvShape(n: 2, cin: 4, h: 7, w: 6, cout: 4, kh: 3, kw: 3, strideH: 2, strideW: 2,
                      padH: 2, padW: 1, dilH: 2, dilW: 2, groups: 2),
            ConvShape(n: 1, cin: 3, h: 6, w: 8, cout: 3, kh: 3, kw: 3, strideH: 1, strideW: 2,
                      padH: 1, padW: 1, groups: 3),
            ConvShape(n: 3, cin: 2, h: 5, w: 5, cout: 3, kh: 1, kw: 1),
            ConvShape(n: 2, cin: 2, h: 5, w: 9, cout: 2, kh: 1, kw: 7, padW: 3),
        ]
        for threads in [1, 2] {
            withThreads(threads) {
                for (i, s) in shapes.enumerated() { checkGradients(s, seed: UInt64(500 + i)) }
            }
        }
    }

    // MARK: Structure

    /// col2im is the adjoint of im2col: ⟨col2im(C), X⟩ = ⟨C, im2col(X)⟩ for any X, C.
    func testCol2imIsAdjointOfIm2col() {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20 {
            let s = Self.randomShape(&rng)
            let rows = s.cinPerGroup * s.kh * s.kw, p = s.hout * s.wout
            let x = rng.array(s.cinPerGroup * s.h * s.w), c = rng.array(rows * p)
            var cols = [Float](repeating: .nan, count: rows * p)
            var img = [Float](repeating: .nan, count: x.count)
            ConvKernels.im2col(s, image: x, channels: s.cinPerGroup, cols: &cols)
            ConvKernels.col2im(s, cols: c, channels: s.cinPerGroup, image: &img, threads: 2)
            let lhs = weightedSum(img, x), rhs = weightedSum(c, cols)
            XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(rhs)), describe(s))
        }
    }

    func testEmptyBatchIsANoOp() {
        let s = ConvShape(n: 0, cin: 2, h: 4, w: 4, cout: 2, kh: 3, kw: 3, padH: 1, padW: 1)
        XCTAssertNil(s.problem)
        let w = [Float](repeating: 1, count: weightCount(s))
        var sentinel: [Float] = [42]
        ConvKernels.forward(s, input: [0], weight: w, bias: nil, output: &sentinel)
        ConvKernels.backwardData(s, gradOutput: [0], weight: w, gradInput: &sentinel)
        XCTAssertEqual(sentinel, [42])
        // Gradients of parameters over an empty batch are zero (they are still overwritten).
        var gw = [Float](repeating: .nan, count: w.count), gb: [Float] = [.nan, .nan]
        ConvKernels.backwardWeight(s, input: [0], gradOutput: [0], gradWeight: &gw, gradBias: &gb)
        XCTAssertEqual(gw, [Float](repeating: 0, count: w.count))
        XCTAssertEqual(gb, [0, 0])
    }
}
