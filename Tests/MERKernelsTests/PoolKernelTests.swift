import MERTestSupport
import XCTest
import MERKernels

// Array-level wrappers; outputs start as NaN so reading them (accumulating) would show.
private func maxForward(_ s: PoolShape, _ x: [Float]) -> ([Float], [Int32]) {
    var y = [Float](repeating: .nan, count: s.n * s.c * s.hout * s.wout)
    var idx = [Int32](repeating: -7, count: y.count)
    PoolKernels.maxForward(s, input: x, output: &y, indices: &idx)
    return (y, idx)
}
private func maxBackward(_ s: PoolShape, _ gy: [Float], _ idx: [Int32]) -> [Float] {
    var gx = [Float](repeating: .nan, count: s.n * s.c * s.h * s.w)
    PoolKernels.maxBackward(s, gradOutput: gy, indices: idx, gradInput: &gx)
    return gx
}
private func avgForward(_ s: PoolShape, _ include: Bool, _ x: [Float]) -> [Float] {
    var y = [Float](repeating: .nan, count: s.n * s.c * s.hout * s.wout)
    PoolKernels.avgForward(s, countIncludePad: include, input: x, output: &y)
    return y
}
private func avgBackward(_ s: PoolShape, _ include: Bool, _ gy: [Float]) -> [Float] {
    var gx = [Float](repeating: .nan, count: s.n * s.c * s.h * s.w)
    PoolKernels.avgBackward(s, countIncludePad: include, gradOutput: gy, gradInput: &gx)
    return gx
}

/// An adaptive-pool geometry (n, c, h, w) → (oh, ow).
private struct Adaptive { var n, c, h, w, oh, ow: Int
    var inCount: Int { n * c * h * w }
    var outCount: Int { n * c * oh * ow }
}
private func adaptiveAvg(_ a: Adaptive, _ x: [Float]) -> [Float] {
    var y = [Float](repeating: .nan, count: a.outCount)
    AdaptivePoolKernels.avgForward(n: a.n, c: a.c, h: a.h, w: a.w, oh: a.oh, ow: a.ow, input: x, output: &y)
    return y
}
private func adaptiveAvgBackward(_ a: Adaptive, _ gy: [Float]) -> [Float] {
    var gx = [Float](repeating: .nan, count: a.inCount)
    AdaptivePoolKernels.avgBackward(n: a.n, c: a.c, h: a.h, w: a.w, oh: a.oh, ow: a.ow, gradOutput: gy, gradInput: &gx)
    return gx
}
private func adaptiveMax(_ a: Adaptive, _ x: [Float]) -> ([Float], [Int32]) {
    var y = [Float](repeating: .nan, count: a.outCount), idx = [Int32](repeating: -7, count: a.outCount)
    AdaptivePoolKernels.maxForward(n: a.n, c: a.c, h: a.h, w: a.w, oh: a.oh, ow: a.ow, input: x, output: &y, indices: &idx)
    return (y, idx)
}
private func adaptiveMaxBackward(_ a: Adaptive, _ gy: [Float], _ idx: [Int32]) -> [Float] {
    var gx = [Float](repeating: .nan, count: a.inCount)
    AdaptivePoolKernels.maxBackward(n: a.n, c: a.c, h: a.h, w: a.w, oh: a.oh, ow: a.ow, gradOutput: gy,
                                    indices: idx, gradInput: &gx)
    return gx
}

final class PoolKernelTests: XCTestCase {
    // MARK: Vectorised forwards against the plain references

    /// maxForward / avgForward (16 outputs at a time where the windows fit, the last block
    /// overlapping the one before, or on a staged copy of planes too narrow for that) and
    /// avgBackward (16 input pixels at a time gathering their windows' terms) give the same bits as the per-output references, indices included, on random geometries: strides 1–3 (3
    /// runs only the reference path), padding, ceil mode, widths around the 16-lane blocks,
    /// ties (values from a small set) and NaNs.
    func testVectorisedForwardsMatchTheReferences() {
        var rng = SplitMix64(seed: 11)
        var blocks = 0, staged = 0, tails = 0
        for case_ in 0..<300 {
            let kh = Int.random(in: 1...4, using: &rng), kw = Int.random(in: 1...4, using: &rng)
            let sh = Int.random(in: 1...3, using: &rng), sw = [1, 2, 2, 1, 3].randomElement(using: &rng)!
            let ph = Int.random(in: 0...(kh / 2), using: &rng), pw = Int.random(in: 0...(kw / 2), using: &rng)
            let h = Int.random(in: kh...20, using: &rng), w = Int.random(in: kw...90, using: &rng)
            let s = PoolShape(n: Int.random(in: 1...2, using: &rng), c: Int.random(in: 1...3, using: &rng), h: h, w: w,
                              kh: kh, kw: kw, strideH: sh, strideW: sw, padH: ph, padW: pw, ceilMode: Bool.random(using: &rng))
            guard s.problem == nil else { continue }
            let x: [Float] = (0..<(s.n * s.c * h * w)).map { _ in
                let r = Int.random(in: 0..<100, using: &rng)
                return r == 0 ? .nan : Float(r % 7) - 3   // many ties, some NaNs
            }
            let count = s.n * s.c * s.hout * s.wout
            var y = [Float](repeating: 7, count: count), yRef = y
            var idx = [Int32](repeating: -7, count: count), idxRef = idx
            PoolKernels.maxForward(s, input: x, output: &y, indices: &idx)
            PoolKernels.maxForwardReference(s, input: x, output: &yRef, indices: &idxRef)
            XCTAssertEqual(y.map(\.bitPattern), yRef.map(\.bitPattern), "max values, case \(case_) \(s)")
            XCTAssertEqual(idx, idxRef, "max indices, case \(case_) \(s)")
            for include in [true, false] {
                var a = [Float](repeating: 7, count: count), aRef = a
                PoolKernels.avgForward(s, countIncludePad: include, input: x, output: &a)
                PoolKernels.avgForwardReference(s, countIncludePad: include, input: x, output: &aRef)
                XCTAssertEqual(a.map(\.bitPattern), aRef.map(\.bitPattern), "avg, case \(case_) \(s) include \(include)")
                let gy: [Float] = (0..<count).map { _ in Float(Int.random(in: -50...50, using: &rng)) / 7 }
                var gx = [Float](repeating: 7, count: x.count), gxRef = gx
                PoolKernels.avgBackward(s, countIncludePad: include, gradOutput: gy, gradInput: &gx)
                PoolKernels.avgBackwardReference(s, countIncludePad: include, gradOutput: gy, gradInput: &gxRef)
                XCTAssertEqual(gx.map(\.bitPattern), gxRef.map(\.bitPattern), "avg backward, case \(case_) \(s) include \(include)")
            }
            let (first, last) = PoolKernels.simdColumns(s)
            if last - first >= 16 { blocks += 1 }
            if PoolKernels.stagesPlanes(s) { staged += 1 }
            // The forwards then end the row's blocks with one that overlaps the one before.
            if last - first >= 16 && (last - first) % 16 != 0 && !PoolKernels.stagesPlanes(s) { tails += 1 }
        }
        XCTAssertGreaterThan(blocks, 60, "enough cases take the vectorised path")
        XCTAssertGreaterThan(tails, 30, "enough cases end a row with an overlapping tail block")
        XCTAssertGreaterThan(staged, 60, "enough cases take the staged path (narrow planes)")
    }


    // MARK: Max pooling, by hand

    func testMaxPoolHandComputed() {
        // 4×4 input, 2×2 windows, stride 2:
        //   [1 5 | 2 0]    window (0,0) {1,5,3,4} → 5 at offset 1    window (0,1) {2,0,8,7} → 8 at 6
        //   [3 4 | 8 7]
        //   [9 6 | 1 1]    window (1,0) {9,6,2,3} → 9 at 8           window (1,1) {1,1,4,0} → 4 at 14
        //   [2 3 | 4 0]
        let s = PoolShape(n: 1, c: 1, h: 4, w: 4, kh: 2, kw: 2, strideH: 2, strideW: 2)
        let x: [Float] = [1, 5, 2, 0, 3, 4, 8, 7, 9, 6, 1, 1, 2, 3, 4, 0]
        let (y, idx) = maxForward(s, x)
        XCTAssertEqual(y, [5, 8, 9, 4])
        XCTAssertEqual(idx, [1, 6, 8, 14])
        XCTAssertEqual(maxBackward(s, [1, 2, 3, 4], idx), [0, 1, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0, 0, 4, 0])
    }

    func testMaxPoolPaddingIsMinusInfinityAndOverlapsAdd() {
        // 3×3 input −1…−9, 3×3 windows, stride 2, padding 1 → 2×2; padding must never win:
        //   (0,0) {−1,−2,−4,−5} → −1 at 0   (0,1) {−2,−3,−5,−6} → −2 at 1
        //   (1,0) {−4,−5,−7,−8} → −4 at 3   (1,1) {−5,−6,−8,−9} → −5 at 4
        let s = PoolShape(n: 1, c: 1, h: 3, w: 3, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1)
        let (y, idx) = maxForward(s, (1...9).map { -Float($0) })
        XCTAssertEqual(y, [-1, -2, -4, -5])
        XCTAssertEqual(idx, [0, 1, 3, 4])
        // Stride 1 on 1…9: the nine windows pick 5,6,6 / 8,9,9 / 8,9,9, so with dOut = 1 the
        // gradient is 1 at offset 4, 2 at 5, 2 at 7 and 4 at 8 (overlapping windows add).
        let s1 = PoolShape(n: 1, c: 1, h: 3, w: 3, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1)
        let (y1, idx1) = maxForward(s1, (1...9).map { Float($0) })
        XCTAssertEqual(y1, [5, 6, 6, 8, 9, 9, 8, 9, 9])
        XCTAssertEqual(maxBackward(s1, [Float](repeating: 1, count: 9), idx1), [0, 0, 0, 0, 1, 2, 0, 2, 4])
    }

    func testMaxPoolTiesNaNAndInfinity() {
        let s = PoolShape(n: 4, c: 1, h: 2, w: 2, kh: 2, kw: 2, strideH: 2, strideW: 2)
        let x: [Float] = [3, 3, 3, 3,                    // tie: first position
                          1, .nan, 5, 2,                 // NaN wins over larger numbers
                          .nan, 7, .nan, 2,              // a later NaN replaces an earlier one (PyTorch)
                          -.infinity, -.infinity, -.infinity, -.infinity]
        let (y, idx) = maxForward(s, x)
        XCTAssertEqual(y[0], 3); XCTAssertTrue(y[1].isNaN); XCTAssertTrue(y[2].isNaN); XCTAssertEqual(y[3], -.infinity)
        XCTAssertEqual(idx, [0, 1, 2, 0])
    }

    func testMaxBackwardIgnoresOutOfRangeIndices() {
        let s = PoolShape(n: 1, c: 1, h: 2, w: 2, kh: 2, kw: 2, strideH: 2, strideW: 2)
        XCTAssertEqual(maxBackward(s, [5], [-1]), [0, 0, 0, 0])
        XCTAssertEqual(maxBackward(s, [5], [4]), [0, 0, 0, 0])
    }

    // MARK: Average pooling, by hand

    func testAvgPoolCountIncludePadAtBorder() {
        // 3×3 input 1…9, 2×2 windows, stride 2, padding 1 → 2×2. Real pixels per window and sums:
        //   (0,0) {1} = 1        (0,1) {2,3} = 5       (1,0) {4,7} = 11      (1,1) {5,6,8,9} = 28
        // count_include_pad: always /4 → 0.25 1.25 2.75 7;  otherwise /1 /2 /2 /4 → 1 2.5 5.5 7
        let s = PoolShape(n: 1, c: 1, h: 3, w: 3, kh: 2, kw: 2, strideH: 2, strideW: 2, padH: 1, padW: 1)
        let x = (1...9).map { Float($0) }
        XCTAssertEqual(avgForward(s, true, x), [0.25, 1.25, 2.75, 7])
        XCTAssertEqual(avgForward(s, false, x), [1, 2.5, 5.5, 7])
        // Backward with dOut = 4: each pixel gets 4/divisor of its (single) window.
        XCTAssertEqual(avgBackward(s, true, [4, 4, 4, 4]), [Float](repeating: 1, count: 9))
        XCTAssertEqual(avgBackward(s, false, [4, 4, 4, 4]), [4, 2, 2, 2, 1, 1, 2, 1, 1])
    }

    func testAvgPoolCeilModeClipsToPaddedInput() {
        // Row [1 2 3 4], kernel 1×3, stride 2, padding (0,1), ceil mode: wout = ceil(3/2) + 1 = 3.
        //   window 0: cols −1…1  → padded area 3, real {1,2}   → 3/3 = 1   or 3/2 = 1.5
        //   window 1: cols 1…3   → area 3, real {2,3,4}        → 9/3 = 3   or 9/3 = 3
        //   window 2: cols 3…5, clipped to the padded input 3…4 → area 2, real {4} → 4/2 = 2 or 4/1 = 4
        let s = PoolShape(n: 1, c: 1, h: 1, w: 4, kh: 1, kw: 3, strideH: 1, strideW: 2, padH: 0, padW: 1, ceilMode: true)
        XCTAssertNil(s.problem)
        XCTAssertEqual(s.wout, 3)
        XCTAssertEqual(avgForward(s, true, [1, 2, 3, 4]), [1, 3, 2])
        XCTAssertEqual(avgForward(s, false, [1, 2, 3, 4]), [1.5, 3, 4])
    }

    // MARK: Adaptive pooling, by hand

    func testAdaptivePool5To3Windows() {
        // 5 → 3: windows [0,2), [1,4), [3,5) (they overlap).
        let a = Adaptive(n: 1, c: 1, h: 1, w: 5, oh: 1, ow: 3)
        let x: [Float] = [1, 2, 3, 4, 5]
        XCTAssertEqual(adaptiveAvg(a, x), [1.5, 3, 4.5])
        let (y, idx) = adaptiveMax(a, x)
        XCTAssertEqual(y, [2, 4, 5])
        XCTAssertEqual(idx, [1, 3, 4])
        // Overlaps add: pixel 1 is in windows 0 and 1, pixel 3 in windows 1 and 2.
        XCTAssertEqual(adaptiveAvgBackward(a, [6, 6, 6]), [3, 5, 2, 5, 3])
        XCTAssertEqual(adaptiveMaxBackward(a, [1, 2, 3], idx), [0, 1, 0, 2, 3])
        // Same along the other axis.
        let t = Adaptive(n: 1, c: 1, h: 5, w: 1, oh: 3, ow: 1)
        XCTAssertEqual(adaptiveAvg(t, x), [1.5, 3, 4.5])
    }

    // MARK: Oracle and threads

    /// Written from the padded-window definition, independently of the kernels' clipping arithmetic.
    private func naivePool(_ s: PoolShape, _ x: [Float], max isMax: Bool, include: Bool) -> [Float] {
        var y: [Float] = []
        for plane in 0..<(s.n * s.c) {
            for oy in 0..<s.hout {
                for ox in 0..<s.wout {
                    var best = -Float.infinity, sum: Float = 0, padded = 0, real = 0
                    for dy in 0..<s.kh {
                        for dx in 0..<s.kw {
                            let iy = oy * s.strideH - s.padH + dy, ix = ox * s.strideW - s.padW + dx
                            if iy >= s.h + s.padH || ix >= s.w + s.padW { continue }   // beyond the padding
                            padded += 1
                            if iy < 0 || ix < 0 || iy >= s.h || ix >= s.w { continue }
                            real += 1
                            let v = x[plane * s.h * s.w + iy * s.w + ix]
                            sum += v
                            if v > best { best = v }
                        }
                    }
                    y.append(isMax ? best : sum / Float(include ? padded : real))
                }
            }
        }
        return y
    }

    func testRandomShapesMatchOracleAndAreThreadIndependent() {
        var rng = SplitMix64(seed: 11)
        var checked = 0
        while checked < 60 {
            let kh = rng.int(1...4), kw = rng.int(1...4)
            let s = PoolShape(n: rng.pick([1, 3]), c: rng.int(1...3), h: rng.int(1...9), w: rng.int(1...9),
                              kh: kh, kw: kw, strideH: rng.int(1...3), strideW: rng.int(1...3),
                              padH: rng.int(0...(kh / 2)), padW: rng.int(0...(kw / 2)), ceilMode: rng.int(0...1) == 1)
            if s.problem != nil { continue }
            checked += 1
            let x = rng.array(s.n * s.c * s.h * s.w), gy = rng.array(s.n * s.c * s.hout * s.wout)
            let tag = "\(s)"
            let (y1, i1) = withThreads(1) { maxForward(s, x) }
            let (y2, i2) = withThreads(2) { maxForward(s, x) }
            XCTAssertEqual(y1, naivePool(s, x, max: true, include: false), tag)
            assertBitIdentical(y1, y2, tag); XCTAssertEqual(i1, i2, tag)
            for (j, at) in i1.enumerated() { XCTAssertEqual(x[j / (s.hout * s.wout) * s.h * s.w + Int(at)], y1[j], tag) }
            assertBitIdentical(withThreads(1) { maxBackward(s, gy, i1) }, withThreads(2) { maxBackward(s, gy, i1) }, tag)
            for include in [true, false] {
                let a1 = withThreads(1) { avgForward(s, include, x) }
                assertClose(a1, naivePool(s, x, max: false, include: include), tol: 1e-6, tag)
                assertBitIdentical(a1, withThreads(2) { avgForward(s, include, x) }, tag)
                assertBitIdentical(withThreads(1) { avgBackward(s, include, gy) },
                                   withThreads(2) { avgBackward(s, include, gy) }, tag)
            }
        }
    }

    // MARK: Finite differences

    func testPoolGradientsMatchFiniteDifferences() {
        let shapes = [
            PoolShape(n: 2, c: 3, h: 7, w: 6, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1),
            PoolShape(n: 1, c: 2, h: 5, w: 5, kh: 2, kw: 2, strideH: 2, strideW: 2, ceilMode: true),
            PoolShape(n: 1, c: 2, h: 6, w: 7, kh: 3, kw: 2, strideH: 1, strideW: 2, padH: 1, padW: 1, ceilMode: true),
            PoolShape(n: 3, c: 1, h: 4, w: 9, kh: 2, kw: 4, strideH: 1, strideW: 3, padH: 1, padW: 2),
            // Horizontal stride 1, where average pooling's backward gathers (Pool2dAvgBackward):
            // the Inception block's 3×3 / 1 / 1, and rows wider than one 16-pixel block with a
            // vertical stride 2 and ceil mode.
            PoolShape(n: 1, c: 2, h: 15, w: 15, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1),
            PoolShape(n: 1, c: 2, h: 7, w: 20, kh: 3, kw: 3, strideH: 2, strideW: 1, padH: 1, padW: 1, ceilMode: true),
        ]
        var rng = SplitMix64(seed: 21)
        for s in shapes {
            XCTAssertNil(s.problem)
            let tag = "\(s)"
            let r = rng.array(s.n * s.c * s.hout * s.wout)
            // Max: distinct, 0.1-spaced inputs, so a ±1e-2 nudge never changes an argmax.
            let xm = rng.distinct(s.n * s.c * s.h * s.w)
            let (_, idx) = maxForward(s, xm)
            assertGradClose(maxBackward(s, r, idx), numericGradient(xm) { weightedSum(maxForward(s, $0).0, r) }, "max \(tag)")
            let xa = rng.array(s.n * s.c * s.h * s.w)
            for include in [true, false] {
                assertGradClose(avgBackward(s, include, r),
                                numericGradient(xa) { weightedSum(avgForward(s, include, $0), r) }, "avg \(include) \(tag)")
            }
        }
    }

    func testAdaptiveGradientsMatchFiniteDifferences() {
        let shapes = [Adaptive(n: 2, c: 2, h: 7, w: 5, oh: 3, ow: 4),
                      Adaptive(n: 1, c: 3, h: 3, w: 4, oh: 5, ow: 2),     // upsampling rows
                      Adaptive(n: 1, c: 1, h: 6, w: 6, oh: 1, ow: 1)]     // global pooling
        var rng = SplitMix64(seed: 31)
        for a in shapes {
            let tag = "\(a)"
            let r = rng.array(a.outCount)
            let xa = rng.array(a.inCount)
            assertGradClose(adaptiveAvgBackward(a, r), numericGradient(xa) { weightedSum(adaptiveAvg(a, $0), r) }, "avg \(tag)")
            let xm = rng.distinct(a.inCount)
            let (_, idx) = adaptiveMax(a, xm)
            assertGradClose(adaptiveMaxBackward(a, r, idx), numericGradient(xm) { weightedSum(adaptiveMax(a, $0).0, r) },
                            "max \(tag)")
            assertBitIdentical(withThreads(1) { adaptiveAvg(a, xa) }, withThreads(2) { adaptiveAvg(a, xa) }, tag)
        }
    }

    func testEmptyBatchIsANoOp() {
        let s = PoolShape(n: 0, c: 2, h: 4, w: 4, kh: 2, kw: 2, strideH: 2, strideW: 2)
        XCTAssertNil(s.problem)
        var y: [Float] = [42], idx: [Int32] = [42]
        PoolKernels.maxForward(s, input: [0], output: &y, indices: &idx)
        PoolKernels.maxBackward(s, gradOutput: [0], indices: [0], gradInput: &y)
        PoolKernels.avgForward(s, countIncludePad: true, input: [0], output: &y)
        PoolKernels.avgBackward(s, countIncludePad: false, gradOutput: [0], gradInput: &y)
        AdaptivePoolKernels.avgForward(n: 0, c: 2, h: 4, w: 4, oh: 2, ow: 2, input: [0], output: &y)
        AdaptivePoolKernels.avgBackward(n: 0, c: 2, h: 4, w: 4, oh: 2, ow: 2, gradOutput: [0], gradInput: &y)
        AdaptivePoolKernels.maxForward(n: 0, c: 2, h: 4, w: 4, oh: 2, ow: 2, input: [0], output: &y, indices: &idx)
        AdaptivePoolKernels.maxBackward(n: 0, c: 2, h: 4, w: 4, oh: 2, ow: 2, gradOutput: [0], indices: [0], gradInput: &y)
        XCTAssertEqual(y, [42]); XCTAssertEqual(idx, [42])
    }
}
