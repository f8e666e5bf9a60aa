import XCTest
import MERNN
import MERTensor
import MERTestSupport

/// The module system: PyTorch's names and order, modes, loading, and layer gradients.
final class ModuleTests: XCTestCase {
    func smallNet() throws -> Sequential {
        Sequential([try Conv2d(2, 3, kernel: (3, 3), padding: (1, 1)), try BatchNorm2d(3), ReLU(),
                    MaxPool2d(kernel: (2, 2)), Flatten(), try Linear(3 * 2 * 2, 4)])
    }

    /// A Sequential runs BatchNorm2d + ReLU / LeakyReLU (slope > 0) as one fused op, with the
    /// numbers of the modules run one by one; other followers are left alone.
    func testSequentialFusesBatchNormAndActivation() throws {
        for (act, fusedName) in [(ReLU() as Module, "batch_norm_relu"), (LeakyReLU(0.1), "batch_norm_leaky_relu"),
                                 (LeakyReLU(0), nil), (Sigmoid(), nil)] {
            let net = Sequential([try Conv2d(2, 3, kernel: (3, 3), padding: (1, 1), generator: Generator(seed: 3)),
                                  try BatchNorm2d(3), act])
            for training in [true, false] {
                net.setTraining(training)
                let x = GradCheck.input([2, 2, 5, 5], seed: 9)
                OpProfile.start()
                let y = try net(x)
                let ops = OpProfile.stop()
                let stepwise = try net.children.reduce(x) { try $1.module.forward($0) }
                XCTAssertEqual(y.toArray(), stepwise.toArray(), "\(act) training \(training)")
                if let fusedName {
                    XCTAssertNotNil(ops[fusedName], "\(ops.keys.sorted())")
                    XCTAssertNil(ops["batch_norm"])
                } else {
                    XCTAssertNotNil(ops["batch_norm"], "\(ops.keys.sorted())")
                }
            }
        }
    }

    /// A residual block's tail through Sequential: act(BN(conv(x)) + r) in training and in
    /// inference (BN folded into the bias-free convolution) gives the separate ops' bits; a
    /// residual or activation with no BatchNorm2d last is refused, not silently dropped.
    func testSequentialFusesAResidualTail() throws {
        let net = Sequential([try Conv2d(3, 4, kernel: (3, 3), padding: (1, 1), bias: false, generator: Generator(seed: 5)),
                              try BatchNorm2d(4)])
        let x = GradCheck.input([2, 3, 6, 6], seed: 11), res = GradCheck.input([2, 4, 6, 6], seed: 12)
        for training in [true, false] {
            net.setTraining(training)
            if training { _ = try net(x) }   // moves the running statistics off (0, 1)
            let fused = try GradMode.disabled { try net.forward([x], residual: res, activation: .leakyRelu(0.1)) }
            let separate = try GradMode.disabled {
                try (net.children[1].module.forward(net.children[0].module.forward(x)) + res).leakyRelu(0.1)
            }
            XCTAssertEqual(fused.toArray(), separate.toArray(), "training \(training)")
        }
        let noBN = Sequential([try Conv2d(3, 4, kernel: (1, 1)), ReLU()])
        for (r, a) in [(res as Tensor?, BatchNormActivation.none), (nil, .relu)] {
            XCTAssertThrowsError(try noBN.forward([x], residual: r, activation: a)) {
                XCTAssertTrue("\($0)".contains("needs a BatchNorm2d as the last module"), "\($0)")
            }
        }
    }

    func testStateDictNamesAndOrderFollowPyTorch() throws {
        let net = try smallNet()
        XCTAssertEqual(net.stateDict().map(\.name), [
            "0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "5.weight", "5.bias",
        ])
        XCTAssertEqual(net.namedParameters().map(\.name), ["0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias"])
        XCTAssertEqual(net.parameterCount, 3 * 2 * 9 + 3 + 3 + 3 + 12 * 4 + 4)
        XCTAssertTrue(net.parameters().allSatisfy { $0.requiresGrad })
        XCTAssertEqual(net.stateDict()[6].tensor.shape, [], "num_batches_tracked is 0-d, as in PyTorch")
    }

    func testDescriptionIsATreeWithParameterCounts() throws {
        let text = "\(try smallNet())"
        XCTAssertTrue(text.hasPrefix("Sequential  [115 params]\n  (0): Conv2d(2, 3, kernel=3x3, padding=1x1)  [57 params]"), text)
        XCTAssertTrue(text.contains("(1): BatchNorm2d(3)  [6 params]"), text)
        XCTAssertTrue(text.contains("(5): Linear(12, 4)  [52 params]"), text)
    }

    func testTrainAndEvalReachEveryChild() throws {
        let net = try smallNet()
        net.eval()
        XCTAssertFalse(net.namedModules().contains { $0.module.isTraining })
        let x = try Tensor.randn([2, 2, 4, 4], generator: Generator(seed: 1))
        let bn = net.children[1].module as! BatchNorm2d
        _ = try net(x)
        XCTAssertEqual(bn.runningMean.toArray(), [0, 0, 0], "eval mode leaves running stats alone")
        net.train()
        _ = try net(x)
        XCTAssertNotEqual(bn.runningMean.toArray(), [0, 0, 0])
        XCTAssertEqual(try bn.numBatchesTracked.item(), 1)
    }

    func testLoadStateDictCopiesInPlaceAndReportsEveryProblem() throws {
        let a = try smallNet(), b = try smallNet()
        let params = b.parameters()
        try b.loadStateDict(a.stateDict())
        XCTAssertTrue(zip(params, b.parameters()).allSatisfy { $0 === $1 }, "tensors keep their identity")
        let x = try Tensor.randn([2, 2, 4, 4], generator: Generator(seed: 2))
        a.eval(); b.eval()
        XCTAssertEqual(try a(x).toArray(), try b(x).toArray())

        var bad = a.stateDict().filter { $0.name != "0.bias" }
        bad.append(("extra.weight", try Tensor.zeros([1])))
        bad[0] = ("0.weight", try Tensor.zeros([3, 2, 5, 5]))
        XCTAssertThrowsError(try b.loadStateDict(bad, source: "ckpt.safetensors")) { error in
            let m = "\(error)"
            XCTAssertTrue(m.contains("3 problems loading ckpt.safetensors"), m)
            XCTAssertTrue(m.contains("missing 0.bias"), m)
            XCTAssertTrue(m.contains("unexpected extra.weight"), m)
            XCTAssertTrue(m.contains("0.weight: shape [3, 2, 5, 5] in ckpt.safetensors, model expects [3, 2, 3, 3]"), m)
        }
        try b.loadStateDict(a.stateDict().filter { $0.name != "0.bias" }, strict: false)
    }

    func testSameSeedSameInitialWeights() throws {
        Generator.seed(11); let a = try smallNet()
        Generator.seed(11); let b = try smallNet()
        XCTAssertEqual(a.parameters().flatMap { $0.toArray() }, b.parameters().flatMap { $0.toArray() })
        // PyTorch's default init bound for Conv2d: 1/sqrt(fan_in) = 1/sqrt(18).
        let w = a.parameters()[0].toArray()
        XCTAssertLessThanOrEqual(w.map(abs).max()!, 1 / Float(18).squareRoot())
    }

    func testLayerGradients() throws {
        // Initial weights come from the global generator: fix it, so the probes do not
        // depend on which tests ran before (a kink of LeakyReLU inside ±eps would).
        Generator.seed(20261126)
        let conv = try Conv2d(3, 4, kernel: (3, 2), stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 1)
        let x = GradCheck.input([2, 3, 7, 6], seed: 3)
        try GradCheck.check([x] + conv.parameters()) { t in try conv(t[0]) }
        let lin = try Linear(5, 3)
        let v = GradCheck.input([4, 5], seed: 4)
        try GradCheck.check([v] + lin.parameters()) { t in try lin(t[0]) }
        let bn = try BatchNorm2d(3)
        try GradCheck.check([x] + bn.parameters()) { t in try bn(t[0]) }
        let seq = Sequential([try Conv2d(3, 2, kernel: (1, 1)), LeakyReLU(0.1), AvgPool2d(kernel: (2, 2)), Flatten(), try Linear(2 * 3 * 3, 2), Sigmoid()])
        // LeakyReLU has a kink at 0: probes that straddle it are retried with smaller steps.
        try KinkAwareGradCheck.check([x] + seq.parameters()) { t in try seq(t[0]) }
        let cat = Concat(dim: 1, [try Conv2d(3, 2, kernel: (1, 1)), Identity()])
        try GradCheck.check([x] + cat.parameters()) { t in try cat(t[0]) }
    }

    func testDropoutIsSeededAndOffInEval() throws {
        let x = try Tensor.ones([1000])
        let d1 = try Dropout(0.3, seed: 5), d2 = try Dropout(0.3, seed: 5)
        let y1 = try d1(x).toArray(), y2 = try d2(x).toArray()
        XCTAssertEqual(y1, y2)
        let kept = y1.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 1000, 0.7, accuracy: 0.05)
        XCTAssertEqual(kept.first!, 1 / 0.7, accuracy: 1e-6)
        d1.eval()
        XCTAssertEqual(try d1(x).toArray(), x.toArray())
        XCTAssertThrowsError(try Dropout(1))
    }

    func testShapeErrorsNameTheLayer() throws {
        let lin = try Linear(5, 3)
        XCTAssertThrowsError(try lin(try Tensor.zeros([2, 4]))) {
            XCTAssertEqual("\($0)", "Linear: expected input with 5 features in the last dimension, got shape [2, 4]")
        }
        XCTAssertThrowsError(try BatchNorm2d(3)(try Tensor.zeros([2, 4, 3, 3])))
        XCTAssertThrowsError(try Conv2d(3, 4, kernel: (3, 3), groups: 2))
        XCTAssertThrowsError(try Sequential([ReLU()])(try Tensor.zeros([1]), try Tensor.zeros([1])))
    }
}
