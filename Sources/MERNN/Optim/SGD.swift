import MERKernels
import MERTensor

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
/// weight decay (PyTorch's `torch.optim.SGD`, single-tensor path of torch/optim/sgd.py):
///
///     g ← g + wd·p
///     buf ← g (first step) or μ·buf + (1 − dampening)·g
///     g ← g + μ·buf (nesterov) or buf
///     p ← p − lr·g
public final class SGD: Optimizer {
    public var momentum, dampening, weightDecay: Double
    public let nesterov: Bool
    var buffers: [Tensor?]

    public init(_ params: [Tensor], lr: Double = 1e-3, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false) throws {
        guard momentum >= 0 else { throw TensorError("SGD: momentum must be non-negative, got \(momentum)") }
        guard weightDecay >= 0 else { throw TensorError("SGD: weight_decay must be non-negative, got \(weightDecay)") }
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw TensorError("SGD: Nesterov momentum requires a momentum and zero dampening")
        }
        self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay; self.nesterov = nesterov
        buffers = Array(repeating: nil, count: params.count)
        try super.init(params, lr: lr)
    }

    public override func update(index i: Int, param: Tensor, grad: Tensor) throws {
        var first = false
        if momentum != 0 && buffers[i] == nil {
            buffers[i] = try Tensor(zeros: param.shape)
            first = true
        }
        let buf = buffers[i]
        try param.updateContiguousElements("SGD.step") { p, n in
            withExtendedLifetime((grad, buf)) {
                OptimizerKernels.sgd(count: n, param: p, grad: grad.pointer, buffer: buf?.pointer, firstStep: first,
                                     negLr: Float(-lr), momentum: Float(momentum),
                                     oneMinusDampening: Float(1 - dampening), nesterov: nesterov,
                                     weightDecay: Float(weightDecay))
            }
        }
    }

    public override var stateNames: [(name: String, parameterShaped: Bool)] { [("momentum_buffer", true)] }

    public override func parameterState() -> [(index: Int, entries: [(name: String, tensor: Tensor)])] {
        params.indices.compactMap { i in buffers[i].map { (i, [("momentum_buffer", $0)]) } }
    }

    public override func clearState() { buffers = Array(repeating: nil, count: params.count) }

    public override func setParameterState(index i: Int, _ entries: [String: Tensor]) throws {
        buffers[i] = entries["momentum_buffer"]
    }

    public override var hyperparameters: [String: String] {
        super.hyperparameters.merging(["momentum": "\(momentum)", "dampening": "\(dampening)",
                                       "weight_decay": "\(weightDecay)", "nesterov": "\(nesterov)"]) { a, _ in a }
    }
}
