import MERTensor

/// Applies its children in order; children are named "0", "1", … as in PyTorch.
public final class Sequential: Module {
    public init(_ modules: [Module]) {
        super.init()
        for (i, m) in modules.enumerated() { registerModule(String(i), m) }
    }

    public func append(_ m: Module) { registerModule(String(children.count), m) }

    // The one-tensor entry point too: the base class's would report a wrong input count.
    public override func forward(_ x: Tensor) throws -> Tensor { try forward([x]) }

    public override func forward(_ inputs: [Tensor]) throws -> Tensor {
        guard let first = children.first else {
            guard inputs.count == 1 else { throw TensorError("Sequential: an empty Sequential takes 1 input") }
            return inputs[0]
        }
        var x = try first.module.forward(inputs)
        for (_, m) in children.dropFirst() { x = try m.forward([x]) }
        return x
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
