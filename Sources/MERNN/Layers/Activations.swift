import MERTensor

public final class ReLU: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { try x.relu() }
}

public final class LeakyReLU: Module {
    public let slope: Float
    public init(_ slope: Float = 0.01) { self.slope = slope; super.init() }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.leakyRelu(slope) }
    public override var extraDescription: String { "\(slope)" }
}

public final class Sigmoid: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { try x.sigmoid() }
}

public final class Tanh: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { try x.tanh() }
}

public final class Identity: Module {
    public override func forward(_ x: Tensor) throws -> Tensor { x }
}

/// Flattens dimensions from `start` (0-based; default 1, keeping the batch) to the last.
public final class Flatten: Module {
    public let start: Int
    public init(start: Int = 1) { self.start = start; super.init() }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.flatten(from: start) }
}
