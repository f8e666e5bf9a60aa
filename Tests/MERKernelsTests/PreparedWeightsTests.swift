import MERTestSupport
import XCTest
import MERKernels

/// Weights packed once (`PackedMatrix`, `ConvPreparedWeights`) give the bits of packing on
/// every call.
final class PreparedWeightsTests: XCTestCase {
    func testPackedOperandGivesTheSameBits() {
        let saved = Gemm.minimumWorkPerThread
        Gemm.minimumWorkPerThread = 1
        defer { Gemm.minimumWorkPerThread = saved }
        var rng = SplitMix64(seed: 11)
        // (transA, m, n, k): edge rows, several K blocks (k > 512), a tiny product (the
        // small-loop path reads A back from the panels), both layouts of A.
        let cases = [(false, 37, 70, 600), (true, 50, 33, 1100), (false, 12, 32, 5), (true, 7, 9, 13), (false, 100, 64, 288)]
        for (transA, m, n, k) in cases {
            let lda = (transA ? m : k) + 2
            let a = rng.array((transA ? k : m) * lda), b = rng.array(k * n)
            let packed = PackedMatrix(transA: transA, m: m, k: k, a: a, lda: lda, kcMax: Gemm.blocking.kc)
            XCTAssertEqual(packed.bytes, (m + 11) / 12 * 12 * k * 4)
            for precision in GemmPrecision.bfloat16Supported ? [GemmPrecision.float32, .bfloat16] : [.float32] {
                for threads in [1, 2, 3] {
                    var plain = [Float](repeating: 0, count: m * n), fromPanels = plain
                    GemmPrecision.with(precision) {
                        Gemm.sgemm(transA: transA, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: n,
                                   beta: 0, c: &plain, ldc: n, threads: threads)
                        // `a` is not read when the panels are given: pass a poisoned copy.
                        let poisoned = [Float](repeating: .nan, count: a.count)
                        Gemm.sgemm(transA: transA, transB: false, m: m, n: n, k: k, alpha: 1, a: poisoned, lda: lda, b: b, ldb: n,
                                   beta: 0, c: &fromPanels, ldc: n, threads: threads, packedA: packed)
                    }
                    assertBitIdentical(fromPanels, plain, "tA \(transA) m\(m) n\(n) k\(k) \(precision) threads \(threads)")
                }
            }
        }
    }

    /// Convolutions with prepared weights against the same call without them, on every path
    /// the forward pass takes: implicit (3×3 same), explicit (strided), pointwise, Winograd
    /// F(2,3) and F(4,3); and prepared weights made for another path are ignored, not misused.
    func testPreparedConvolutionWeightsGiveTheSameBits() {
        let saved = ConvAlgorithm.mode
        defer { ConvAlgorithm.mode = saved }
        let shapes = [
            ConvShape(n: 2, cin: 19, h: 13, w: 17, cout: 37, kh: 3, kw: 3, padH: 1, padW: 1),
            ConvShape(n: 3, cin: 8, h: 12, w: 12, cout: 16, kh: 3, kw: 3, strideH: 2, strideW: 2, padH: 1, padW: 1),
            ConvShape(n: 2, cin: 24, h: 9, w: 9, cout: 20, kh: 1, kw: 1),
            ConvShape(n: 1, cin: 70, h: 6, w: 6, cout: 50, kh: 3, kw: 3, padH: 1, padW: 1),
        ]
        for (si, s) in shapes.enumerated() {
            var rng = SplitMix64(seed: UInt64(40 + si))
            let x = rng.array(s.n * s.cin * s.h * s.w), w = rng.array(s.cout * s.cin * s.kh * s.kw)
            let count = s.n * s.cout * s.hout * s.wout
            func forward(_ prepared: ConvPreparedWeights?) -> [Float] {
                var y = [Float](repeating: .nan, count: count)
                y.withUnsafeMutableBufferPointer {
                    ConvKernels.forward(s, input: x, weight: w, bias: nil, output: $0.baseAddress!, prepared: prepared)
                }
                return y
            }
            for mode in [ConvAlgorithm.direct, .winograd] {
                ConvAlgorithm.mode = mode
                let plain = forward(nil)
                guard let prepared = ConvPreparedWeights.prepare(s, weight: w) else { return XCTFail("nothing prepared, shape \(si)") }
                XCTAssertTrue(prepared.serves(s))
                XCTAssertEqual(prepared.bytes, ConvPreparedWeights.bytes(for: s))
                assertBitIdentical(forward(prepared), plain, "shape \(si) \(mode)")
                // The other algorithm: the prepared weights no longer serve (for 3×3 stride 1)
                // and the forward pass packs as usual.
                ConvAlgorithm.mode = mode == .direct ? .winograd : .direct
                if WinogradKernels.supports(s) {
                    XCTAssertFalse(prepared.serves(s), "shape \(si) prepared for \(mode)")
                }
                assertBitIdentical(forward(prepared), forward(nil), "shape \(si) prepared for \(mode), run otherwise")
            }
        }
        // F(2,3) is picked for outputs of 1-2 rows or columns.
        ConvAlgorithm.mode = .winograd
        let thin = ConvShape(n: 2, cin: 16, h: 2, w: 30, cout: 24, kh: 3, kw: 3, padH: 1, padW: 1)
        XCTAssertEqual(ConvAlgorithm.winogradTile(for: thin, pass: .forward), .f2)
        var rng = SplitMix64(seed: 60)
        let x = rng.array(thin.n * thin.cin * thin.h * thin.w), w = rng.array(thin.cout * thin.cin * 9)
        var plain = [Float](repeating: .nan, count: thin.n * thin.cout * thin.hout * thin.wout), prepared = plain
        plain.withUnsafeMutableBufferPointer { ConvKernels.forward(thin, input: x, weight: w, bias: nil, output: $0.baseAddress!) }
        let p = ConvPreparedWeights.prepare(thin, weight: w)
        prepared.withUnsafeMutableBufferPointer {
            ConvKernels.forward(thin, input: x, weight: w, bias: nil, output: $0.baseAddress!, prepared: p)
        }
        assertBitIdentical(prepared, plain, "F(2,3)")
    }
}
