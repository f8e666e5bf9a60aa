import MERTestSupport
import XCTest
import MERKernels


final class GemmTests: XCTestCase {
    private struct Case {
        var transA, transB: Bool
        var m, n, k: Int
        var lda, ldb, ldc: Int
        var alpha, beta: Float
    }

    /// Runs `sgemm` on 1, 2 and 3 threads, checks each against the reference and checks the
    /// three results are bit-identical. Returns the thread counts `sgemm` really used for
    /// the 2- and 3-thread runs (a case that stays on one thread proves no determinism).
    @discardableResult
    private func check(_ t: Case, rng: inout SplitMix64, file: StaticString = #filePath, line: UInt = #line) -> (Int, Int) {
        let aRows = t.transA ? t.k : t.m, aCols = t.transA ? t.m : t.k
        let bRows = t.transB ? t.n : t.k, bCols = t.transB ? t.k : t.n
        precondition(t.lda >= aCols && t.ldb >= bCols && t.ldc >= t.n)
        var a = [Float](repeating: .nan, count: max(1, aRows * t.lda))
        var b = [Float](repeating: .nan, count: max(1, bRows * t.ldb))
        for r in 0..<aRows { for c in 0..<aCols { a[r * t.lda + c] = rng.uniform() } }
        for r in 0..<bRows { for c in 0..<bCols { b[r * t.ldb + c] = rng.uniform() } }
        // Padding columns of C (past n) must survive untouched: fill them with a sentinel.
        let sentinel: Float = 12345
        var c0 = [Float](repeating: sentinel, count: max(1, t.m * t.ldc))
        for i in 0..<t.m { for j in 0..<t.n { c0[i * t.ldc + j] = t.beta == 0 ? .nan : rng.uniform() } }

        var expected = c0
        if t.beta == 0 { for i in 0..<t.m { for j in 0..<t.n { expected[i * t.ldc + j] = 0 } } }
        Gemm.reference(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
                       a: a, lda: t.lda, b: b, ldb: t.ldb, beta: t.beta, c: &expected, ldc: t.ldc)
        // Scale of each dot product's terms, for a relative tolerance.
        let tol = 1e-4 * Float(max(1, t.k)).squareRoot()
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            var c = c0
            Gemm.sgemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
                       a: a, lda: t.lda, b: b, ldb: t.ldb, beta: t.beta, c: &c, ldc: t.ldc,
                       threads: threads)
            results.append(c)
        }
        let desc = "\(t) "
        var bad = 0
        for i in 0..<t.m {
            for j in 0..<t.ldc {
                let idx = i * t.ldc + j
                let got = results[0][idx], want = expected[idx]
                if j >= t.n {
                    if got != sentinel { bad += 1 }
                    continue
                }
                let scale = max(1, abs(t.alpha) * Float(t.k).squareRoot(), abs(t.beta))
                if !(abs(got - want) <= tol * scale) { bad += 1 }
            }
        }
        XCTAssertEqual(bad, 0, "mismatches vs reference: \(desc)", file: file, line: line)
        for r in 1..<results.count {
            let same = results[r].withUnsafeBytes { x in results[0].withUnsafeBytes { y in x.elementsEqual(y) } }
            XCTAssertTrue(same, "threads \(r + 1) differs bitwise from threads 1: \(desc)", file: file, line: line)
        }
        let used = { (threads: Int) in Gemm.plan(m: t.m, n: t.n, k: t.k, threads: threads, bPackIsCheap: !t.transB).threads }
        return (used(2), used(3))
    }

    func testOddShapesAllTransposes() {
        // These shapes are far below the work at which sgemm starts a second thread; lower
        // that bar so that the thread-count comparison really compares split products.
        let savedThreshold = Gemm.minimumWorkPerThread
        Gemm.minimumWorkPerThread = 1
        defer { Gemm.minimumWorkPerThread = savedThreshold }
        var rng = SplitMix64(seed: 42)
        let sizes = [1, 3, 13, 17, 31, 33, 65, 100]
        var cases = 0, splitTwo = 0, splitThree = 0
        for transA in [false, true] {
            for transB in [false, true] {
                for m in sizes {
                    for n in sizes {
                        let k = sizes[rng.int(0...sizes.count - 1)]
                        let aCols = transA ? m : k, bCols = transB ? k : n
                        let pad = rng.int(0...3)
                        let alphaBeta: [(Float, Float)] = [(1, 0), (-0.5, 1), (2, 0.25), (1, 1)]
                        let (alpha, beta) = alphaBeta[rng.int(0...3)]
                        let (two, three) = check(Case(transA: transA, transB: transB, m: m, n: n, k: k,
                                                      lda: aCols + pad, ldb: bCols + pad * 2, ldc: n + pad,
                                                      alpha: alpha, beta: beta), rng: &rng)
                        cases += 1
                        if two == 2 { splitTwo += 1 }
                        if three == 3 { splitThree += 1 }
                    }
                }
            }
        }
        // Only shapes narrower than two micro-panels per thread in both M and N stay whole:
        // m < 24 and n < 64 for two threads (sizes 1…17 × 1…33: 4 × 6 of the 8 × 8 pairs).
        XCTAssertEqual(splitTwo, 4 * (64 - 4 * 6), "cases split over 2 threads (of \(cases))")
        XCTAssertGreaterThan(splitThree, cases / 4, "cases split over 3 threads (of \(cases))")
    }

    func testLargerShapesCrossBlockBoundaries() {
        // Sizes past the K block (256), the M block and the 32-column panels, so several
        // K blocks accumulate (beta = 1 path inside the driver) and edge tiles occur everywhere.
        // (13, 1000, 64) is under the default splitting threshold; every shape must split.
        let savedThreshold = Gemm.minimumWorkPerThread
        Gemm.minimumWorkPerThread = 1
        defer { Gemm.minimumWorkPerThread = savedThreshold }
        var rng = SplitMix64(seed: 7)
        let shapes: [(Int, Int, Int)] = [(257, 65, 300), (100, 257, 513), (33, 300, 257),
                                         (250, 250, 250), (13, 1000, 64), (400, 17, 600)]
        for (i, (m, n, k)) in shapes.enumerated() {
            let transA = i % 2 == 1, transB = i % 3 == 1
            let aCols = transA ? m : k, bCols = transB ? k : n
            for (alpha, beta) in [(Float(1), Float(0)), (Float(0.75), Float(1)), (Float(-1), Float(-0.5))] {
                let (two, _) = check(Case(transA: transA, transB: transB, m: m, n: n, k: k,
                           lda: aCols + 5, ldb: bCols + 3, ldc: n + 7, alpha: alpha, beta: beta), rng: &rng)
                XCTAssertEqual(two, 2, "(\(m), \(n), \(k)) runs on 2 threads")
            }
        }
    }

    /// Every width of a last, partial B panel (1…31 columns past whole panels), partial A
    /// panels of 1, 4, 7, 8 and 10 rows, and products with A read in place (n ≤ 64) go
    /// through their own kernels (12×32, 12×16, the 1–4 column kernel, 4- and 8-row, in-place
    /// A); each must give each element exactly the one FMA chain per K block that the 12×32
    /// kernel gives it, so results are compared bit for bit with that chain.
    func testEveryPanelWidthMatchesTheFMAChainBitForBit() {
        var rng = SplitMix64(seed: 11)
        let kcMax = Gemm.blocking.kc
        var mismatches: [String] = []
        for (m, k) in [(12, 300), (13, 300), (16, 300), (20, 200), (22, 200), (7, 500), (25, kcMax + 88), (36, 2 * kcMax - 24)] {
            for n in Array(1...70) + [95, 113] where m * n * k >= 32 * 32 * 32 {
                for (transB, alpha, beta) in [(false, Float(1), Float(0)), (true, Float(0.75), Float(0.5))] {
                    let a = (0..<(m * k)).map { _ in Float(rng.uniform()) }
                    let b = (0..<(k * n)).map { _ in Float(rng.uniform()) }
                    let ldc = n + 3
                    let c0 = (0..<(m * ldc)).map { _ in Float(rng.uniform()) }
                    var want = c0
                    for i in 0..<m {
                        for j in 0..<n {
                            var out = want[i * ldc + j]
                            var p0 = 0
                            while p0 < k {
                                var acc: Float = 0
                                for p in p0..<min(k, p0 + kcMax) {
                                    acc = acc.addingProduct(a[i * k + p], transB ? b[j * k + p] : b[p * n + j])
                                }
                                let betaK: Float = p0 == 0 ? beta : 1
                                out = betaK == 0 ? acc * alpha : (out * betaK).addingProduct(alpha, acc)
                                p0 += kcMax
                            }
                            want[i * ldc + j] = out
                        }
                    }
                    for threads in [1, 2] {
                        var got = c0
                        Gemm.sgemm(transA: false, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: k,
                                   b: b, ldb: transB ? k : n, beta: beta, c: &got, ldc: ldc, threads: threads)
                        let same = got.withUnsafeBytes { x in want.withUnsafeBytes { y in x.elementsEqual(y) } }
                        if !same { mismatches.append("m \(m) n \(n) k \(k) transB \(transB) threads \(threads)") }
                    }
                }
            }
        }
        XCTAssertEqual(mismatches, [], "products that differ from the FMA chain")
    }

    /// Products of 1–4 rows of C (a Linear layer on one or two samples) take `GemmSkinny`:
    /// with B not transposed each element must be the plain FMA chain over k; with B
    /// transposed, 16 lane chains (lane l takes k ≡ l mod 16) added by halves. Both are
    /// written out here element by element and compared bit for bit, on 1, 2 and 3 threads,
    /// with NaN in B's row padding (which the tail's whole-vector loads read and must drop)
    /// and in C under beta 0; they also stay within the reference's tolerance.
    func testFewRowProductsMatchTheirChainsBitForBit() {
        let savedThreshold = Gemm.minimumWorkPerThread
        Gemm.minimumWorkPerThread = 1
        defer { Gemm.minimumWorkPerThread = savedThreshold }
        var rng = SplitMix64(seed: 23)
        var mismatches: [String] = []
        for m in 1...4 {
            for (n, k) in [(43, 692), (692, 43), (17, 1000), (300, 31), (2000, 5), (16, 2048), (9000, 1)] where m * n * k >= 32 * 32 * 32 {
                for (transA, transB, alpha, beta) in [(false, true, Float(1), Float(0)), (false, false, Float(1), Float(0)),
                                                      (true, true, Float(0.5), Float(-1)), (true, false, Float(-2), Float(0.25))] {
                    let lda = (transA ? m : k) + 1, ldb = (transB ? k : n) + 3
                    var a = [Float](repeating: .nan, count: (transA ? k : m) * lda)
                    var b = [Float](repeating: .nan, count: (transB ? n : k) * ldb)
                    for i in 0..<m { for p in 0..<k { a[transA ? p * lda + i : i * lda + p] = rng.uniform() } }
                    for j in 0..<n { for p in 0..<k { b[transB ? j * ldb + p : p * ldb + j] = rng.uniform() } }
                    let ldc = n + 2
                    let c0 = (0..<(m * ldc)).map { _ in beta == 0 ? Float.nan : Float(rng.uniform()) }
                    var want = c0, reference = c0
                    for i in 0..<m {
                        for j in 0..<n {
                            func av(_ p: Int) -> Float { a[transA ? p * lda + i : i * lda + p] }
                            func bv(_ p: Int) -> Float { b[transB ? j * ldb + p : p * ldb + j] }
                            var acc: Float = 0
                            if transB {
                                var lanes = [Float](repeating: 0, count: 16)
                                for p in 0..<k { lanes[p % 16] = lanes[p % 16].addingProduct(av(p), bv(p)) }
                                var width = 8
                                while width >= 1 {
                                    for l in 0..<width { lanes[l] += lanes[l + width] }
                                    width /= 2
                                }
                                acc = lanes[0]
                            } else {
                                for p in 0..<k { acc = acc.addingProduct(av(p), bv(p)) }
                            }
                            let q = i * ldc + j
                            want[q] = beta == 0 ? alpha * acc : (beta * want[q]).addingProduct(alpha, acc)
                            reference[q] = beta == 0 ? 0 : reference[q]
                        }
                    }
                    Gemm.reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                   b: b, ldb: ldb, beta: beta, c: &reference, ldc: ldc)
                    let tol = 1e-4 * Float(k).squareRoot() * max(1, abs(alpha) * Float(k).squareRoot(), abs(beta))
                    for threads in [1, 2, 3] {
                        var got = c0
                        Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                   b: b, ldb: ldb, beta: beta, c: &got, ldc: ldc, threads: threads)
                        let what = "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) threads \(threads)"
                        let same = got.withUnsafeBytes { x in want.withUnsafeBytes { y in x.elementsEqual(y) } }
                        if !same { mismatches.append(what) }
                        let far = (0..<m).contains { i in (0..<n).contains { j in
                            !(abs(got[i * ldc + j] - reference[i * ldc + j]) <= tol) } }
                        if far { mismatches.append(what + " (vs reference)") }
                    }
                }
            }
        }
        XCTAssertEqual(mismatches, [], "few-row products that differ from their chains")
    }

    func testBetaZeroIgnoresNaNInC() {
        var rng = SplitMix64(seed: 3)
        for (m, n, k) in [(3, 5, 7), (65, 65, 65), (100, 33, 257)] {
            var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
            for i in a.indices { a[i] = rng.uniform() }
            for i in b.indices { b[i] = rng.uniform() }
            var c = [Float](repeating: .nan, count: m * n)
            Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k,
                       b: b, ldb: n, beta: 0, c: &c, ldc: n, threads: 2)
            XCTAssertFalse(c.contains { $0.isNaN }, "NaN leaked for \(m)x\(n)x\(k)")
        }
    }

    func testBetaOneAccumulatesTwice() {
        // Two calls with beta = 1 on a zeroed C give twice one call's result.
        var rng = SplitMix64(seed: 9)
        let m = 70, n = 90, k = 300
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
        for i in a.indices { a[i] = rng.uniform() }
        for i in b.indices { b[i] = rng.uniform() }
        var once = [Float](repeating: 0, count: m * n), twice = once
        Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k,
                   b: b, ldb: n, beta: 0, c: &once, ldc: n)
        for _ in 0..<2 {
            Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k,
                       b: b, ldb: n, beta: 1, c: &twice, ldc: n)
        }
        for i in once.indices { XCTAssertEqual(twice[i], 2 * once[i], accuracy: 1e-3) }
    }

    func testDegenerateSizes() {
        // k = 0: C = beta·C; m or n = 0: nothing happens.
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [0], b: [Float] = [0]
        Gemm.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1,
                   b: b, ldb: 2, beta: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [2, 4, 6, 8])
        Gemm.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1,
                   b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [0, 0, 0, 0])
        c = [5]
        Gemm.sgemm(transA: false, transB: false, m: 0, n: 1, k: 3, alpha: 1, a: a, lda: 3,
                   b: b, ldb: 1, beta: 0, c: &c, ldc: 1)
        XCTAssertEqual(c, [5])
    }

    func testPeakFLOPsIsPositive() {
        let g = PeakFLOPs.measure(threads: 1, seconds: 0.01)
        XCTAssertGreaterThan(g, 0)
    }
}
