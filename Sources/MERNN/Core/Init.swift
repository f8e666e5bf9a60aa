import Foundation
import MERTensor

/// Parameter initialisation as PyTorch does it by default. Each throws what `Tensor.rand`
/// throws for a shape too large to allocate, so a layer asked for absurd sizes fails
/// with an error instead of stopping the process.
public enum Init {
    /// `kaiming_uniform_(a=√5)`, PyTorch's default for Conv2d and Linear weights: it reduces
    /// to U(−1/√fan_in, 1/√fan_in).
    public static func kaimingUniformDefault(_ shape: [Int], fanIn: Int, generator: Generator = .global) throws -> Tensor {
        let bound = 1 / Float(max(fanIn, 1)).squareRoot()
        return try Tensor.rand(shape, low: -bound, high: bound, generator: generator)
    }

    /// PyTorch's default bias: U(−1/√fan_in, 1/√fan_in).
    public static func biasUniform(_ count: Int, fanIn: Int, generator: Generator = .global) throws -> Tensor {
        try kaimingUniformDefault([count], fanIn: fanIn, generator: generator)
    }

    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`, torchvision's ResNet conv init.
    public static func kaimingNormalFanOut(_ shape: [Int], fanOut: Int, generator: Generator = .global) throws -> Tensor {
        let std = (2 / Float(max(fanOut, 1))).squareRoot()
        return try Tensor.randn(shape, std: std, generator: generator)
    }
}
