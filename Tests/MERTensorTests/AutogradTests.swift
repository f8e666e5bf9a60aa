import XCTest
import MERTensor

final class AutogradTests: XCTestCase {
    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let x = try Tensor.from([1, 2], shape: [2]).requiresGrad(true)
        try (x * 3).sum().backward()
        try (x * 3).sum().backward()
        XCTAssertEqual(x.grad?.toArray(), [6, 6])
        x.grad = nil
        try x.square().sum().backward()
        XCTAssertEqual(x.grad?.toArray(), [2, 4])
    }

    /// The tape holds what the pullbacks saved, not every intermediate: x·2 feeds a sum, whose
    /// backward needs only the shape, so its buffer is freed before backward runs (a step's
    /// activations that nothing saved do not stay alive until backward), and the gradients
    /// still arrive.
    func testIntermediatesNothingSavedAreFreedBeforeBackward() throws {
        let x = try Tensor.from([1, 2, 3], shape: [3]).requiresGrad(true)
        weak var freed: Storage?, kept: Storage?
        let loss: Tensor = try {
            let a = try x * 2          // saved by nothing: sum's backward needs the shape only
            let b = try a.exp()        // exp's backward keeps its output
            freed = a.storage; kept = b.storage
            return try b.sum()
        }()
        XCTAssertNil(freed, "an intermediate no pullback saved is freed")
        XCTAssertNotNil(kept, "a tensor a pullback saved stays until backward")
        try loss.backward()
        let e: [Float] = [1, 2, 3].map { 2 * Float(exp(2 * Double($0))) }
        for (g, w) in zip(x.grad!.toArray(), e) { XCTAssertEqual(g, w, accuracy: w * 1e-6) }
    }

    func testNoGradRecordsNothingAndDetachCutsTheGraph() throws {
        let x = try Tensor.ones([2]).requiresGrad(true)
        let y = try GradMode.disabled { try x * 2 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradFn)
        XCTAssertThrowsError(try y.sum().backward()) { XCTAssertTrue("\($0)".contains("does not require grad")) }
        let z = try (x.detach() * 2 + x).sum()
        try z.backward()
        XCTAssertEqual(x.grad?.toArray(), [1, 1])
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testSecondBackwardThroughReleasedGraphIsAnError() throws {
        let x = try Tensor.ones([2]).requiresGrad(true)
        let loss = try x.exp().sum()
        try loss.backward()
        XCTAssertThrowsError(try loss.backward()) { XCTAssertTrue("\($0)".contains("already released")) }
        let kept = try x.exp().sum()
        try kept.backward(retainGraph: true)
        try kept.backward()
    }

    func testBackwardNeedsScalarOrExplicitGradient() throws {
        let x = try Tensor.ones([3]).requiresGrad(true)
        let y = try x * 2
        XCTAssertThrowsError(try y.backward()) { XCTAssertTrue("\($0)".contains("single-element")) }
        try y.backward(try Tensor.from([1, 2, 3], shape: [3]))
        XCTAssertEqual(x.grad?.toArray(), [2, 4, 6])
        XCTAssertThrowsError(try y.backward(try Tensor.ones([2])))
    }

    func testRequiresGradOnlyOnLeaves() throws {
        let x = try Tensor.ones([2]).requiresGrad(true)
        XCTAssertThrowsError(try (x * 2).requiresGrad(false)) { XCTAssertTrue("\($0)".contains("leaf")) }
    }

    func testGradientFlowsThroughViewsToTheRightElements() throws {
        let x = try Tensor.zeros([2, 3]).requiresGrad(true)
        try (x.select(0, 1).narrow(0, 1, 2) * 5).sum().backward()
        XCTAssertEqual(x.grad?.toArray(), [0, 0, 0, 0, 5, 5])
    }

    func testDeepChainDoesNotOverflowTheStack() throws {
        let x = try Tensor.ones([1]).requiresGrad(true)
        var y = x
        for _ in 0..<20000 { y = try y.adding(scalar: 0) }
        try y.sum().backward()
        XCTAssertEqual(x.grad?.toArray(), [1])
    }
}

final class InPlaceTests: XCTestCase {
    func testInPlaceUpdatesWriteThroughViews() throws {
        let x = try Tensor.zeros([2, 3])
        try x.select(0, 1).fill(2)
        try x.addInPlace(try Tensor.from([1, 2, 3], shape: [3]), alpha: 2)
        try x.mulInPlace(0.5)
        XCTAssertEqual(x.toArray(), [1, 2, 3, 2, 3, 4])
        try x.transpose(0, 1).copy(from: try Tensor.arange(0, 6).reshape([3, 2]))
        XCTAssertEqual(x.toArray(), [0, 2, 4, 1, 3, 5])
        XCTAssertThrowsError(try x.addInPlace(try Tensor.zeros([4])))
    }

    func testInPlaceOnATensorRequiringGradIsRefusedWhileRecording() throws {
        let w = try Tensor.ones([2]).requiresGrad(true)
        XCTAssertThrowsError(try w.mulInPlace(2)) { XCTAssertTrue("\($0)".contains("requires grad")) }
        try GradMode.disabled { try w.addInPlace(1) } // the optimiser's path
        XCTAssertEqual(w.toArray(), [2, 2])
    }

    func testModifyingASavedTensorBeforeBackwardIsDetected() throws {
        let w = try Tensor.ones([2]).requiresGrad(true)
        let x = try Tensor.from([1, 2], shape: [2])
        let loss = try (w * x).sum()
        try x.mulInPlace(10)
        XCTAssertThrowsError(try loss.backward()) { XCTAssertTrue("\($0)".contains("modified in place")) }
    }
}
