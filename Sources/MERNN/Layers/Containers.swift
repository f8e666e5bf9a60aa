import MERTensor

/// Applies its children in order; children are named "0", "1", … as in PyTorch.
public final class Sequential: Module {
    public init(_ modules: [Module]) {
        super.init()
        for (i, m) in modules.enumerated() { registerModule(String(i), m) }
    }

    public func append(_ m: Module) { registerModule(String(children.count), m) }

    /// The activation a BatchNorm2d can fuse when `m` follows it, if any.
    static func fusedActivation(_ m: Module) -> BatchNormActivation? {
        if m is ReLU { return .relu }
        if let l = m as? LeakyReLU, l.slope > 0 { return .leakyRelu(l.slope) }
        return nil
    }

    // The one-tensor entry point too: the base class's would report a wrong input count.
    public override func forward(_ x: Tensor) throws -> Tensor { try forward([x]) }

    public override func forward(_ inputs: [Tensor]) throws -> Tensor { try forward(inputs, residual: nil) }

    /// Runs the children; with a `residual` or an `activation`, the last child must be a
    /// BatchNorm2d, and the residual and then the activation are applied in that BN's own pass:
    /// act(BN(…) + residual), a residual block's tail as one fused op.
    ///
    /// Fusions, each giving the separate ops' numbers (bit-identical; within float32 rounding
    /// only where BN is folded into a convolution that has a bias):
    ///   * BatchNorm2d followed by ReLU or LeakyReLU (slope > 0): one pass and one tensor fewer;
    ///   * Conv2d followed by BatchNorm2d (and an activation): in eval mode without a tape, one
    ///     convolution with BN in its epilogue (`BatchNorm2d.forward(convolving:with:)`).
    public func forward(_ inputs: [Tensor], residual: Tensor?, activation tail: BatchNormActivation = .none) throws -> Tensor {
        guard !children.isEmpty else {
            guard inputs.count == 1, residual == nil else { throw TensorError("Sequential: an empty Sequential takes 1 input") }
            return inputs[0]
        }
        return try Sequential.chain(children.map { $0.module }, inputs, residual: residual, activation: tail)
    }

    /// The walk of `forward(_:residual:activation:)` over any list of modules applied in order
    /// (also ResNet's stem and stages).
    static func chain(_ kids: [Module], _ inputs: [Tensor], residual: Tensor? = nil,
                      activation tail: BatchNormActivation = .none) throws -> Tensor {
        if residual != nil || tail != .none {
            guard kids.last is BatchNorm2d else {
                throw TensorError("Sequential: a fused residual or activation needs a BatchNorm2d as the last module")
            }
        }
        var x = inputs
        var i = 0
        while i < kids.count {
            let conv = kids[i] as? Conv2d
            let bnAt = conv == nil ? i : i + 1
            if x.count == 1, bnAt < kids.count, let bn = kids[bnAt] as? BatchNorm2d {
                let isLast = bnAt == kids.count - 1
                let act = bnAt + 1 < kids.count ? Sequential.fusedActivation(kids[bnAt + 1]) : nil
                let r = isLast ? residual : nil, a = isLast ? tail : (act ?? .none)
                if let conv {
                    x = [try bn.forward(convolving: x[0], with: conv, residual: r, activation: a)]
                } else {
                    x = [try bn.forward(x[0], residual: r, activation: a)]
                }
                i = bnAt + (act != nil && !isLast ? 2 : 1)
            } else {
                x = [try kids[i].forward(x)]
                i += 1
            }
        }
        return x[0]
    }
}

/// Applies every child to the same input and joins the outputs along `dim` (Torch7's
/// `nn.Concat`; the Inception branches).
public final class Concat: Module {
    public let dim: Int
    public init(dim: Int, _ modules: [Module]) {
        self.dim = dim
        super.init()
        for (i, m) in modules.enumerated() { registerModule(String(i), m) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor { try forward([x]) }

    public override func forward(_ inputs: [Tensor]) throws -> Tensor {
        guard !children.isEmpty else { throw TensorError("Concat: no modules to apply") }
        return try Tensor.cat(children.map { try $0.module.forward(inputs) }, dim: dim)
    }

    public override var extraDescription: String { "dim=\(dim)" }
}
