import MERTestSupport
import XCTest
import MERKernels

/// Everything one training-mode forward + backward produces, gathered as arrays.
private struct TrainResult {
    var y, mean, invStd, runningMean, runningVar: [Float]
}

private func forwardTrain(n: Int, c: Int, hw: Int, _ x: [Float], gamma: [Float]?, beta: [Float]?, eps: Float = 1e-5,
                          momentum: Float = 0.1, running: ([Float], [Float])? = nil) -> TrainResult {
    var r = TrainResult(y: [Float](repeating: .nan, count: x.count), mean: [Float](repeating: .nan, count: c),
                        invStd: [Float](repeating: .nan, count: c),
                        runningMean: running?.0 ?? [], runningVar: running?.1 ?? [])
    let g = gamma ?? [], b = beta ?? []
    g.withUnsafeBufferPointer { gp in
        b.withUnsafeBufferPointer { bp in
            r.runningMean.withUnsafeMutableBufferPointer { rm in
                r.runningVar.withUnsafeMutableBufferPointer { rv in
                    BatchNormKernels.forwardTrain(n: n, c: c, hw: hw, input: x,
                                                  gamma: gamma == nil ? nil : gp.baseAddress,
                                                  beta: beta == nil ? nil : bp.baseAddress, eps: eps, momentum: momentum,
                                                  runningMean: running == nil ? nil : rm.baseAddress,
                                                  runningVar: running == nil ? nil : rv.baseAddress,
                                                  output: &r.y, saveMean: &r.mean, saveInvStd: &r.invStd)
                }
            }
        }
    }
    return r
}

private func backwardTrain(n: Int, c: Int, hw: Int, _ x: [Float], _ dy: [Float], gamma: [Float]?,
                           mean: [Float], invStd: [Float]) -> (dx: [Float], dGamma: [Float], dBeta: [Float]) {
    var dx = [Float](repeating: .nan, count: x.count)
    var dg = [Float](repeating: .nan, count: c), db = [Float](repeating: .nan, count: c)
    let g = gamma ?? []
    g.withUnsafeBufferPointer { gp in
        BatchNormKernels.backwardTrain(n: n, c: c, hw: hw, input: x, gradOutput: dy,
                                       gamma: gamma == nil ? nil : gp.baseAddress, saveMean: mean, saveInvStd: invStd,
                                       gradInput: &dx, gradGamma: &dg, gradBeta: &db)
    }
    return (dx, dg, db)
}

private func forwardEval(n: Int, c: Int, hw: Int, _ x: [Float], rm: [Float], rv: [Float], gamma: [Float], beta: [Float],
                         eps: Float) -> [Float] {
    var y = [Float](repeating: .nan, count: x.count)
    BatchNormKernels.forwardEval(n: n, c: c, hw: hw, input: x, runningMean: rm, runningVar: rv,
                                 gamma: gamma, beta: beta, eps: eps, output: &y)
    return y
}

/// Straightforward Double oracle: (y, mean, invStd, unbiased variance).
private func reference(n: Int, c: Int, hw: Int, _ x: [Float], gamma: [Float], beta: [Float], eps: Double)
    -> (y: [Float], mean: [Double], invStd: [Double], unbiased: [Double]) {
    var y = [Float](repeating: 0, count: x.count)
    var means: [Double] = [], invs: [Double] = [], unb: [Double] = []
    let count = Double(n * hw)
    for ch in 0..<c {
        var s = 0.0
        for i in 0..<n { for j in 0..<hw { s += Double(x[(i * c + ch) * hw + j]) } }
        let m = s / count
        var ss = 0.0
        for i in 0..<n { for j in 0..<hw { let d = Double(x[(i * c + ch) * hw + j]) - m; ss += d * d } }
        let inv = 1 / (ss / count + eps).squareRoot()
        for i in 0..<n { for j in 0..<hw {
            let at = (i * c + ch) * hw + j
            y[at] = Float((Double(x[at]) - m) * inv * Double(gamma[ch]) + Double(beta[ch]))
        } }
        means.append(m); invs.append(inv); unb.append(ss / (count - 1))
    }
    return (y, means, invs, unb)
}

final class BatchNormKernelTests: XCTestCase {
    func testHandComputedTrainForwardBackwardAndRunningStats() {
        // x (2,1,1,2) = [1 3 | 5 7]: mean 4, deviations −3 −1 1 3, Σd² = 20, biased var 5,
        // unbiased var 20/3. eps 0 → invStd 1/√5; γ = 2, β = 1 → y = 2(x − 4)/√5 + 1.
        // Running stats from (0, 1), momentum 0.1: mean 0.9·0 + 0.1·4 = 0.4, var 0.9·1 + 0.1·20/3 = 1.5666…
        let x: [Float] = [1, 3, 5, 7]
        let r = forwardTrain(n: 2, c: 1, hw: 2, x, gamma: [2], beta: [1], eps: 0, momentum: 0.1, running: ([0], [1]))
        let root5 = Float(5).squareRoot()
        assertClose(r.y, [-6 / root5 + 1, -2 / root5 + 1, 2 / root5 + 1, 6 / root5 + 1], tol: 1e-6)
        XCTAssertEqual(r.mean, [4])
        XCTAssertEqual(r.invStd[0], 1 / root5, accuracy: 1e-7)
        XCTAssertEqual(r.runningMean[0], 0.4, accuracy: 1e-7)
        XCTAssertEqual(r.runningVar[0], 0.9 + 0.1 * 20 / 3, accuracy: 1e-6)
        // dy = [1 0 0 0]: x̂ = [−3 −1 1 3]/√5, mean(dy) = 1/4, mean(dy·x̂) = −3/(4√5), so
        // dx = (2/√5)(dy − 1/4 + x̂·3/(4√5)) = (2/√5)([1 0 0 0] − 0.25 + [−0.45 −0.15 0.15 0.45])
        //    = (2/√5)[0.3 −0.4 −0.1 0.2];  dγ = Σ dy·x̂ = −3/√5;  dβ = 1.
        let g = backwardTrain(n: 2, c: 1, hw: 2, x, [1, 0, 0, 0], gamma: [2], mean: r.mean, invStd: r.invStd)
        assertClose(g.dx, [0.3, -0.4, -0.1, 0.2].map { 2 / root5 * $0 }, tol: 1e-6)
        XCTAssertEqual(g.dGamma[0], -3 / root5, accuracy: 1e-6)
        XCTAssertEqual(g.dBeta, [1])
        // Eval mode with the batch statistics as running statistics gives the same y.
        assertClose(forwardEval(n: 2, c: 1, hw: 2, x, rm: [4], rv: [5], gamma: [2], beta: [1], eps: 0), r.y, tol: 1e-6)
    }

    func testSingleValuePerChannelUsesBiasedVarianceForRunningVar() {
        // N = 1: the unbiased variance is 0/0; the kernel documents the biased variance (0) instead.
        let r = forwardTrain(n: 1, c: 2, hw: 1, [3, -2], gamma: nil, beta: nil, momentum: 0.5, running: ([0, 0], [1, 1]))
        XCTAssertEqual(r.runningMean, [1.5, -1])
        XCTAssertEqual(r.runningVar, [0.5, 0.5])
        XCTAssertEqual(r.y, [0, 0])
    }

    func testMatchesDoubleReferenceAndIsThreadIndependent() {
        var rng = SplitMix64(seed: 41)
        for (n, c, hw) in [(3, 5, 7), (4, 3, 1), (2, 3, 37), (2, 2, 300), (1, 1, 16), (8, 1, 2)] {
            let x = rng.array(n * c * hw).map { $0 * 3 + 0.5 }
            let gamma = rng.array(c), beta = rng.array(c), dy = rng.array(x.count)
            let rm = rng.array(c), rv = rng.array(c).map { abs($0) + 0.5 }
            let ref = reference(n: n, c: c, hw: hw, x, gamma: gamma, beta: beta, eps: 1e-5)
            let tag = "n\(n) c\(c) hw\(hw)"
            let r1 = withThreads(1) { forwardTrain(n: n, c: c, hw: hw, x, gamma: gamma, beta: beta, running: (rm, rv)) }
            let r2 = withThreads(2) { forwardTrain(n: n, c: c, hw: hw, x, gamma: gamma, beta: beta, running: (rm, rv)) }
            assertClose(r1.y, ref.y, tol: 1e-5, tag)
            assertClose(r1.mean, ref.mean.map { Float($0) }, tol: 1e-6, tag)
            assertClose(r1.invStd, ref.invStd.map { Float($0) }, tol: 1e-5, tag)
            assertClose(r1.runningMean, (0..<c).map { Float(0.9 * Double(rm[$0]) + 0.1 * ref.mean[$0]) }, tol: 1e-6, tag)
            assertClose(r1.runningVar, (0..<c).map { Float(0.9 * Double(rv[$0]) + 0.1 * ref.unbiased[$0]) }, tol: 1e-6, tag)
            for (a, b) in [(r1.y, r2.y), (r1.mean, r2.mean), (r1.invStd, r2.invStd),
                           (r1.runningMean, r2.runningMean), (r1.runningVar, r2.runningVar)] {
                assertBitIdentical(a, b, tag)
            }
            let g1 = withThreads(1) { backwardTrain(n: n, c: c, hw: hw, x, dy, gamma: gamma, mean: r1.mean, invStd: r1.invStd) }
            let g2 = withThreads(2) { backwardTrain(n: n, c: c, hw: hw, x, dy, gamma: gamma, mean: r1.mean, invStd: r1.invStd) }
            assertBitIdentical(g1.dx, g2.dx, tag); assertBitIdentical(g1.dGamma, g2.dGamma, tag)
            assertBitIdentical(g1.dBeta, g2.dBeta, tag)
            // Gradients of a normalised batch: Σ dx = 0 per channel (shifting x changes nothing).
            for ch in 0..<c {
                var s = 0.0, mag = 0.0
                for i in 0..<n { for j in 0..<hw { s += Double(g1.dx[(i * c + ch) * hw + j]); mag += abs(Double(g1.dx[(i * c + ch) * hw + j])) } }
                XCTAssertEqual(s, 0, accuracy: 1e-5 * max(1, mag), tag)
            }
        }
    }

    func testLargeOffsetLargeCountStaysAccurate() {
        // 200 000 values near 1000 with spread ~0.01: a Float running sum would lose the mean's low
        // digits (ulp(2e8) = 16) and the variance entirely; the Double-blocked sums must not.
        var rng = SplitMix64(seed: 51)
        let n = 4, hw = 50_000
        let x = (0..<(n * hw)).map { _ in 1000 + 0.01 * rng.uniform() }
        let ref = reference(n: n, c: 1, hw: hw, x, gamma: [1], beta: [0], eps: 1e-5)
        let r = forwardTrain(n: n, c: 1, hw: hw, x, gamma: nil, beta: nil, running: ([0], [0]))
        XCTAssertEqual(Double(r.mean[0]), ref.mean[0], accuracy: 1e-4)
        XCTAssertEqual(Double(r.invStd[0]), ref.invStd[0], accuracy: 1e-4 * ref.invStd[0])
        XCTAssertEqual(Double(r.runningVar[0]), 0.1 * ref.unbiased[0], accuracy: 1e-4 * 0.1 * ref.unbiased[0])
        assertClose(r.y, ref.y, tol: 2e-3)
    }

    func testTrainGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 61)
        for (n, c, hw) in [(3, 2, 5), (5, 3, 1), (2, 2, 20)] {
            let x = rng.array(n * c * hw).map { $0 * 2 }
            let gamma = rng.array(c).map { $0 + 1.5 }, beta = rng.array(c), r = rng.array(x.count)
            let f = forwardTrain(n: n, c: c, hw: hw, x, gamma: gamma, beta: beta)
            let g = backwardTrain(n: n, c: c, hw: hw, x, r, gamma: gamma, mean: f.mean, invStd: f.invStd)
            let tag = "n\(n) c\(c) hw\(hw)"
            assertGradClose(g.dx, numericGradient(x) {
                weightedSum(forwardTrain(n: n, c: c, hw: hw, $0, gamma: gamma, beta: beta).y, r) }, "dx \(tag)")
            assertGradClose(g.dGamma, numericGradient(gamma) {
                weightedSum(forwardTrain(n: n, c: c, hw: hw, x, gamma: $0, beta: beta).y, r) }, "dγ \(tag)")
            assertGradClose(g.dBeta, numericGradient(beta) {
                weightedSum(forwardTrain(n: n, c: c, hw: hw, x, gamma: gamma, beta: $0).y, r) }, "dβ \(tag)")
            // gamma nil behaves as γ = 1.
            let ones = [Float](repeating: 1, count: c)
            let g1 = backwardTrain(n: n, c: c, hw: hw, x, r, gamma: nil, mean: f.mean, invStd: f.invStd)
            let gOnes = backwardTrain(n: n, c: c, hw: hw, x, r, gamma: ones, mean: f.mean, invStd: f.invStd)
            assertBitIdentical(g1.dx, gOnes.dx, tag)
        }
    }

    func testEvalGradientsMatchFiniteDifferences() {
        var rng = SplitMix64(seed: 71)
        for (n, c, hw) in [(2, 3, 5), (4, 2, 1), (1, 2, 33)] {
            let x = rng.array(n * c * hw), r = rng.array(x.count)
            let gamma = rng.array(c), beta = rng.array(c), rm = rng.array(c), rv = rng.array(c).map { abs($0) + 0.3 }
            let eps: Float = 1e-3
            var dx = [Float](repeating: .nan, count: x.count)
            var dg = [Float](repeating: .nan, count: c), db = [Float](repeating: .nan, count: c)
            BatchNormKernels.backwardEval(n: n, c: c, hw: hw, input: x, gradOutput: r, runningMean: rm, runningVar: rv,
                                          gamma: gamma, eps: eps, gradInput: &dx, gradGamma: &dg, gradBeta: &db)
            let tag = "n\(n) c\(c) hw\(hw)"
            assertGradClose(dx, numericGradient(x) {
                weightedSum(forwardEval(n: n, c: c, hw: hw, $0, rm: rm, rv: rv, gamma: gamma, beta: beta, eps: eps), r) }, "dx \(tag)")
            assertGradClose(dg, numericGradient(gamma) {
                weightedSum(forwardEval(n: n, c: c, hw: hw, x, rm: rm, rv: rv, gamma: $0, beta: beta, eps: eps), r) }, "dγ \(tag)")
            assertGradClose(db, numericGradient(beta) {
                weightedSum(forwardEval(n: n, c: c, hw: hw, x, rm: rm, rv: rv, gamma: gamma, beta: $0, eps: eps), r) }, "dβ \(tag)")
            // Optional outputs: asking only for dγ gives the same dγ.
            var dgOnly = [Float](repeating: .nan, count: c)
            BatchNormKernels.backwardEval(n: n, c: c, hw: hw, input: x, gradOutput: r, runningMean: rm, runningVar: rv,
                                          gamma: gamma, eps: eps, gradInput: nil, gradGamma: &dgOnly, gradBeta: nil)
            assertBitIdentical(dgOnly, dg, tag)
        }
    }

    func testEmptyBatchIsANoOp() {
        var out: [Float] = [42], mean: [Float] = [42, 42], inv: [Float] = [42, 42]
        var rm: [Float] = [1, 2], rv: [Float] = [3, 4]
        BatchNormKernels.forwardTrain(n: 0, c: 2, hw: 3, input: [0], gamma: nil, beta: nil, eps: 1e-5, momentum: 0.1,
                                      runningMean: &rm, runningVar: &rv, output: &out, saveMean: &mean, saveInvStd: &inv)
        BatchNormKernels.forwardEval(n: 0, c: 2, hw: 3, input: [0], runningMean: rm, runningVar: rv,
                                     gamma: nil, beta: nil, eps: 1e-5, output: &out)
        XCTAssertEqual(out, [42]); XCTAssertEqual(mean, [42, 42]); XCTAssertEqual(inv, [42, 42])
        XCTAssertEqual(rm, [1, 2]); XCTAssertEqual(rv, [3, 4])
        // Parameter gradients over an empty batch are (overwritten with) zero; gradInput is untouched.
        var dg: [Float] = [.nan, .nan], db: [Float] = [.nan, .nan]
        BatchNormKernels.backwardTrain(n: 0, c: 2, hw: 3, input: [0], gradOutput: [0], gamma: nil, saveMean: mean,
                                       saveInvStd: inv, gradInput: &out, gradGamma: &dg, gradBeta: &db)
        XCTAssertEqual(out, [42]); XCTAssertEqual(dg, [0, 0]); XCTAssertEqual(db, [0, 0])
    }
}
