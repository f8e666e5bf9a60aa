import XCTest
import Foundation
import MERTensor
import MERNN

/// Optimiser updates against straightforward Double re-implementations of PyTorch's
/// torch/optim/adam.py and sgd.py written here, and schedules against their closed forms.
final class OptimizerTests: XCTestCase {
    /// Deterministic values in about [−1, 1] (no engine code involved).
    func values(_ n: Int, seed: Int) -> [Float] {
        (0..<n).map { i in Float(Foundation.sin(Double(i * 7 + seed * 13) * 0.731 + Double(seed))) }
    }

    func assertClose(_ a: [Float], _ b: [Double], rtol: Double = 2e-6, atol: Double = 1e-7, _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        var worst = 0.0, at = -1
        for (i, (x, y)) in zip(a, b).enumerated() {
            let err = Swift.abs(Double(x) - y) / (atol + rtol * Swift.abs(y))
            if err > worst { worst = err; at = i }
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(what): element \(at): \(at >= 0 ? a[at] : 0) vs \(at >= 0 ? b[at] : 0)",
                                 file: file, line: line)
    }

    // MARK: Reference implementations (Double)

    struct RefAdam {
        var p: [Double]
        var m: [Double], v: [Double]
        var t = 0
        let lr, b1, b2, eps, wd: Double
        let decoupled: Bool
        init(_ p: [Float], lr: Double, b1: Double = 0.9, b2: Double = 0.999, eps: Double = 1e-8, wd: Double, decoupled: Bool) {
            self.p = p.map(Double.init); m = Array(repeating: 0, count: p.count); v = m
            self.lr = lr; self.b1 = b1; self.b2 = b2; self.eps = eps; self.wd = wd; self.decoupled = decoupled
        }
        mutating func step(_ grad: [Float]) {
            t += 1
            for i in p.indices {
                var g = Double(grad[i])
                if decoupled { p[i] *= 1 - lr * wd } else if wd != 0 { g += wd * p[i] }
                m[i] += (g - m[i]) * (1 - b1)
                v[i] = b2 * v[i] + (1 - b2) * g * g
                let bc1 = 1 - Foundation.pow(b1, Double(t)), bc2 = 1 - Foundation.pow(b2, Double(t))
                let stepSize = lr / bc1
                let denom = v[i].squareRoot() / bc2.squareRoot() + eps
                p[i] += -stepSize * m[i] / denom
            }
        }
    }

    struct RefSGD {
        var p: [Double]
        var buf: [Double]?
        let lr, mu, damp, wd: Double
        let nesterov: Bool
        mutating func step(_ grad: [Float]) {
            for i in p.indices {
                var g = Double(grad[i])
                if wd != 0 { g += wd * p[i] }
                if mu != 0 {
                    if buf == nil { buf = Array(repeating: 0, count: p.count) }
                    buf![i] = t == 0 ? g : mu * buf![i] + (1 - damp) * g
                    g = nesterov ? g + mu * buf![i] : buf![i]
                }
                p[i] -= lr * g
            }
            if p.count > 0 { t += 1 }
        }
        var t = 0
    }

    // MARK: Adam / AdamW

    func runAdam(count: Int, wd: Double, decoupled: Bool, steps: Int = 5, file: StaticString = #filePath, line: UInt = #line) throws {
        let p0 = values(count, seed: 1)
        let p = try Tensor.from(p0, shape: [count]).requiresGrad(true)
        let opt: Adam = decoupled ? try AdamW([p], lr: 0.01, weightDecay: wd) : try Adam([p], lr: 0.01, weightDecay: wd)
        var ref = RefAdam(p0, lr: 0.01, wd: wd, decoupled: decoupled)
        for s in 0..<steps {
            // Gradients of varied magnitudes, including some tiny ones.
            let g = values(count, seed: 10 + s).enumerated().map { $0.element * ($0.offset % 5 == 0 ? 1e-3 : 1) }
            p.grad = try Tensor.from(g)
            try opt.step()
            ref.step(g)
            assertClose(p.toArray(), ref.p, "\(opt.name) wd=\(wd) n=\(count) step \(s + 1)", file: file, line: line)
        }
        XCTAssertEqual(opt.stepCount, steps)
        let state = Dictionary(try opt.state().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        assertClose(state["0.exp_avg"]!.toArray(), ref.m, "exp_avg", file: file, line: line)
        assertClose(state["0.exp_avg_sq"]!.toArray(), ref.v, rtol: 2e-5, atol: 1e-12, "exp_avg_sq", file: file, line: line)
        XCTAssertEqual(try state["0.step"]!.item(), Float(steps))
    }

    func testAdam() throws {
        try runAdam(count: 37, wd: 0, decoupled: false)
        try runAdam(count: 37, wd: 0.1, decoupled: false)
    }

    func testAdamW() throws {
        try runAdam(count: 37, wd: 0.01, decoupled: true)
        try runAdam(count: 37, wd: 0.5, decoupled: true)
    }

    /// Large enough to be split over threads; every element still follows the rule.
    func testAdamLargeTensorParallelPath() throws {
        try runAdam(count: 100_003, wd: 0.05, decoupled: true, steps: 3)
    }

    /// The vector body, the scalar tail and the threaded split perform the same float
    /// operations: an element's result does not depend on where it sits.
    func testVectorScalarAndThreadedPathsAgreeBitwise() throws {
        for make in [{ try Adam([$0], lr: 0.01, weightDecay: 0.1) }, { try AdamW([$0], lr: 0.01, weightDecay: 0.1) },
                     { try SGD([$0], lr: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true) }] as [(Tensor) throws -> Optimizer] {
            let big = try Tensor.from(values(100_003, seed: 8)).requiresGrad(true)
            let small = try Tensor.from(Array(big.toArray()[..<37])).requiresGrad(true)
            let a = try make(big), b = try make(small)
            for s in 0..<3 {
                let g = values(100_003, seed: 40 + s)
                big.grad = try Tensor.from(g); small.grad = try Tensor.from(Array(g[..<37]))
                try a.step(); try b.step()
            }
            XCTAssertEqual(Array(big.toArray()[..<37]).map(\.bitPattern), small.toArray().map(\.bitPattern), a.name)
        }
    }

    // MARK: SGD

    func runSGD(count: Int = 37, momentum: Double, dampening: Double = 0, wd: Double, nesterov: Bool,
                file: StaticString = #filePath, line: UInt = #line) throws {
        let p0 = values(count, seed: 2)
        let p = try Tensor.from(p0, shape: [count]).requiresGrad(true)
        let opt = try SGD([p], lr: 0.05, momentum: momentum, dampening: dampening, weightDecay: wd, nesterov: nesterov)
        var ref = RefSGD(p: p0.map(Double.init), lr: 0.05, mu: momentum, damp: dampening, wd: wd, nesterov: nesterov)
        for s in 0..<4 {
            let g = values(count, seed: 20 + s)
            p.grad = try Tensor.from(g)
            try opt.step()
            ref.step(g)
            assertClose(p.toArray(), ref.p, "SGD μ=\(momentum) d=\(dampening) wd=\(wd) nesterov=\(nesterov) step \(s + 1)",
                        file: file, line: line)
        }
        let names = try opt.state().map { $0.name }
        XCTAssertEqual(names.contains("0.momentum_buffer"), momentum != 0, "\(names)")
    }

    func testSGD() throws {
        try runSGD(momentum: 0, wd: 0, nesterov: false)
        try runSGD(momentum: 0, wd: 0.1, nesterov: false)
        try runSGD(momentum: 0.9, wd: 0, nesterov: false)
        try runSGD(momentum: 0.9, dampening: 0.3, wd: 0.01, nesterov: false)
        try runSGD(momentum: 0.8, wd: 0.05, nesterov: true)
        try runSGD(count: 70_001, momentum: 0.9, wd: 0.05, nesterov: true)
    }

    func testSGDPlainIsPMinusLrG() throws {
        let p = try Tensor.from([1, 2, 3]).requiresGrad(true)
        let opt = try SGD([p], lr: 0.5)
        p.grad = try Tensor.from([2, -2, 0.5])
        try opt.step()
        XCTAssertEqual(p.toArray(), [0, 3, 2.75])
    }

    // MARK: Behaviour

    func testParametersWithoutGradAreSkippedAndKeepTheirOwnStepCount() throws {
        let a = try Tensor.from([1, 2]).requiresGrad(true)
        let b = try Tensor.from([3, 4]).requiresGrad(true)
        let opt = try Adam([a, b], lr: 0.1)
        a.grad = try Tensor.from([1, 1])
        try opt.step()
        XCTAssertEqual(b.toArray(), [3, 4], "b had no gradient")
        XCTAssertFalse(try opt.state().contains { $0.name.hasPrefix("1.") }, "no state for b yet")
        // b's first update uses t = 1 (bias corrections of a first step): Adam's first step
        // moves every element by lr·sign(g) (up to eps).
        opt.zeroGrad()
        XCTAssertNil(a.grad)
        b.grad = try Tensor.from([0.5, -2])
        try opt.step()
        XCTAssertEqual(b.toArray()[0], 2.9, accuracy: 1e-6)
        XCTAssertEqual(b.toArray()[1], 4.1, accuracy: 1e-6)
        let state = Dictionary(try opt.state().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(try state["0.step"]!.item(), 1)
        XCTAssertEqual(try state["1.step"]!.item(), 1)
        XCTAssertEqual(try state["step"]!.item(), 2)
    }

    func testStepBumpsVersionSoStaleGraphsFail() throws {
        let p = try Tensor.from([1, 2, 3]).requiresGrad(true)
        let opt = try SGD([p], lr: 0.1)
        let y = try (p * p).sum()
        p.grad = try Tensor.from([1, 1, 1])
        try opt.step()
        XCTAssertThrowsError(try y.backward()) { e in
            XCTAssertTrue("\(e)".contains("modified in place"), "\(e)")
        }
    }

    func testTrainsOnAQuadratic() throws {
        let p = try Tensor.from([3, -2]).requiresGrad(true)
        let opt = try Adam([p], lr: 0.1)
        for _ in 0..<300 {
            opt.zeroGrad()
            try p.square().sum().backward()
            try opt.step()
        }
        XCTAssertLessThan(p.toArray().map { Swift.abs($0) }.max()!, 0.05)
    }

    func testStateRoundTripResumesIdentically() throws {
        for make in [{ try Adam($0, lr: 0.02, weightDecay: 0.1) },
                     { try AdamW($0, lr: 0.02) },
                     { try SGD($0, lr: 0.1, momentum: 0.9, nesterov: true) }] as [([Tensor]) throws -> Optimizer] {
            let p = try Tensor.from(values(20, seed: 5), shape: [4, 5]).requiresGrad(true)
            let q = try Tensor.from([0.5, -0.5]).requiresGrad(true)
            let opt = try make([p, q])
            for s in 0..<3 {
                p.grad = try Tensor.from(values(20, seed: 30 + s), shape: [4, 5])
                q.grad = s == 0 ? nil : try Tensor.from([1, -0.25])
                try opt.step()
            }
            // A second optimiser on copies of the parameters, resumed from the state.
            let p2 = try Tensor.from(p.toArray(), shape: [4, 5]).requiresGrad(true)
            let q2 = try Tensor.from(q.toArray()).requiresGrad(true)
            let resumed = try make([p2, q2])
            opt.lr = 0.015
            try resumed.loadState(opt.state(), exactLr: opt.lr)
            XCTAssertEqual(resumed.stepCount, 3)
            XCTAssertEqual(resumed.lr, 0.015)
            for s in 3..<6 {
                let g = try Tensor.from(values(20, seed: 30 + s), shape: [4, 5])
                p.grad = g; p2.grad = g
                q.grad = try Tensor.from([0.1, 0.2]); q2.grad = try Tensor.from([0.1, 0.2])
                try opt.step(); try resumed.step()
            }
            XCTAssertEqual(p.toArray(), p2.toArray(), opt.name)
            XCTAssertEqual(q.toArray(), q2.toArray(), opt.name)
        }
    }

    func testLoadStateReportsEveryProblem() throws {
        let p = try Tensor.zeros([2, 3]).requiresGrad(true)
        let opt = try Adam([p])
        let bad: [(name: String, tensor: Tensor)] = [
            ("0.exp_avg", try Tensor.zeros([3, 2])), ("0.exp_avg_sq", try Tensor.zeros([2, 3])), ("0.step", try .scalar(1)),
            ("5.exp_avg", try Tensor.zeros([2, 3])), ("0.bogus", try .scalar(0)),
        ]
        XCTAssertThrowsError(try opt.loadState(bad, source: "ckpt.safetensors")) { e in
            let m = "\(e)"
            XCTAssertTrue(m.hasPrefix("Adam.load_state: 4 problems loading ckpt.safetensors:"), m)
            XCTAssertTrue(m.contains("0.exp_avg: shape [3, 2] in ckpt.safetensors, parameter 0 has shape [2, 3]"), m)
            XCTAssertTrue(m.contains("5.exp_avg: parameter index 5 out of range (the optimizer has 1 parameters)"), m)
            XCTAssertTrue(m.contains("unexpected 0.bogus"), m)
            XCTAssertTrue(m.contains("missing step"), m)
        }
        XCTAssertEqual(opt.stepCount, 0)
        XCTAssertTrue(try opt.state().count == 2, "nothing was installed")
    }

    func testValidation() throws {
        let p = try! Tensor.zeros([2]).requiresGrad(true)
        XCTAssertThrowsError(try Adam([p], lr: -1))
        XCTAssertThrowsError(try Adam([p], betas: (1.0, 0.999)))
        XCTAssertThrowsError(try Adam([p, p]))
        XCTAssertThrowsError(try SGD([p], lr: 0.1, momentum: 0, nesterov: true))
        XCTAssertThrowsError(try SGD([], lr: 0.1))
        let opt = try! SGD([p], lr: 0.1)
        p.grad = try Tensor.from([1, 2, 3])
        XCTAssertThrowsError(try opt.step()) { e in
            XCTAssertEqual("\(e)", "SGD.step: gradient of parameter 0 has shape [3], the parameter [2]")
        }
    }

    // MARK: Schedules

    func testStepLR() throws {
        let opt = try SGD([try Tensor.zeros([1]).requiresGrad(true)], lr: 0.1)
        let s = try StepLR(opt, stepSize: 3, gamma: 0.5)
        var seen: [Double] = [opt.lr]
        for _ in 0..<9 { s.step(); seen.append(opt.lr) }
        let want = (0...9).map { 0.1 * Foundation.pow(0.5, Double($0 / 3)) }
        XCTAssertEqual(seen, want)
        XCTAssertEqual(seen[2], 0.1); XCTAssertEqual(seen[3], 0.05); XCTAssertEqual(seen[9], 0.0125)
        s.epoch = 4
        XCTAssertEqual(opt.lr, 0.05)
    }

    func testCosineLR() throws {
        let opt = try Adam([try Tensor.zeros([1]).requiresGrad(true)], lr: 0.1)
        let s = try CosineLR(opt, tMax: 10, etaMin: 0.001)
        XCTAssertEqual(opt.lr, 0.1, accuracy: 1e-15)
        var seen: [Double] = [opt.lr]
        for _ in 0..<10 { s.step(); seen.append(opt.lr) }
        for (e, lr) in seen.enumerated() {
            XCTAssertEqual(lr, 0.001 + (0.1 - 0.001) * (1 + Foundation.cos(Double.pi * Double(e) / 10)) / 2, accuracy: 1e-15)
        }
        XCTAssertEqual(seen[5], (0.1 + 0.001) / 2, accuracy: 1e-15)
        XCTAssertEqual(seen[10], 0.001, accuracy: 1e-15)
        XCTAssertTrue(zip(seen, seen.dropFirst()).allSatisfy { $0 > $1 }, "decreasing up to T_max")
        XCTAssertThrowsError(try CosineLR(opt, tMax: 0))
        XCTAssertThrowsError(try StepLR(opt, stepSize: 0))
    }
}
