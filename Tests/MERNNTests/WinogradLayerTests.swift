import XCTest
import MERKernels
import MERNN
import MERTensor
import MERTestSupport

/// Finite-difference gradients through a Conv2d layer whose 3×3 stride-1 convolutions run on
/// the Winograd kernels (forced with `ConvAlgorithm.mode = .winograd`, restored afterwards):
/// forward, backward-data and backward-weight all come from WinogradKernels here.
final class WinogradLayerTests: XCTestCase {
    private func withWinograd(_ body: () throws -> Void) rethrows {
        let saved = ConvAlgorithm.mode
        ConvAlgorithm.mode = .winograd
        defer { ConvAlgorithm.mode = saved }
        try body()
    }

    func testConv2dGradientsThroughWinograd() throws {
        try withWinograd {
            for (k, pad) in [0, 1, 2].enumerated() {
                let conv = try Conv2d(6, 5, kernel: (3, 3), padding: (pad, pad), generator: Generator(seed: UInt64(10 + k)))
                let x = GradCheck.input([2, 6, 7, 9], seed: UInt64(20 + k))
                let s = ConvShape(n: 2, cin: 6, h: 7, w: 9, cout: 5, kh: 3, kw: 3, padH: pad, padW: pad)
                for pass in ConvAlgorithm.Pass.allCases {
                    XCTAssertNotNil(ConvAlgorithm.winogradTile(for: s, pass: pass), "padding \(pad) must take Winograd")
                }
                try GradCheck.check([x] + conv.parameters()) { t in try conv(t[0]) }
            }
        }
    }

    /// The layer's output under Winograd matches the direct kernel to float32 Winograd accuracy.
    func testConv2dOutputMatchesDirect() throws {
        let conv = try Conv2d(40, 36, kernel: (3, 3), padding: (1, 1), generator: Generator(seed: 5))
        let x = GradCheck.input([3, 40, 12, 10], seed: 6)
        let saved = ConvAlgorithm.mode
        defer { ConvAlgorithm.mode = saved }
        ConvAlgorithm.mode = .direct
        let direct = try conv(x).toArray()
        ConvAlgorithm.mode = .winograd
        let wino = try conv(x).toArray()
        let scale = direct.map { abs($0) }.max()!
        let worst = zip(direct, wino).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 1e-4 * scale)
        XCTAssertGreaterThan(worst, 0, "winograd mode must not have run the direct kernel")
    }
}
