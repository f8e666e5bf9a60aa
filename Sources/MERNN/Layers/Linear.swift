import MERTensor

/// y = x·Wᵀ + b (PyTorch's `nn.Linear`; weight (out, in)).
public final class Linear: Module {
    public let inFeatures, outFeatures: Int
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: Generator = .global) throws {
        guard inFeatures > 0, outFeatures > 0 else { throw TensorError("Linear: features must be positive, got \(inFeatures) -> \(outFeatures)") }
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        weight = try Init.kaimingUniformDefault([outFeatures, inFeatures], fanIn: inFeatures, generator: generator)
        self.bias = bias ? try Init.biasUniform(outFeatures, fanIn: inFeatures, generator: generator) : nil
        super.init()
        registerParameter("weight", weight)
        if let b = self.bias { registerParameter("bias", b) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape.last == inFeatures else {
            throw TensorError("Linear: expected input with \(inFeatures) features in the last dimension, got shape \(x.shape)")
        }
        let y = try x.matmul(weight.transpose(0, 1))
        return try bias.map { try y + $0 } ?? y
    }

    public override var extraDescription: String { "\(inFeatures), \(outFeatures)" + (bias == nil ? ", bias=false" : "") }
}
