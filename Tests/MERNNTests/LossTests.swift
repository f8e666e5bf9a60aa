import XCTest
import Foundation
import MERTensor
import MERTestSupport
import MERNN

/// Cross-entropy and MSE against values computed here in Double from the definitions
/// (PyTorch's F.cross_entropy formulas), finite-difference gradients and error messages.
final class LossTests: XCTestCase {
    let logitRows: [[Double]] = [[1.0, 2.0, 3.0], [1.5, -1.0, 0.25]]
    let labels = [2, 0]
    let classWeights: [Double] = [0.2, 1.0, 3.0]

    var logits: Tensor { try! Tensor.from(logitRows.flatMap { $0.map(Float.init) }, shape: [2, 3]) }
    var target: Tensor { try! Tensor.from(labels.map(Float.init)) }
    var weight: Tensor { try! Tensor.from(classWeights.map(Float.init)) }

    /// log-probabilities in Double.
    func logProbs() -> [[Double]] {
        logitRows.map { row in
            let m = row.max()!
            let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
            return row.map { $0 - lse }
        }
    }

    /// F.cross_entropy(mean) from its definition, with optional class weights and smoothing.
    func expected(weights: [Double]?, eps: Double) -> Double {
        let lp = logProbs()
        let c = Double(logitRows[0].count)
        let w = weights ?? [1, 1, 1]
        let denom = labels.reduce(0.0) { $0 + w[$1] }
        var nll = 0.0, smooth = 0.0
        for (i, y) in labels.enumerated() {
            nll -= w[y] * lp[i][y]
            smooth -= zip(w, lp[i]).reduce(0.0) { $0 + $1.0 * $1.1 }
        }
        return (1 - eps) * nll / denom + eps * smooth / c / denom
    }

    func value(_ t: Tensor) throws -> Double {
        XCTAssertEqual(t.shape, [], "the loss is 0-d")
        return Double(try t.item())
    }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch let e as TensorError { return e.message } catch { return "\(error)" }
    }

    // MARK: Values

    func testKnownPyTorchValue() throws {
        // torch.nn.functional.cross_entropy(torch.tensor([[1., 2., 3.]]), torch.tensor([2])) = 0.40760596
        let l = try Loss.crossEntropy(try Tensor.from([1, 2, 3], shape: [1, 3]), Tensor.from([2]))
        XCTAssertEqual(try value(l), 0.40760596, accuracy: 1e-7)
    }

    func testPlain() throws {
        let l = try Loss.crossEntropy(logits, target)
        // By hand: row 0: −log softmax[2]; row 1: −log softmax[0]; mean of the two.
        let lp = logProbs()
        XCTAssertEqual(expected(weights: nil, eps: 0), -(lp[0][2] + lp[1][0]) / 2, accuracy: 1e-15)
        XCTAssertEqual(try value(l), expected(weights: nil, eps: 0), accuracy: 1e-6)
    }

    func testWeightedMeanDividesBySumOfTargetWeights() throws {
        let l = try Loss.crossEntropy(logits, target, weight: weight)
        let lp = logProbs()
        let byHand = -(3.0 * lp[0][2] + 0.2 * lp[1][0]) / (3.0 + 0.2)
        XCTAssertEqual(expected(weights: classWeights, eps: 0), byHand, accuracy: 1e-15)
        XCTAssertEqual(try value(l), byHand, accuracy: 1e-6)
    }

    func testLabelSmoothing() throws {
        let l = try Loss.crossEntropy(logits, target, labelSmoothing: 0.1)
        let lp = logProbs()
        let nll: Double = -(lp[0][2] + lp[1][0]) / 2
        let rowSums: Double = lp[0].reduce(0, +) + lp[1].reduce(0, +)
        let smooth: Double = -rowSums / 3 / 2
        let byHand = 0.9 * nll + 0.1 * smooth
        XCTAssertEqual(expected(weights: nil, eps: 0.1), byHand, accuracy: 1e-15)
        XCTAssertEqual(try value(l), byHand, accuracy: 1e-6)
        // ε = 1: only the smoothing term remains.
        let all = try Loss.crossEntropy(logits, target, labelSmoothing: 1)
        XCTAssertEqual(try value(all), expected(weights: nil, eps: 1), accuracy: 1e-6)
    }

    func testLabelSmoothingWithWeights() throws {
        let l = try Loss.crossEntropy(logits, target, weight: weight, labelSmoothing: 0.25)
        let lp = logProbs()
        let w = classWeights
        let nll = -(w[2] * lp[0][2] + w[0] * lp[1][0]) / (w[2] + w[0])
        var weightedSum = 0.0
        for c in 0..<3 { weightedSum += w[c] * (lp[0][c] + lp[1][c]) }
        let smooth = -weightedSum / 3 / (w[2] + w[0])
        XCTAssertEqual(expected(weights: w, eps: 0.25), 0.75 * nll + 0.25 * smooth, accuracy: 1e-15)
        XCTAssertEqual(try value(l), 0.75 * nll + 0.25 * smooth, accuracy: 1e-6)
    }

    // MARK: Gradients

    func testGradientIsSoftmaxMinusOneHotOverN() throws {
        let x = logits
        try x.requiresGrad(true)
        try Loss.crossEntropy(x, target).backward()
        let g = x.grad!.toArray()
        let lp = logProbs()
        for i in 0..<2 {
            for c in 0..<3 {
                let want = (Foundation.exp(lp[i][c]) - (labels[i] == c ? 1 : 0)) / 2
                XCTAssertEqual(Double(g[i * 3 + c]), want, accuracy: 1e-6)
            }
        }
    }

    func testGradCheck() throws {
        let t = try Tensor.from([3, 0, 4, 1, 1])
        let w = try Tensor.from([0.5, 2, 1, 0.25, 1.5])
        for (weight, eps) in [(nil, Float(0)), (w, 0), (nil, 0.2), (w, 0.3)] as [(Tensor?, Float)] {
            let x = GradCheck.input([5, 5], seed: 11)
            try GradCheck.check([x]) { try Loss.crossEntropy($0[0], t, weight: weight, labelSmoothing: eps) }
        }
    }

    func testMSE() throws {
        let a = try Tensor.from([1, 2, 3, 4], shape: [2, 2]), b = try Tensor.from([0, 2.5, 5, 4], shape: [2, 2])
        XCTAssertEqual(try Loss.mse(a, b).item(), (1 + 0.25 + 4 + 0) / 4)
        let x = GradCheck.input([3, 4], seed: 3), y = GradCheck.input([3, 4], seed: 4)
        try GradCheck.check([x, y]) { try Loss.mse($0[0], $0[1]) }
        XCTAssertEqual(message { try Loss.mse(a, Tensor.from([1, 2])) },
                       "mse: input shape [2, 2] and target shape [2] differ; reshape one of them")
    }

    // MARK: Errors

    func testErrors() throws {
        let x = try Tensor.zeros([4, 5])
        XCTAssertEqual(message { try Loss.crossEntropy(x, Tensor.from([0, 1, 2, 7])) },
                       "cross_entropy: target 7 at position 3 is out of range for 5 classes")
        XCTAssertEqual(message { try Loss.crossEntropy(x, Tensor.from([0, -1, 2, 3])) },
                       "cross_entropy: target -1 at position 1 is out of range for 5 classes")
        XCTAssertEqual(message { try Loss.crossEntropy(x, Tensor.from([0, 1.5, 2, 3])) },
                       "cross_entropy: target 1.5 at position 1 is not an integer class index")
        XCTAssertEqual(message { try Loss.crossEntropy(x, Tensor.from([0, .nan, 2, 3])) },
                       "cross_entropy: target nan at position 1 is not an integer class index")
        XCTAssertEqual(message { try Loss.crossEntropy(x, Tensor.from([0, 1, 2])) },
                       "cross_entropy: target must have shape [4] (one class index per row of logits [4, 5]), got [3]")
        XCTAssertEqual(message { try Loss.crossEntropy(try Tensor.zeros([5]), Tensor.from([0])) },
                       "cross_entropy: logits must have shape (N, C), got [5]")
        XCTAssertEqual(message { try Loss.crossEntropy(x, Tensor.from([0, 1, 2, 3]), weight: Tensor.from([1, 2])) },
                       "cross_entropy: weight must have one entry per class, shape [5], got [2]")
        XCTAssertEqual(message { try Loss.crossEntropy(x, Tensor.from([0, 1, 2, 3]), labelSmoothing: 1.5) },
                       "cross_entropy: label_smoothing must be in [0, 1], got 1.5")
        XCTAssertEqual(message { try Loss.crossEntropy(try Tensor.zeros([0, 5]), try Tensor.zeros([0])) },
                       "cross_entropy: the batch is empty (logits shape [0, 5])")
    }
}
