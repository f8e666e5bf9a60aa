import XCTest
import MERTensor
import MERKernels
import MERTestSupport

/// Convolution, pooling and batch norm through the tensor layer: hand cases, errors,
/// and finite-difference checks of their backward through autograd.
final class NNOpsTests: XCTestCase {
    func r(_ shape: [Int], _ seed: UInt64) -> Tensor { GradCheck.input(shape, seed: seed) }

    func testConv2dByHand() throws {
        // 1×1×3×3 input 1..9, 2×2 kernel [[1,0],[0,-1]]: out(i,j) = x(i,j) − x(i+1,j+1) = −4 everywhere.
        let x = try Tensor.arange(1, 10).reshape([1, 1, 3, 3])
        let w = try Tensor.from([1, 0, 0, -1], shape: [1, 1, 2, 2])
        XCTAssertEqual(try Tensor.conv2d(x, w).toArray(), [-4, -4, -4, -4])
        // Padding 1, stride 2, bias 10: corners see one tap each.
        let y = try Tensor.conv2d(x, w, bias: Tensor.from([10]), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        let expected: [Float] = [9, 7, 3, 6] // 10−1, 10−3, 10−7, 10+5−9
        XCTAssertEqual(y.toArray(), expected)
    }

    func testConv2dGradients() throws {
        let cases: [(x: [Int], w: [Int], stride: (Int, Int), pad: (Int, Int), dil: (Int, Int), groups: Int, bias: Bool)] = [
            ([2, 3, 7, 6], [4, 3, 3, 3], (1, 1), (1, 1), (1, 1), 1, true),
            ([1, 4, 9, 8], [6, 2, 3, 2], (2, 1), (0, 1), (1, 1), 2, true),   // groups, odd strides
            ([2, 2, 9, 9], [3, 2, 3, 3], (1, 2), (2, 2), (2, 2), 1, false),  // dilation
            ([1, 3, 8, 8], [3, 1, 3, 3], (1, 1), (1, 1), (1, 1), 3, true),   // depthwise
            ([2, 2, 7, 7], [2, 2, 1, 7], (1, 1), (0, 3), (1, 1), 1, true),   // Inception 1×7
            ([2, 2, 7, 7], [2, 2, 7, 1], (1, 1), (3, 0), (1, 1), 1, false),  // and 7×1
            ([2, 5, 5, 5], [3, 5, 1, 1], (1, 1), (0, 0), (1, 1), 1, true),   // 1×1 shortcut
        ]
        for (i, c) in cases.enumerated() {
            let x = r(c.x, UInt64(10 + i)), w = r(c.w, UInt64(20 + i)), b = r([c.w[0]], UInt64(30 + i))
            let inputs = c.bias ? [x, w, b] : [x, w]
            try GradCheck.check(inputs) { t in
                try Tensor.conv2d(t[0], t[1], bias: c.bias ? t[2] : nil, stride: c.stride, padding: c.pad,
                                  dilation: c.dil, groups: c.groups)
            }
        }
        // A strided (permuted) input view is handled like its contiguous copy.
        let base = r([5, 5, 2, 3], 40), w = r([2, 3, 3, 3], 41)
        try GradCheck.check([base, w]) { t in try Tensor.conv2d(t[0].permute([2, 3, 0, 1]), t[1], padding: (1, 1)) }
    }

    func testConv2dErrors() throws {
        let x = try Tensor.zeros([1, 3, 5, 5])
        XCTAssertThrowsError(try Tensor.conv2d(x, try Tensor.zeros([4, 2, 3, 3]))) {
            XCTAssertTrue("\($0)".contains("expects 2 input channels, input has 3"), "\($0)")
        }
        XCTAssertThrowsError(try Tensor.conv2d(x, try Tensor.zeros([4, 3, 7, 7]))) {
            XCTAssertTrue("\($0)".contains("does not fit input 5x5"), "\($0)")
        }
        XCTAssertThrowsError(try Tensor.conv2d(try Tensor.zeros([3, 5, 5]), try Tensor.zeros([4, 3, 3, 3])))
        XCTAssertThrowsError(try Tensor.conv2d(x, try Tensor.zeros([4, 3, 3, 3]), stride: (0, 1)))
        XCTAssertThrowsError(try Tensor.conv2d(x, try Tensor.zeros([4, 3, 3, 3]), bias: try Tensor.zeros([3])))
    }

    func testPoolingByHand() throws {
        let x = try Tensor.arange(1, 17).reshape([1, 1, 4, 4])
        XCTAssertEqual(try x.maxPool2d(kernel: (2, 2)).toArray(), [6, 8, 14, 16])
        XCTAssertEqual(try x.avgPool2d(kernel: (2, 2)).toArray(), [3.5, 5.5, 11.5, 13.5])
        // count_include_pad: the corner window of a padded 3×3 pool sees 4 real values of 9.
        let a = try x.avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        XCTAssertEqual(a.toArray()[0], (1 + 2 + 5 + 6) / 9)
        let b = try x.avgPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false)
        XCTAssertEqual(b.toArray()[0], (1 + 2 + 5 + 6) / 4)
        XCTAssertEqual(try x.adaptiveAvgPool2d((1, 1)).toArray(), [8.5])
        XCTAssertEqual(try x.adaptiveMaxPool2d((2, 1)).toArray(), [8, 16])
        XCTAssertEqual(try x.maxPool2d(kernel: (3, 3), stride: (2, 2), ceilMode: true).shape, [1, 1, 2, 2])
    }

    func testPoolingGradients() throws {
        let x = GradCheck.distinct([2, 3, 7, 9], seed: 50)
        try GradCheck.check([x]) { try $0[0].maxPool2d(kernel: (3, 3), stride: (2, 2), padding: (1, 1)) }
        try GradCheck.check([x]) { try $0[0].maxPool2d(kernel: (2, 3), stride: (2, 2), ceilMode: true) }
        try GradCheck.check([x]) { try $0[0].avgPool2d(kernel: (3, 3), stride: (1, 2), padding: (1, 1)) }
        try GradCheck.check([x]) { try $0[0].avgPool2d(kernel: (3, 2), stride: (2, 2), padding: (1, 1), ceilMode: true, countIncludePad: false) }
        try GradCheck.check([x]) { try $0[0].adaptiveAvgPool2d((3, 4)) }
        try GradCheck.check([x]) { try $0[0].adaptiveMaxPool2d((4, 5)) }
        XCTAssertThrowsError(try x.maxPool2d(kernel: (3, 3), padding: (2, 2))) { XCTAssertTrue("\($0)".contains("half the kernel")) }
        XCTAssertThrowsError(try x.adaptiveAvgPool2d((0, 1)))
    }

    func testBatchNormByHand() throws {
        // Channel 0 holds {1, 3}: mean 2, biased var 1, unbiased var 2.
        let x = try Tensor.from([1, 3], shape: [2, 1, 1, 1])
        let rm = try Tensor.zeros([1]), rv = try Tensor.ones([1])
        let y = try Tensor.batchNorm(x, runningMean: rm, runningVar: rv, weight: nil, bias: nil, training: true, momentum: 0.1, eps: 0)
        XCTAssertEqual(y.toArray()[0], -1, accuracy: 1e-6)
        XCTAssertEqual(y.toArray()[1], 1, accuracy: 1e-6)
        XCTAssertEqual(rm.toArray()[0], 0.2, accuracy: 1e-6)      // 0.9·0 + 0.1·2
        XCTAssertEqual(rv.toArray()[0], 1.1, accuracy: 1e-6)      // 0.9·1 + 0.1·2 (unbiased)
        let e = try Tensor.batchNorm(x, runningMean: rm, runningVar: rv, weight: Tensor.from([2]), bias: Tensor.from([1]),
                                     training: false, eps: 0)
        let expected: Float = 2 * 0.8 / Float(1.1).squareRoot() + 1
        XCTAssertEqual(e.toArray()[0], expected, accuracy: 1e-5)
        XCTAssertThrowsError(try Tensor.batchNorm(try Tensor.zeros([1, 3]), runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true)) {
            XCTAssertTrue("\($0)".contains("more than 1 value per channel"))
        }
    }

    func testBatchNormGradients() throws {
        let x = r([3, 4, 5, 3], 60), w = r([4], 61), b = r([4], 62)
        try GradCheck.check([x, w, b]) {
            try Tensor.batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
        }
        let flat = r([6, 5], 63)
        try GradCheck.check([flat]) {
            try Tensor.batchNorm($0[0], runningMean: nil, runningVar: nil, weight: nil, bias: nil, training: true)
        }
        let rm = r([4], 64), rv = try r([4], 65).abs().adding(scalar: 0.5).detach()
        try GradCheck.check([x, w, b]) {
            try Tensor.batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], bias: $0[2], training: false)
        }
    }

    /// BN with a fused activation: finite differences (kink-aware: ReLU's corner) in train
    /// and eval mode, and bit-identical values and gradients to BN followed by the separate op.
    func testBatchNormWithFusedActivation() throws {
        let x = r([3, 4, 5, 3], 70), w = r([4], 71), b = r([4], 72)
        let rm = r([4], 73), rv = try r([4], 74).abs().adding(scalar: 0.5).detach()
        for act in [BatchNormActivation.relu, .leakyRelu(0.2), .leakyRelu(0.01)] {
            for training in [true, false] {
                let stats = training ? (nil, nil) : (rm, rv)
                try KinkAwareGradCheck.check([x, w, b]) {
                    try Tensor.batchNorm($0[0], runningMean: stats.0, runningVar: stats.1, weight: $0[1], bias: $0[2],
                                         training: training, activation: act)
                }
                func run(fused: Bool) throws -> (y: [Float], grads: [[Float]]) {
                    for t in [x, w, b] { t.grad = nil; try t.requiresGrad(true) }
                    let z = try Tensor.batchNorm(x, runningMean: stats.0, runningVar: stats.1, weight: w, bias: b,
                                                 training: training, activation: fused ? act : .none)
                    let y: Tensor
                    switch (fused, act) {
                    case (true, _): y = z
                    case (false, .leakyRelu(let s)): y = try z.leakyRelu(s)
                    default: y = try z.relu()
                    }
                    try (y * r(y.shape, 75)).sum().backward()
                    return (y.toArray(), [x, w, b].map { $0.grad!.toArray() })
                }
                let fused = try run(fused: true), separate = try run(fused: false)
                XCTAssertEqual(fused.y, separate.y, "\(act) training \(training): values")
                XCTAssertEqual(fused.grads, separate.grads, "\(act) training \(training): gradients")
                XCTAssertTrue(fused.y.contains(0) || fused.y.contains { $0 < 0 }, "the activation's corner is exercised")
            }
        }
        XCTAssertThrowsError(try Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: nil, bias: nil,
                                                  training: true, activation: .leakyRelu(0))) {
            XCTAssertTrue("\($0)".contains("a fused leaky relu needs a positive slope"), "\($0)")
        }
    }

    /// BN with a fused residual addition (and activation): finite differences through all
    /// four inputs, and values and gradients bit-identical to BN, then add, then the activation.
    func testBatchNormWithFusedResidual() throws {
        let x = r([2, 3, 4, 5], 80), w = r([3], 81), b = r([3], 82), res = r([2, 3, 4, 5], 83)
        let rm = r([3], 84), rv = try r([3], 85).abs().adding(scalar: 0.5).detach()
        for act in [BatchNormActivation.none, .relu, .leakyRelu(0.1)] {
            for training in [true, false] {
                let stats = training ? (nil, nil) : (rm, rv)
                try KinkAwareGradCheck.check([x, w, b, res]) {
                    try Tensor.batchNorm($0[0], runningMean: stats.0, runningVar: stats.1, weight: $0[1], bias: $0[2],
                                         training: training, residual: $0[3], activation: act)
                }
                func run(fused: Bool) throws -> (y: [Float], grads: [[Float]]) {
                    for t in [x, w, b, res] { t.grad = nil; try t.requiresGrad(true) }
                    let y: Tensor
                    if fused {
                        y = try Tensor.batchNorm(x, runningMean: stats.0, runningVar: stats.1, weight: w, bias: b,
                                                 training: training, residual: res, activation: act)
                    } else {
                        let z = try Tensor.batchNorm(x, runningMean: stats.0, runningVar: stats.1, weight: w, bias: b,
                                                     training: training) + res
                        switch act {
                        case .none: y = z
                        case .relu: y = try z.relu()
                        case .leakyRelu(let s): y = try z.leakyRelu(s)
                        }
                    }
                    try (y * r(y.shape, 86)).sum().backward()
                    return (y.toArray(), [x, w, b, res].map { $0.grad!.toArray() })
                }
                let fused = try run(fused: true), separate = try run(fused: false)
                XCTAssertEqual(fused.y, separate.y, "\(act) training \(training): values")
                XCTAssertEqual(fused.grads, separate.grads, "\(act) training \(training): gradients")
            }
        }
        XCTAssertThrowsError(try Tensor.batchNorm(x, runningMean: nil, runningVar: nil, weight: nil, bias: nil,
                                                  training: true, residual: r([2, 3, 4, 4], 87))) {
            XCTAssertTrue("\($0)".contains("the residual must have the input's shape"), "\($0)")
        }
    }

    /// Inference keeps the prepared weights with the weight tensor: the second call reuses
    /// them (same bits), an in-place change of the weights makes new ones (the result follows
    /// the new weights), they count against the memory budget while they live, and none are
    /// kept where a tight budget has no room or the switch is off.
    func testFoldedConvolutionKeepsPreparedWeightsUntilTheWeightsChange() throws {
        try GradMode.disabled {
            // 8 input channels: 72 taps per output, above the few-tap path (`ConvKernels
            // .takesNarrowPath`), which reads the weights as they are and prepares none.
            let x = r([2, 8, 10, 10], 300), w = r([8, 8, 3, 3], 301)
            let mean = r([8], 302), variance = try r([8], 303).abs().adding(scalar: 0.5).detach()
            func folded() throws -> [Float] {
                try Tensor.conv2dBatchNorm(x, w, padding: (1, 1), runningMean: mean, runningVar: variance, gamma: nil, beta: nil,
                                           eps: 1e-5).toArray()
            }
            func separate() throws -> [Float] {
                try Tensor.batchNorm(Tensor.conv2d(x, w, padding: (1, 1)), runningMean: mean, runningVar: variance, weight: nil,
                                     bias: nil, training: false, eps: 1e-5).toArray()
            }
            let before = MemoryBudget.liveBytes
            let first = try folded()
            let held = MemoryBudget.liveBytes - before
            XCTAssertGreaterThan(held, 0, "prepared weights count against the budget")
            XCTAssertEqual(try folded(), first, "reused")
            XCTAssertEqual(MemoryBudget.liveBytes - before, held, "reused, not made again")
            XCTAssertEqual(first, try separate())
            try w.mulInPlace(-0.5)                            // in place: the version moves
            XCTAssertEqual(MemoryBudget.liveBytes - before, 0, "an in-place write drops the stale ones at once")
            let changed = try folded()
            XCTAssertEqual(changed, try separate(), "prepared again from the new weights")
            XCTAssertNotEqual(changed, first)
            XCTAssertEqual(MemoryBudget.liveBytes - before, held, "the stale ones were released")

            let savedSwitch = ConvPreparedWeights.reusedInInference
            ConvPreparedWeights.reusedInInference = false
            let w2 = r([8, 8, 3, 3], 304)
            let live = MemoryBudget.liveBytes
            _ = try Tensor.conv2dBatchNorm(x, w2, padding: (1, 1), runningMean: mean, runningVar: variance, gamma: nil, beta: nil, eps: 1e-5)
            XCTAssertEqual(MemoryBudget.liveBytes, live, "switched off: nothing kept")
            ConvPreparedWeights.reusedInInference = savedSwitch
        }
    }

    /// `conv2d` without a tape is inference too: it keeps prepared weights as the folded op
    /// does (and takes the same path per shape, see `ConvAlgorithm.winogradTile`'s
    /// `filtersPrepared`); with a tape it keeps none. The two agree within float32 rounding
    /// (Winograd at batch 1 here, direct with a tape: 16 tiles are too few per call).
    func testConvolutionWithoutATapeKeepsPreparedWeights() throws {
        let saved = (ConvAlgorithm.mode, StoragePool.capacityBytes)
        defer { (ConvAlgorithm.mode, StoragePool.capacityBytes) = saved }
        ConvAlgorithm.mode = .auto
        StoragePool.capacityBytes = 0      // every tensor its own exact allocation: budgets compare
        let x = r([1, 16, 16, 16], 310), w = try r([24, 16, 3, 3], 311).requiresGrad(true)
        let before = MemoryBudget.liveBytes
        let taped = try Tensor.conv2d(x, w, padding: (1, 1))
        let output = MemoryBudget.liveBytes - before          // with a tape: the output alone
        let s = ConvShape(n: 1, cin: 16, h: 16, w: 16, cout: 24, kh: 3, kw: 3, padH: 1, padW: 1)
        XCTAssertNil(ConvAlgorithm.winogradTile(for: s, pass: .forward))
        XCTAssertEqual(ConvAlgorithm.winogradTile(for: s, pass: .forward, filtersPrepared: true), .f4)
        try GradMode.disabled {
            let live = MemoryBudget.liveBytes
            let first = try Tensor.conv2d(x, w, padding: (1, 1))
            XCTAssertEqual(MemoryBudget.liveBytes - live - output, ConvPreparedWeights.bytes(for: s), "prepared weights kept and counted")
            XCTAssertEqual(try Tensor.conv2d(x, w, padding: (1, 1)).toArray(), first.toArray(), "reused")
            let a = first.toArray(), b = taped.toArray()
            let scale = b.map { abs($0) }.max()!
            for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * scale) }
            XCTAssertTrue(a != b, "Winograd against direct: not the same rounding")
        }
    }

    /// Inference's folded conv → BN → [+ residual] → [activation] against the separate ops, on
    /// the direct and the Winograd paths, with and without a conv bias: equal within float32
    /// rounding (relative to the largest output), and refused where a tape would record.
    func testConvBatchNormFoldedMatchesTheSeparateOps() throws {
        let saved = ConvAlgorithm.mode
        defer { ConvAlgorithm.mode = saved }
        var worst: Float = 0
        for mode in [ConvAlgorithm.direct, .winograd] {
            ConvAlgorithm.mode = mode
            // (cin, cout, size, kernel, stride, padding, dilation, groups): Winograd-eligible 3×3s (one
            // with 40-wide rows, full 16-tile runs), strided 1×1, pointwise, dilated, grouped.
            let cases = [(3, 5, 7, 3, 1, 1, 1, 1), (8, 16, 12, 3, 1, 1, 1, 1), (4, 6, 9, 1, 2, 0, 1, 1), (16, 24, 8, 3, 1, 1, 1, 1),
                         (6, 8, 40, 3, 1, 1, 1, 1), (5, 7, 9, 1, 1, 0, 1, 1), (4, 6, 11, 3, 1, 2, 2, 1), (4, 6, 10, 3, 1, 1, 1, 2)]
            for (index, (cin, cout, size, kernel, stride, pad, dil, groups)) in cases.enumerated() {
                let k = UInt64(index)
                let x = r([2, cin, size, size], 90 + k), w = r([cout, cin / groups, kernel, kernel], 100 + k)
                let gamma = r([cout], 110 + k), beta = r([cout], 120 + k), mean = r([cout], 130 + k)
                let variance = try r([cout], 140 + k).abs().adding(scalar: 0.3).detach()
                for bias in [nil, r([cout], 150 + k)] {
                    for act in [BatchNormActivation.none, .relu, .leakyRelu(0.1)] {
                        let y0 = try Tensor.conv2d(x, w, bias: bias, stride: (stride, stride), padding: (pad, pad),
                                                   dilation: (dil, dil), groups: groups)
                        let res = r(y0.shape, 160 + k)
                        for residual in [nil, res] {
                            var z = try Tensor.batchNorm(y0, runningMean: mean, runningVar: variance, weight: gamma, bias: beta,
                                                         training: false, eps: 1e-3)
                            if let residual { z = try z + residual }
                            switch act {
                            case .none: break
                            case .relu: z = try z.relu()
                            case .leakyRelu(let s): z = try z.leakyRelu(s)
                            }
                            let folded = try Tensor.conv2dBatchNorm(x, w, bias: bias, stride: (stride, stride), padding: (pad, pad),
                                                                    dilation: (dil, dil), groups: groups, runningMean: mean, runningVar: variance, gamma: gamma, beta: beta,
                                                                    eps: 1e-3, residual: residual, activation: act)
                            XCTAssertEqual(folded.shape, z.shape)
                            let a = folded.toArray(), e = z.toArray()
                            let scale = max(e.map { abs($0) }.max() ?? 1, 1e-6)
                            let err = zip(a, e).map { abs($0 - $1) }.max()! / scale
                            worst = max(worst, err)
                            let label = "\(mode) case \(k) bias \(bias != nil) \(act) residual \(residual != nil)"
                            if bias == nil {
                                XCTAssertEqual(a, e, "a bias-free convolution gives BN's own bits: \(label)")
                            } else {
                                XCTAssertLessThan(err, 2e-5, label)
                            }
                        }
                    }
                }
            }
        }
        print("folded conv + BN: worst error relative to the largest output \(worst) (bias-free cases exact)")
        try GradMode.disabled {
            XCTAssertThrowsError(try Tensor.conv2dBatchNorm(r([1, 2, 5, 5], 174), r([3, 2, 3, 3], 175), padding: (1, 1),
                                                            runningMean: r([3], 172), runningVar: r([3], 173), gamma: nil, beta: nil,
                                                            eps: 1e-5, activation: .leakyRelu(0))) {
                XCTAssertTrue("\($0)".contains("a fused leaky relu needs a positive slope"), "\($0)")
            }
        }
        let x = r([1, 2, 5, 5], 170), w = r([3, 2, 3, 3], 171)
        try w.requiresGrad(true)
        XCTAssertThrowsError(try Tensor.conv2dBatchNorm(x, w, padding: (1, 1), runningMean: r([3], 172), runningVar: r([3], 173),
                                                        gamma: nil, beta: nil, eps: 1e-5)) {
            XCTAssertTrue("\($0)".contains("has no backward"), "\($0)")
        }
        try GradMode.disabled {
            XCTAssertNoThrow(try Tensor.conv2dBatchNorm(x, w, padding: (1, 1), runningMean: r([3], 172), runningVar: r([3], 173),
                                                        gamma: nil, beta: nil, eps: 1e-5))
        }
    }
}
