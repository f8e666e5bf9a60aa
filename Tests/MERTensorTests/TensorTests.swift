import XCTest
import MERKernels
import MERTensor

/// Hand-computed small cases for creation, views, arithmetic and broadcasting.
final class TensorTests: XCTestCase {
    func t(_ v: [Float], _ s: [Int]) -> Tensor { try! Tensor.from(v, shape: s) }

    func testCreation() throws {
        XCTAssertEqual(try Tensor.zeros([2, 3]).toArray(), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(try Tensor.ones([2]).toArray(), [1, 1])
        XCTAssertEqual(try Tensor.full([1, 2], 7).toArray(), [7, 7])
        XCTAssertEqual(try Tensor.arange(0, 5).toArray(), [0, 1, 2, 3, 4])
        XCTAssertEqual(try Tensor.arange(1, 2, step: 0.25).toArray(), [1, 1.25, 1.5, 1.75])
        XCTAssertEqual(try Tensor.zeros([0, 3]).count, 0)
        XCTAssertEqual(try Tensor.scalar(3).shape, [])
        XCTAssertEqual(try Tensor.scalar(3).item(), 3)
    }

    func testSameSeedSameNumbersDifferentSeedDifferentNumbers() throws {
        let a = try Tensor.randn([100], generator: Generator(seed: 1)).toArray()
        let b = try Tensor.randn([100], generator: Generator(seed: 1)).toArray()
        let c = try Tensor.randn([100], generator: Generator(seed: 2)).toArray()
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        Generator.seed(5); let u1 = try Tensor.rand([10]).toArray()
        Generator.seed(5); let u2 = try Tensor.rand([10]).toArray()
        XCTAssertEqual(u1, u2)
        XCTAssertTrue(u1.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    func testRandnHasUnitMoments() throws {
        let x = try Tensor.randn([20000], generator: Generator(seed: 3)).toArray().map(Double.init)
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
        XCTAssertEqual(mean, 0, accuracy: 0.03)
        XCTAssertEqual(variance, 1, accuracy: 0.05)
    }

    func testViewsShareStorageAndIndexCorrectly() throws {
        let x = try Tensor.arange(0, 24).reshape([2, 3, 4])
        XCTAssertEqual(try x.value(at: [1, 2, 3]), 23)
        let p = try x.permute([2, 0, 1])
        XCTAssertEqual(p.shape, [4, 2, 3])
        XCTAssertEqual(try p.value(at: [3, 1, 2]), 23)
        XCTAssertEqual(try p.value(at: [1, 0, 2]), 9)
        XCTAssertFalse(p.isContiguous)
        XCTAssertEqual(try x.transpose(0, 1).contiguous().toArray()[0..<8], [0, 1, 2, 3, 12, 13, 14, 15])
        XCTAssertEqual(try x.narrow(2, 1, 2).toArray(), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        XCTAssertEqual(try x.select(1, 1).toArray(), [4, 5, 6, 7, 16, 17, 18, 19])
        XCTAssertEqual(try x.reshape([-1, 6]).shape, [4, 6])
        XCTAssertTrue(try x.reshape([6, 4]).storage === x.storage)
        // reshape of a non-contiguous view copies; view refuses.
        XCTAssertEqual(try p.reshape([24]).toArray()[0..<4], [0, 4, 8, 12])
        XCTAssertThrowsError(try p.view([24]))
        XCTAssertEqual(try t([1, 2, 3], [3, 1]).expand([3, 2]).toArray(), [1, 1, 2, 2, 3, 3])
    }

    func testArithmeticByHand() throws {
        let a = t([1, 2, 3, 4], [2, 2]), b = t([10, 20], [2])
        XCTAssertEqual(try (a + b).toArray(), [11, 22, 13, 24])
        XCTAssertEqual(try (a - b).toArray(), [-9, -18, -7, -16])
        XCTAssertEqual(try (a * b).toArray(), [10, 40, 30, 80])
        XCTAssertEqual(try (b / a).toArray(), [10, 10, 10 / 3, 5])
        XCTAssertEqual(try (a * 2 + 1).toArray(), [3, 5, 7, 9])
        XCTAssertEqual(try (1 - a).toArray(), [0, -1, -2, -3])
        XCTAssertEqual(try (12 / a).toArray(), [12, 6, 4, 3])
        XCTAssertEqual(try a.pow(2).toArray(), [1, 4, 9, 16])
        XCTAssertEqual(try a.clamp(2, 3).toArray(), [2, 2, 3, 3])
        XCTAssertEqual(try t([-1, 0, 2], [3]).relu().toArray(), [0, 0, 2])
        XCTAssertEqual(try t([-2, 4], [2]).leakyRelu(0.1).toArray(), [-0.2, 4])
        XCTAssertEqual(try t([0], [1]).sigmoid().toArray(), [0.5])
        XCTAssertEqual(try a.gt(t([2, 2], [2])).toArray(), [0, 0, 1, 1])
        XCTAssertEqual(try a.le(2).toArray(), [1, 1, 0, 0])
        XCTAssertEqual(try a.maximum(t([2.5], [1])).toArray(), [2.5, 2.5, 3, 4])
    }

    func testBroadcastingEdgeCases() throws {
        // Column against row gives the outer sum.
        XCTAssertEqual(try (t([1, 2, 3], [3, 1]) + t([10, 20], [1, 2])).toArray(), [11, 21, 12, 22, 13, 23])
        // A 0-d tensor broadcasts to anything.
        XCTAssertEqual(try (Tensor.scalar(1) + t([1, 2], [2])).toArray(), [2, 3])
        // Leading dimensions are added on the left.
        XCTAssertEqual(try (t([1, 2], [2]) + Tensor.zeros([2, 1, 2])).shape, [2, 1, 2])
        // Zero-size dimensions broadcast to zero-size results.
        XCTAssertEqual(try (Tensor.zeros([0, 3]) + t([1, 2, 3], [3])).shape, [0, 3])
        XCTAssertEqual(try (Tensor.zeros([1, 3]) + Tensor.zeros([0, 1])).shape, [0, 3])
        // Mismatch is an error naming both shapes and the dimension.
        XCTAssertThrowsError(try t([1, 2, 3], [3]) + t([1, 2], [2])) { error in
            XCTAssertEqual("\(error)", "add: shapes [3] and [2] cannot be broadcast (dimension 1: 3 vs 2)")
        }
        // Broadcast operands that are themselves strided views.
        let x = try Tensor.arange(0, 6).reshape([2, 3]).transpose(0, 1) // [[0,3],[1,4],[2,5]]
        XCTAssertEqual(try (x + t([100, 200], [2])).toArray(), [100, 203, 101, 204, 102, 205])
    }

    func testBroadcastGradientsSumOverExpandedDimensions() throws {
        let a = try Tensor.ones([3, 1]).requiresGrad(true)
        let b = try Tensor.ones([4]).requiresGrad(true)
        try (a * b).sum().backward()
        XCTAssertEqual(a.grad?.toArray(), [4, 4, 4])
        XCTAssertEqual(a.grad?.shape, [3, 1])
        XCTAssertEqual(b.grad?.toArray(), [3, 3, 3, 3])
    }

    func testReductionsByHand() throws {
        let x = t([1, 5, 3, 4, 2, 6], [2, 3])
        XCTAssertEqual(try x.sum().item(), 21)
        XCTAssertEqual(try x.sum(dim: 0).toArray(), [5, 7, 9])
        XCTAssertEqual(try x.sum(dim: 1, keepDim: true).shape, [2, 1])
        XCTAssertEqual(try x.mean(dim: 1).toArray(), [3, 4])
        let (v, i) = try x.max(dim: 1)
        XCTAssertEqual(v.toArray(), [5, 6])
        XCTAssertEqual(i.toArray(), [1, 2])
        XCTAssertEqual(try x.argmax(dim: 0).toArray(), [1, 0, 1])
        XCTAssertEqual(try x.min().item(), 1)
        let s = try t([0, 0, log(3)], [3]).softmax(dim: 0).toArray()
        XCTAssertEqual(s[0], 0.2, accuracy: 1e-6); XCTAssertEqual(s[2], 0.6, accuracy: 1e-6)
        let ls = try t([1000, 1000], [2]).logSoftmax(dim: 0).toArray()
        XCTAssertEqual(ls[0], -log(2), accuracy: 1e-6) // no overflow: the max is subtracted first
        XCTAssertEqual(try Tensor.stack([t([1, 2], [2]), t([3, 4], [2])], dim: 1).toArray(), [1, 3, 2, 4])
        XCTAssertEqual(try Tensor.cat([t([1], [1, 1]), t([2, 3], [1, 2])], dim: 1).toArray(), [1, 2, 3])
    }

    func testNaNAndInfinityFollowIEEE() throws {
        let x = t([1, .nan, 3], [3])
        XCTAssertTrue(try x.max().item().isNaN, "max propagates NaN as PyTorch does")
        XCTAssertTrue(try x.sum().item().isNaN)
        XCTAssertEqual(try t([1, 0], [2]).rdiv(1).toArray(), [1, .infinity])
        XCTAssertTrue(try x.relu().toArray()[1].isNaN)
        XCTAssertEqual(try t([-.infinity, 0], [2]).exp().toArray(), [0, 1])
    }

    /// Contiguous operands collapse to one row, which long elementwise ops cut between the
    /// threads (`Strided.forEachRow`, freshOutput) at multiples of 16 elements: results must
    /// not depend on the thread count. NaNs reach relu's gradient, whose scalar and vector
    /// forms differ on a NaN output (0 against the incoming gradient), so a cut that moved an
    /// element between the kernel's vector body and its scalar tail would show.
    func testLongContiguousElementwiseOpsDoNotDependOnThreads() throws {
        let n = 100_003
        var xs = (0..<n).map { Float(sin(Double($0) * 0.37)) }
        for i in stride(from: 5, to: n, by: 97) { xs[i] = .nan }
        for i in 49_990..<50_020 { xs[i] = .nan }   // around the middle, where two threads cut
        let ys = (0..<n).map { Float(cos(Double($0) * 0.11)) }
        func run(_ threads: Int) throws -> [[Float]] {
            let saved = Parallel.threads
            Parallel.threads = threads
            defer { Parallel.threads = saved }
            let x = try Tensor.from(xs, shape: [n]).requiresGrad(true), y = try Tensor.from(ys, shape: [n])
            let r = try x.relu()
            try r.mul(y).sum().backward()
            return [try x.add(y).toArray(), try x.mul(y).toArray(), try x.sigmoid().toArray(), r.toArray(),
                    x.grad!.toArray()]
        }
        let one = try run(1), two = try run(2)
        for (k, (a, b)) in zip(one, two).enumerated() {
            XCTAssertEqual(a.count, b.count)
            if let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) {
                XCTFail("result \(k): element \(i) is \(a[i]) on 1 thread, \(b[i]) on 2")
            }
        }
        let grad = one[4]
        XCTAssertEqual(grad[n - 1], xs[n - 1] > 0 ? ys[n - 1] : 0)
        XCTAssertEqual(grad[n - 2], xs[n - 2] > 0 ? ys[n - 2] : 0)
    }

    func testMatmulByHand() throws {
        let a = t([1, 2, 3, 4, 5, 6], [2, 3]), b = t([7, 8, 9, 10, 11, 12], [3, 2])
        XCTAssertEqual(try a.matmul(b).toArray(), [58, 64, 139, 154])
        XCTAssertEqual(try a.transpose(0, 1).transpose(0, 1).matmul(b).toArray(), [58, 64, 139, 154])
        XCTAssertEqual(try b.transpose(0, 1).matmul(a.transpose(0, 1)).toArray(), [58, 139, 64, 154])
        XCTAssertEqual(try a.matmul(t([1, 1, 1], [3])).toArray(), [6, 15])
        let batched = try Tensor.stack([a, a.multiplied(by: 2)]).matmul(b)
        XCTAssertEqual(batched.shape, [2, 2, 2])
        XCTAssertEqual(batched.toArray(), [58, 64, 139, 154, 116, 128, 278, 308])
        XCTAssertThrowsError(try a.matmul(a)) { XCTAssertTrue("\($0)".contains("inner sizes differ")) }
    }

    func testFormatting() throws {
        XCTAssertEqual("\(t([1, 2.5, 3, 4], [2, 2]))", "[[     1 2.5000]\n [     3      4]]\ntensor of shape [2, 2]")
        let big = try Tensor.ones([50, 50])
        XCTAssertEqual("\(big)", "tensor of shape [50, 50], 2500 elements: min 1, max 1, mean 1, std 0")
    }
}
