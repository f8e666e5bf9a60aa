import XCTest
import MERTensor
import MERTestSupport

/// Every differentiable op's backward against central differences.
final class GradCheckTests: XCTestCase {
    func r(_ shape: [Int], _ seed: UInt64, away: Float = 0) -> Tensor {
        GradCheck.input(shape, seed: seed, awayFromZero: away)
    }

    func testBroadcastArithmetic() throws {
        // Odd sizes and every broadcasting pattern: trailing, leading, size-1 in the middle, scalar.
        let pairs: [([Int], [Int])] = [([3, 5], [3, 5]), ([3, 1], [1, 5]), ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([], [2, 3]), ([7], [])]
        for (i, (sa, sb)) in pairs.enumerated() {
            let a = r(sa, UInt64(i)), b = r(sb, UInt64(i + 100), away: 0.5)
            try GradCheck.check([a, b]) { try $0[0] + $0[1] }
            try GradCheck.check([a, b]) { try $0[0] - $0[1] }
            try GradCheck.check([a, b]) { try $0[0] * $0[1] }
            try GradCheck.check([a, b]) { try $0[0] / $0[1] }
        }
    }

    func testPowWithTensorExponent() throws {
        let a = try r([3, 4], 1).abs().adding(scalar: 0.5).detach(), b = r([4], 2)
        try GradCheck.check([a, b]) { try $0[0].pow($0[1]) }
    }

    func testMaximumMinimum() throws {
        // b sits halfway between a's grid values, so ±eps never straddles a tie.
        let a = GradCheck.distinct([4, 5], seed: 3), b = try GradCheck.distinct([5], seed: 4).adding(scalar: 0.05).detach()
        try GradCheck.check([a, b]) { try $0[0].maximum($0[1]) }
        try GradCheck.check([a, b]) { try $0[0].minimum($0[1]) }
    }

    func testUnaryFunctions() throws {
        let x = r([3, 7], 5, away: 0.05)
        let positive = try x.abs().adding(scalar: 0.2).detach()
        try GradCheck.check([x]) { try $0[0].neg() }
        try GradCheck.check([x]) { try $0[0].exp() }
        try GradCheck.check([positive]) { try $0[0].log() }
        try GradCheck.check([positive]) { try $0[0].sqrt() }
        try GradCheck.check([x]) { try $0[0].square() }
        try GradCheck.check([x]) { try $0[0].abs() }
        try GradCheck.check([x]) { try $0[0].relu() }
        try GradCheck.check([x]) { try $0[0].leakyRelu(0.1) }
        try GradCheck.check([x]) { try $0[0].sigmoid() }
        try GradCheck.check([x]) { try $0[0].tanh() }
        try GradCheck.check([positive]) { try $0[0].pow(1.7) }
        try GradCheck.check([x]) { try $0[0].adding(scalar: 3) }
        try GradCheck.check([x]) { try $0[0].multiplied(by: -2.5) }
        try GradCheck.check([x]) { try $0[0].rsub(1) }
        try GradCheck.check([positive]) { try $0[0].rdiv(2) }
        try GradCheck.check([x]) { try $0[0].clamp(-0.5, 0.7) }
    }

    func testReductions() throws {
        let x = r([3, 4, 5], 6)
        try GradCheck.check([x]) { try $0[0].sum() }
        for d in [0, 1, 2, -1] {
            try GradCheck.check([x]) { try $0[0].sum(dim: d) }
            try GradCheck.check([x]) { try $0[0].mean(dim: d, keepDim: true) }
            try GradCheck.check([x]) { try $0[0].softmax(dim: d) }
            try GradCheck.check([x]) { try $0[0].logSoftmax(dim: d) }
        }
        try GradCheck.check([x]) { try $0[0].mean() }
        let distinct = GradCheck.distinct([3, 4, 5], seed: 8)
        for d in [0, 1, 2] {
            try GradCheck.check([distinct]) { try $0[0].max(dim: d).values }
            try GradCheck.check([distinct]) { try $0[0].min(dim: d, keepDim: true).values }
        }
        try GradCheck.check([distinct]) { try $0[0].max() }
    }

    func testViews() throws {
        let x = r([2, 3, 4], 9)
        try GradCheck.check([x]) { try $0[0].reshape([4, -1]) }
        try GradCheck.check([x]) { try $0[0].permute([2, 0, 1]) }
        try GradCheck.check([x]) { try $0[0].transpose(0, 2) }
        try GradCheck.check([x]) { try $0[0].narrow(2, 1, 2) }
        try GradCheck.check([x]) { try $0[0].select(1, 2) }
        try GradCheck.check([x]) { try $0[0].unsqueeze(1).squeeze(1) }
        try GradCheck.check([x]) { try $0[0].transpose(1, 2).contiguous() }
        try GradCheck.check([x]) { try $0[0].flatten(from: 1) }
        try GradCheck.check([r([3, 1], 10)]) { try $0[0].expand([2, 3, 4]) }
        try GradCheck.check([x]) { try $0[0].clone() }
        // A chain of views feeding arithmetic: gradients must land on the right elements.
        try GradCheck.check([x]) { try $0[0].transpose(0, 1).narrow(0, 1, 2).select(2, 3) * $0[0].select(2, 0).transpose(0, 1).narrow(0, 0, 2) }
    }

    func testCatAndStack() throws {
        let a = r([2, 3], 11), b = r([2, 5], 12), c = r([2, 3], 13)
        try GradCheck.check([a, b]) { try Tensor.cat([$0[0], $0[1]], dim: 1) }
        try GradCheck.check([a, c]) { try Tensor.stack([$0[0], $0[1]], dim: 1) }
        try GradCheck.check([a]) { try Tensor.cat([$0[0], $0[0].multiplied(by: 2)], dim: 0) }
    }

    func testMatmul() throws {
        let a = r([5, 7], 14), b = r([7, 3], 15)
        try GradCheck.check([a, b]) { try $0[0].matmul($0[1]) }
        // Transposed (strided) operands go to GEMM without copies; their gradients too.
        try GradCheck.check([a, b]) { try $0[1].transpose(0, 1).matmul($0[0].transpose(0, 1)) }
        let batched = r([2, 4, 7], 16)
        try GradCheck.check([batched, b]) { try $0[0].matmul($0[1]) }
        let bb = r([3, 1, 7, 2], 17)
        try GradCheck.check([batched, bb]) { try $0[0].matmul($0[1]) }
        let v = r([7], 18)
        try GradCheck.check([a, v]) { try $0[0].matmul($0[1]) }
        try GradCheck.check([v, b]) { try $0[0].matmul($0[1]) }
    }

    func testInputUsedTwiceAccumulatesBothPaths() throws {
        let x = r([4], 19)
        try GradCheck.check([x]) { try $0[0] * $0[0].exp() + $0[0] }
    }
}
