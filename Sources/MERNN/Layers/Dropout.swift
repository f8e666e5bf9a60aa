import MERTensor

/// Zeroes each element with probability p in training mode and scales the rest by
/// 1/(1−p) (inverted dropout, as PyTorch); the identity in eval mode. Masks come from the
/// module's own generator when it was given a seed, else from the global one.
public final class Dropout: Module {
    public let p: Float
    let generator: Generator?

    public init(_ p: Float = 0.5, seed: UInt64? = nil) throws {
        guard p >= 0 && p < 1 else { throw TensorError("Dropout: p must be in [0, 1), got \(p)") }
        self.p = p
        generator = seed.map { Generator(seed: $0) }
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        guard isTraining && p > 0 else { return x }
        let g = generator ?? .global
        let mask = try Tensor.rand(x.shape, generator: g).ge(p).multiplied(by: 1 / (1 - p))
        return try x * mask
    }

    public override var extraDescription: String { "p=\(p)" }
}
