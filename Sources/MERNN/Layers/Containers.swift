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

    public override func forward(_ inputs: [Tensor]) throws -> Tensor {
        guard !children.isEmpty else {
            guard inputs.count == 1 else { throw TensorError("Sequential: an empty Sequential takes 1 input") }
            return inputs[0]
        }
        // BatchNorm2d followed by ReLU or LeakyReLU (slope > 0) runs as one fused op
        // (Tensor.batchNorm's activation): the same numbers, one pass and one tensor fewer.
        let kids = children
        var x = inputs
        var i = 0
        while i < kids.count {
            let m = kids[i].module
            if let bn = m as? BatchNorm2d, x.count == 1, i + 1 < kids.count,
               let act = Sequential.fusedActivation(kids[i + 1].module) {
                x = [try bn.forward(x[0], activation: act)]
                i += 2
            } else {
                x = [try m.forward(x)]
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
