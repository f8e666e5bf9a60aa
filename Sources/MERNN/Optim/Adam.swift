import Foundation
import MERKernels
import MERTensor

/// Adam (PyTorch's `torch.optim.Adam`) and, with `decoupledWeightDecay`, AdamW
/// (`torch.optim.AdamW`; see the `AdamW` subclass). The update follows the single-tensor
/// path of torch/optim/adam.py operation by operation (see `OptimizerKernels.adam`).
/// Each parameter keeps its own step count, which only advances on steps where it had a
/// gradient, as in PyTorch. amsgrad, maximize and capturable are not supported.
public class Adam: Optimizer {
    public var beta1, beta2, eps, weightDecay: Double
    public let decoupledWeightDecay: Bool
    var expAvg: [Tensor?]
    var expAvgSq: [Tensor?]
    var steps: [Int]

    public init(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                weightDecay: Double = 0, decoupledWeightDecay: Bool = false) throws {
        let kind = decoupledWeightDecay ? "AdamW" : "Adam"
        guard betas.0 >= 0, betas.0 < 1 else { throw TensorError("\(kind): beta1 must be in [0, 1), got \(betas.0)") }
        guard betas.1 >= 0, betas.1 < 1 else { throw TensorError("\(kind): beta2 must be in [0, 1), got \(betas.1)") }
        guard eps >= 0 else { throw TensorError("\(kind): eps must be non-negative, got \(eps)") }
        guard weightDecay >= 0 else { throw TensorError("\(kind): weight_decay must be non-negative, got \(weightDecay)") }
        beta1 = betas.0; beta2 = betas.1; self.eps = eps; self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        expAvg = Array(repeating: nil, count: params.count)
        expAvgSq = Array(repeating: nil, count: params.count)
        steps = Array(repeating: 0, count: params.count)
        try super.init(params, lr: lr)
    }

    public override var name: String { decoupledWeightDecay ? "AdamW" : "Adam" }

    public override func update(index i: Int, param: Tensor, grad: Tensor) throws {
        if expAvg[i] == nil {
            expAvg[i] = try Tensor(zeros: param.shape)
            expAvgSq[i] = try Tensor(zeros: param.shape)
            steps[i] = 0
        }
        steps[i] += 1
        let t = Double(steps[i])
        let bc1 = 1 - Foundation.pow(beta1, t)
        let bc2 = 1 - Foundation.pow(beta2, t)
        let stepSize = lr / bc1
        let bc2Sqrt = bc2.squareRoot()
        let m = expAvg[i]!, v = expAvgSq[i]!
        try param.updateContiguousElements("\(name).step") { p, n in
            withExtendedLifetime((grad, m, v)) {
                OptimizerKernels.adam(count: n, param: p, grad: grad.pointer, expAvg: m.pointer, expAvgSq: v.pointer,
                                      decoupled: decoupledWeightDecay, decay: Float(1 - lr * weightDecay),
                                      weightDecay: Float(weightDecay), lerpWeight: Float(1 - beta1),
                                      beta2: Float(beta2), oneMinusBeta2: Float(1 - beta2),
                                      negStepSize: Float(-stepSize), bc2Sqrt: Float(bc2Sqrt), eps: Float(eps))
            }
        }
    }

    public override var stateNames: [(name: String, parameterShaped: Bool)] {
        [("exp_avg", true), ("exp_avg_sq", true), ("step", false)]
    }

    public override func parameterState() throws -> [(index: Int, entries: [(name: String, tensor: Tensor)])] {
        try params.indices.compactMap { i in
            guard let m = expAvg[i], let v = expAvgSq[i] else { return nil }
            return (i, [("step", try .scalar(Float(steps[i]))), ("exp_avg", m), ("exp_avg_sq", v)])
        }
    }

    public override func incompleteState(index i: Int, _ dict: [String: Tensor]) -> String? {
        let missing = ["exp_avg", "exp_avg_sq", "step"].filter { dict[$0] == nil }
        if !missing.isEmpty { return "parameter \(i): state lacks \(missing.map { "\(i).\($0)" }.joined(separator: ", "))" }
        // Bounded too: Int(_:) of inf or 1e20 would trap.
        if let s = dict["step"], s.count != 1 || !((try? s.item()).map { $0 >= 0 && $0 <= 1e15 && $0 == $0.rounded() } ?? false) {
            return "\(i).step: expected a single non-negative integer (at most 1e15)"
        }
        return nil
    }

    public override func clearState() {
        expAvg = Array(repeating: nil, count: params.count)
        expAvgSq = Array(repeating: nil, count: params.count)
        steps = Array(repeating: 0, count: params.count)
    }

    public override func setParameterState(index i: Int, _ entries: [String: Tensor]) throws {
        expAvg[i] = entries["exp_avg"]!
        expAvgSq[i] = entries["exp_avg_sq"]!
        steps[i] = Int(try entries["step"]!.item())
    }

    public override var hyperparameters: [String: String] {
        super.hyperparameters.merging(["beta1": "\(beta1)", "beta2": "\(beta2)", "eps": "\(eps)",
                                       "weight_decay": "\(weightDecay)"]) { a, _ in a }
    }
}

/// AdamW (PyTorch's `torch.optim.AdamW`): Adam with decoupled weight decay, p ← p·(1 − lr·wd)
/// before the moment updates. PyTorch's default weight decay for AdamW is 0.01.
public final class AdamW: Adam {
    public init(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
                weightDecay: Double = 1e-2) throws {
        try super.init(params, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupledWeightDecay: true)
    }
}
