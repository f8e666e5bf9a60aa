import MERTestSupport
import XCTest
import MERKernels

/// The bfloat16 GEMM (`GemmPrecision.bfloat16`: operands rounded to bf16 when packed,
/// AVX512_BF16 products, float32 accumulation) against its reference, and the convolutions
/// that run on it against the float32 reference loops.
final class GemmBFloat16Tests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(GemmPrecision.bfloat16Supported, "this CPU has no AVX512_BF16")
    }

    func testRoundingAgreesWithTheCConversionAndByHand() {
        // By hand: 1 + 2⁻⁸ is a tie between 1 and 1 + 2⁻⁷ → even (1); 1 + 3·2⁻⁸ → 1 + 2⁻⁶ (even);
        // 1 + 2⁻⁸ + 2⁻²⁰ is above the tie → 1 + 2⁻⁷; a subnormal → 0 (VCVTNEPS2BF16's DAZ).
        let cases: [(Float, Float)] = [
            (1 + 0x1p-8, 1), (1 + 3 * 0x1p-8, 1 + 0x1p-6), (1 + 0x1p-8 + 0x1p-20, 1 + 0x1p-7),
            (-(1 + 0x1p-8 + 0x1p-20), -(1 + 0x1p-7)), (0x1p-130, 0), (-0x1p-130, -0.0),
            (.infinity, .infinity), (-.infinity, -.infinity), (Float.greatestFiniteMagnitude, .infinity),
            (3.0, 3.0), (0, 0),
        ]
        for (x, want) in cases {
            let got = GemmPrecision.roundToBFloat16(x)
            XCTAssertEqual(got.bitPattern, want.bitPattern, "round(\(x))")
        }
        XCTAssertTrue(GemmPrecision.roundToBFloat16(.nan).isNaN)
        XCTAssertEqual(GemmPrecision.bfloat16Bits(.nan) & 0x7fc0, 0x7fc0, "a quiet NaN")
        // The Swift rounding (the reference's) and the C one (the packing's) agree bit for bit.
        var rng = SplitMix64(seed: 16)
        for i in 0..<20_000 {
            let x = i < 10_000 ? Float(bitPattern: UInt32(truncatingIfNeeded: rng.next())) : rng.uniform() * 1e3
            if x.isNaN { continue }
            let viaC = Float(bitPattern: UInt32(GemmPrecision.bfloat16Bits(x)) << 16)
            XCTAssertEqual(viaC.bitPattern, GemmPrecision.roundToBFloat16(x).bitPattern, "x = \(x)")
        }
    }

    /// One product on 1, 2 and 3 threads: within float32 accumulation error of the reference
    /// on bf16-rounded operands, bit-identical across thread counts, and measurably different
    /// from the float32 product (so the bf16 kernel really ran).
    private func check(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
                       seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SplitMix64(seed: seed)
        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 1, ldc = n + 2
        let a = rng.array((transA ? k : m) * lda), b = rng.array((transB ? n : k) * ldb)
        let c0 = rng.array(m * ldc)
        var want = c0, exact = c0
        Gemm.referenceBFloat16(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                               b: b, ldb: ldb, beta: beta, c: &want, ldc: ldc)
        Gemm.reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                       b: b, ldb: ldb, beta: beta, c: &exact, ldc: ldc)
        var runs: [[Float]] = []
        GemmPrecision.with(.bfloat16) {
            for t in [1, 2, 3] {
                var c = c0
                Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: &c, ldc: ldc, threads: t)
                runs.append(c)
            }
        }
        let tag = "m\(m) n\(n) k\(k) tA \(transA) tB \(transB) α \(alpha) β \(beta)"
        // Terms are products of values in [-1, 1]: the kernel's and the reference's float32 sums
        // of the same k terms (in other orders) each err by at most ~k·2⁻²⁴ of Σ|terms| ≤ k;
        // the test allows 2e-6·k.
        let scale = Float(k) * abs(alpha)
        var worstRef: Float = 0, worstExact: Float = 0
        for i in 0..<m {
            for j in 0..<ldc {
                let idx = i * ldc + j, got = runs[0][idx]
                if j >= n { XCTAssertEqual(got, c0[idx], "column past n written: \(tag)", file: file, line: line); continue }
                worstRef = max(worstRef, abs(got - want[idx]))
                worstExact = max(worstExact, abs(got - exact[idx]))
            }
        }
        XCTAssertLessThanOrEqual(worstRef, 2e-6 * scale + 1e-6, "vs bf16 reference: \(tag)", file: file, line: line)
        // Rounding both operands costs up to 2⁻⁸ of each term, ~√k·2⁻⁹ of Σ|terms| at random.
        XCTAssertLessThanOrEqual(worstExact, 4e-3 * Float(k).squareRoot() * abs(alpha) + 1e-6,
                                 "vs float32: \(tag)", file: file, line: line)
        XCTAssertGreaterThan(worstExact, 1e-4 * abs(alpha), "no bf16 rounding seen, did the float32 kernel run? \(tag)",
                             file: file, line: line)
        assertBitIdentical(runs[1], runs[0], "2 threads vs 1: \(tag)", file: file, line: line)
        assertBitIdentical(runs[2], runs[0], "3 threads vs 1: \(tag)", file: file, line: line)
    }

    func testProductsMatchTheReference() {
        let saved = Gemm.minimumWorkPerThread
        Gemm.minimumWorkPerThread = 1          // let small products split over threads too
        defer { Gemm.minimumWorkPerThread = saved }
        // Full tiles, edge tiles (m, n not multiples of 12 / 32), odd k (a padded last pair),
        // k over one K block (512: several blocks, each with its own pairing), transposes,
        // alpha/beta (beta 0 must not read C's NaN-free garbage; beta 1 accumulates).
        check(transA: false, transB: false, m: 24, n: 64, k: 64, alpha: 1, beta: 0, seed: 1)
        check(transA: false, transB: false, m: 37, n: 45, k: 33, alpha: 1, beta: 0, seed: 2)
        check(transA: true, transB: false, m: 50, n: 70, k: 1031, alpha: 0.5, beta: 1, seed: 3)
        check(transA: false, transB: true, m: 13, n: 97, k: 255, alpha: -2, beta: 0.25, seed: 4)
        check(transA: true, transB: true, m: 61, n: 33, k: 600, alpha: 1, beta: 0, seed: 5)
        check(transA: false, transB: false, m: 100, n: 400, k: 1, alpha: 1, beta: 0, seed: 6)
    }

    func testNonFiniteValuesPropagate() {
        // An infinity or NaN in A reaches its row of C (rounding keeps them; DAZ only zeroes
        // subnormals), as in float32.
        let m = 12, n = 32, k = 40
        var a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
        a[3 * k + 7] = .infinity
        a[5 * k + 1] = .nan
        b[2 * n + 4] = 0x1p-130          // subnormal: counts as 0
        var c = [Float](repeating: 0, count: m * n)
        GemmPrecision.with(.bfloat16) {
            Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                       beta: 0, c: &c, ldc: n)
        }
        XCTAssertEqual(c[3 * n], .infinity)
        XCTAssertTrue(c[5 * n].isNaN)
        XCTAssertEqual(c[0], 0.5 * 0.25 * Float(k))     // exact in bf16 and float32
        XCTAssertEqual(c[4], 0.5 * 0.25 * Float(k - 1), "the subnormal B entry contributes 0")
    }

    /// Error bounds reached by the convolutions under bf16 (inputs, weights, dOut uniform in
    /// [−1, 1]; error = max |got − float32 reference| / max(1, max |reference|), as
    /// `assertClose` measures; worst over the shapes here):
    ///
    ///                    forward   backward-data   backward-weight   allowed
    ///     direct         2.0e-3    2.2e-3          2.2e-3            5e-3
    ///     Winograd F(2,3) and F(4,3): float32 products whatever the precision, so the float32
    ///     bounds of WinogradTests (2e-5 / 5e-5) hold. Measured before that rule, with bf16
    ///     products: F(2,3) 3.9e-3 / 4.2e-3 / 4.2e-3, F(4,3) 6.8e-2 / 8.1e-2 / 7.5e-2.
    func testConvolutionsInBFloat16() {
        let shapes = [
            ConvShape(n: 2, cin: 19, h: 13, w: 30, cout: 37, kh: 3, kw: 3, padH: 1, padW: 1),
            ConvShape(n: 3, cin: 64, h: 16, w: 16, cout: 64, kh: 3, kw: 3, padH: 1, padW: 1),
        ]
        let allowed: [String: Float] = ["direct": 5e-3, "F2": 2e-5, "F4": 5e-5]
        for (si, s) in shapes.enumerated() {
            var rng = SplitMix64(seed: UInt64(300 + si))
            let x = rng.array(s.n * s.cin * s.h * s.w), w = rng.array(s.cout * s.cin * 9)
            let gy = rng.array(s.n * s.cout * s.hout * s.wout)
            func run(_ body: (UnsafeMutablePointer<Float>) -> Void, count: Int) -> [Float] {
                var out = [Float](repeating: .nan, count: count)
                out.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
                return out
            }
            let yCount = s.n * s.cout * s.hout * s.wout, xCount = x.count, wCount = w.count
            let yRef = run({ ConvKernels.forwardReference(s, input: x, weight: w, bias: nil, output: $0) }, count: yCount)
            let gxRef = run({ ConvKernels.backwardDataReference(s, gradOutput: gy, weight: w, gradInput: $0) }, count: xCount)
            let gwRef = run({ ConvKernels.backwardWeightReference(s, input: x, gradOutput: gy, gradWeight: $0, gradBias: nil) }, count: wCount)
            GemmPrecision.with(.bfloat16) {
                for path in ["direct", "F2", "F4"] {
                    let y: [Float], gx: [Float], gw: [Float]
                    if path == "direct" {
                        let saved = ConvAlgorithm.mode
                        ConvAlgorithm.mode = .direct
                        defer { ConvAlgorithm.mode = saved }
                        y = run({ ConvKernels.forward(s, input: x, weight: w, bias: nil, output: $0) }, count: yCount)
                        gx = run({ ConvKernels.backwardData(s, gradOutput: gy, weight: w, gradInput: $0) }, count: xCount)
                        gw = run({ ConvKernels.backwardWeight(s, input: x, gradOutput: gy, gradWeight: $0, gradBias: nil) }, count: wCount)
                        // The bf16 kernel really ran: the error is far above float32's.
                        let scale = max(1, yRef.map { abs($0) }.max()!)
                        XCTAssertGreaterThan(zip(y, yRef).map { abs($0 - $1) }.max()! / scale, 1e-4, "direct bf16 \(si)")
                    } else {
                        let tile: WinogradKernels.Tile = path == "F2" ? .f2 : .f4
                        y = run({ WinogradKernels.forward(s, tile: tile, input: x, weight: w, bias: nil, output: $0) }, count: yCount)
                        gx = run({ WinogradKernels.backwardData(s, tile: tile, gradOutput: gy, weight: w, gradInput: $0) }, count: xCount)
                        gw = run({ WinogradKernels.backwardWeight(s, tile: tile, input: x, gradOutput: gy, gradWeight: $0, gradBias: nil) }, count: wCount)
                    }
                    let tol = allowed[path]!
                    assertClose(y, yRef, tol: tol, "\(path) forward, shape \(si)")
                    assertClose(gx, gxRef, tol: tol, "\(path) backward-data, shape \(si)")
                    assertClose(gw, gwRef, tol: tol, "\(path) backward-weight, shape \(si)")
                }
                XCTAssertEqual(GemmPrecision.current, .bfloat16, "Winograd restores the caller's precision")
            }
        }
    }

    /// The precision is per thread: Parallel's workers take the launching thread's, and a
    /// thread of its own (a data loader's) keeps float32 while another trains in bf16.
    func testPrecisionIsPerThreadAndWorkersInheritIt() {
        var rng = SplitMix64(seed: 77)
        let m = 48, n = 64, k = 96
        let a = rng.array(m * k), b = rng.array(k * n)
        @Sendable func product(threads: Int) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                       beta: 0, c: &c, ldc: n, threads: threads)
            return c
        }
        let f32 = product(threads: 1)
        let bf16 = GemmPrecision.with(.bfloat16) { product(threads: 1) }
        XCTAssertNotEqual(f32, bf16)
        // Workers: a conv batch split over 2 threads runs single-thread GEMMs inside Parallel.
        let saved = Gemm.minimumWorkPerThread
        Gemm.minimumWorkPerThread = 1
        defer { Gemm.minimumWorkPerThread = saved }
        var inWorkers = [[Float]](repeating: [], count: 2)
        GemmPrecision.with(.bfloat16) {
            inWorkers.withUnsafeMutableBufferPointer { out in
                let box = UncheckedSendable(out)
                Parallel.run(parts: 2, threads: 2) { p in box.value[p] = product(threads: 1) }
            }
        }
        XCTAssertEqual(inWorkers[0], bf16)
        XCTAssertEqual(inWorkers[1], bf16)
        // Another thread started while this one is in bf16 multiplies in float32.
        final class Result: @unchecked Sendable { var value: [Float] = [] }
        let other = Result()
        let done = DispatchSemaphore(value: 0)
        GemmPrecision.with(.bfloat16) {
            let t = Thread { other.value = product(threads: 1); done.signal() }
            t.start()
            done.wait()
        }
        XCTAssertEqual(other.value, f32)
        XCTAssertEqual(GemmPrecision.current, .float32)
    }
}
