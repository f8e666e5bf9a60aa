import XCTest
import MERNN
import MERTensor
import MERTestSupport

/// CBAM and the fusion modules: shapes, names and finite-difference gradients of both the
/// input(s) and every parameter (parameters are leaves, so GradCheck perturbs them in place
/// while the closure keeps calling the module).
final class AttentionFusionTests: XCTestCase {
    func keys(_ m: Module) -> [String] { m.stateDict().map { $0.name } }

    func testChannelAttention() throws {
        let ca = try ChannelAttention(8, reduction: 4, generator: Generator(seed: 1))
        XCTAssertEqual(ca.hidden, 2)
        XCTAssertEqual(keys(ca), ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"])
        XCTAssertEqual(try ChannelAttention(8).hidden, 1, "hidden width is at least 1")
        let x = GradCheck.distinct([2, 8, 5, 5], seed: 2, spacing: 0.01)
        XCTAssertEqual(try ca(x).shape, [2, 8, 5, 5])
        let w = try ca.weights(x)
        XCTAssertEqual(w.shape, [2, 8, 1, 1])
        XCTAssertTrue(w.toArray().allSatisfy { $0 > 0 && $0 < 1 })
        try GradCheck.check([x] + ca.parameters()) { t in try ca(t[0]) }
    }

    func testSpatialAttention() throws {
        let sa = try SpatialAttention(kernel: 3, generator: Generator(seed: 3))
        XCTAssertEqual(keys(sa), ["conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"])
        XCTAssertEqual(sa.conv.padding.0, 1)
        let x = GradCheck.distinct([2, 3, 6, 6], seed: 4, spacing: 0.01)
        XCTAssertEqual(try sa.weights(x).shape, [2, 1, 6, 6])
        try GradCheck.check([x] + sa.parameters()) { t in try sa(t[0]) }
        XCTAssertThrowsError(try SpatialAttention(kernel: 4))
    }

    func testCBAM() throws {
        let cbam = try CBAM(8, reduction: 4, kernel: 3, generator: Generator(seed: 5))
        XCTAssertEqual(keys(cbam), ["ca.mlp.0.weight", "ca.mlp.0.bias", "ca.mlp.2.weight", "ca.mlp.2.bias",
                                    "sa.conv.weight", "sa.bn.weight", "sa.bn.bias", "sa.bn.running_mean",
                                    "sa.bn.running_var", "sa.bn.num_batches_tracked"])
        XCTAssertEqual(try CBAM(64).stateDict().first { $0.name == "sa.conv.weight" }?.tensor.shape, [1, 2, 7, 7])
        let x = GradCheck.distinct([2, 8, 5, 4], seed: 6, spacing: 0.01)
        // Channel then spatial: the output equals sa(ca(x)).
        let y = try cbam(x)
        XCTAssertEqual(y.toArray(), try cbam.sa(cbam.ca(x)).toArray())
        try GradCheck.check([x] + cbam.parameters()) { t in try cbam(t[0]) }
        // Eval mode (running statistics) differentiates too.
        cbam.eval()
        try GradCheck.check([x] + cbam.parameters()) { t in try cbam(t[0]) }
    }

    func testCAFFM() throws {
        let f = try CAFFM(8, 6, 4, reduction: 4, generator: Generator(seed: 7))
        XCTAssertEqual(f.inputCount, 2)
        XCTAssertEqual(f.outChannels, 4)
        XCTAssertEqual(keys(f).filter { !$0.contains("running") && !$0.contains("num_batches") },
                       ["proj_g.0.weight", "proj_g.1.weight", "proj_g.1.bias", "proj_l.0.weight", "proj_l.1.weight", "proj_l.1.bias",
                        "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "conv.weight"])
        XCTAssertEqual(f.mlp.children.count, 3)
        XCTAssertEqual((f.mlp.children[0].module as! Linear).outFeatures, 2)  // 2c/r = 8/4
        XCTAssertEqual(f.conv.weight.shape, [1, 4, 7, 7])
        let g = GradCheck.distinct([2, 8, 4, 4], seed: 8, spacing: 0.01)
        let l = GradCheck.distinct([2, 6, 7, 7], seed: 9, spacing: 0.01)
        let y = try f(g, l)
        XCTAssertEqual(y.shape, [2, 4, 4, 4])
        // The output is the convex mix w ⊙ g' + (1 − w) ⊙ l'.
        let (w, gp, lp) = try f.fusionWeights(g, l)
        XCTAssertEqual(w.shape, [2, 4, 4, 4])
        XCTAssertEqual(lp.shape, [2, 4, 4, 4])
        let mix = try w * gp + (1 - w) * lp
        for (a, b) in zip(y.toArray(), mix.toArray()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        try KinkAwareGradCheck.check([g, l] + f.parameters()) { t in try f(t[0], t[1]) }
        // Same grid: no pooling needed.
        let l2 = GradCheck.distinct([2, 6, 4, 4], seed: 10, spacing: 0.01)
        XCTAssertEqual(try f(g, l2).shape, [2, 4, 4, 4])
        XCTAssertThrowsError(try f(g)) { XCTAssertTrue("\($0)".contains("2 inputs"), "\($0)") }
        XCTAssertThrowsError(try f(l, g)) { XCTAssertTrue("\($0)".contains("global map"), "\($0)") }
    }

    func testConcatFusion() throws {
        let f = try ConcatFusion(3, 2)
        XCTAssertEqual(f.outChannels, 5)
        XCTAssertEqual(f.parameterCount, 0)
        let g = GradCheck.input([2, 3, 4, 4], seed: 11), l = GradCheck.input([2, 2, 7, 7], seed: 12)
        let y = try f(g, l)
        XCTAssertEqual(y.shape, [2, 5, 4, 4])
        XCTAssertEqual(try y.narrow(1, 0, 3).contiguous().toArray(), g.toArray())
        XCTAssertEqual(try y.narrow(1, 3, 2).contiguous().toArray(), try l.adaptiveAvgPool2d((4, 4)).toArray())
        try GradCheck.check([g, l]) { t in try f(t[0], t[1]) }
    }

    /// The kink-tolerant checker used on whole backbones still rejects a wrong backward
    /// (here a detached factor: analytic x instead of 2x), including through a ReLU.
    func testKinkAwareCheckCatchesWrongGradient() throws {
        let x = GradCheck.input([3, 4], seed: 13, awayFromZero: 0.1)
        XCTAssertThrowsError(try KinkAwareGradCheck.check([x]) { t in try (t[0] * t[0].detach()).relu() })
        try KinkAwareGradCheck.check([x]) { t in try (t[0] * t[0]).relu() }
    }
}
