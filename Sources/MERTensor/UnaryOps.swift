import MERKernels

/// Elementwise functions of one tensor, each with its derivative beside it. Where the
/// derivative is cheaper from the output (exp, sigmoid, tanh, relu, sqrt) the output is
/// what the tape keeps.
extension Tensor {
    public func neg() throws -> Tensor {
        try map(.neg).record("neg", [self]) { g in [try g.map(.neg)] }
    }

    public func adding(scalar s: Float) throws -> Tensor {
        try map(.addScalar(s)).record("add", [self]) { g in [g] }
    }

    public func multiplied(by s: Float) throws -> Tensor {
        try map(.mulScalar(s)).record("mul", [self]) { g in [try g.map(.mulScalar(s))] }
    }

    /// s − x
    public func rsub(_ s: Float) throws -> Tensor {
        try map(.rsubScalar(s)).record("rsub", [self]) { g in [try g.map(.neg)] }
    }

    /// s / x
    public func rdiv(_ s: Float) throws -> Tensor {
        let x = detach()
        return try map(.rdivScalar(s)).record("rdiv", [self]) { g in
            [try g.zipWith(x.map(.square).map(.rdivScalar(-s)), .mul, "mul")]
        }
    }

    public func exp() throws -> Tensor {
        let out = try map(.exp), y = out.detach()
        return out.record("exp", [self]) { g in [try g.zipWith(y, .mul, "mul")] }
    }

    public func log() throws -> Tensor {
        let x = detach()
        return try map(.log).record("log", [self]) { g in [try g.zipWith(x, .div, "div")] }
    }

    public func sqrt() throws -> Tensor {
        let out = try map(.sqrt), y = out.detach()
        return out.record("sqrt", [self]) { g in [try g.zipWith(y.map(.mulScalar(2)), .div, "div")] }
    }

    public func square() throws -> Tensor {
        let x = detach()
        return try map(.square).record("square", [self]) { g in [try g.zipWith(x.map(.mulScalar(2)), .mul, "mul")] }
    }

    /// |x|; the derivative at 0 is taken as 0, as PyTorch does.
    public func abs() throws -> Tensor {
        let x = detach()
        return try map(.abs).record("abs", [self]) { g in [try g.zipWith(x.map(.sign), .mul, "mul")] }
    }

    public func relu() throws -> Tensor {
        let out = try map(.relu), y = out.detach()
        return out.record("relu", [self]) { g in [try g.zipWith(y, .reluGrad, "relu")] }
    }

    public func leakyRelu(_ slope: Float = 0.01) throws -> Tensor {
        let x = detach()
        return try map(.leakyRelu(slope)).record("leaky_relu", [self]) { g in [try g.zipWith(x, .leakyReluGrad(slope), "leaky_relu")] }
    }

    public func sigmoid() throws -> Tensor {
        let out = try map(.sigmoid), y = out.detach()
        return out.record("sigmoid", [self]) { g in [try g.zipWith(y, .sigmoidGrad, "sigmoid")] }
    }

    public func tanh() throws -> Tensor {
        let out = try map(.tanh), y = out.detach()
        return out.record("tanh", [self]) { g in [try g.zipWith(y, .tanhGrad, "tanh")] }
    }

    /// x^p for a constant exponent.
    public func pow(_ p: Float) throws -> Tensor {
        let x = detach()
        return try map(.powScalar(p)).record("pow", [self]) { g in
            [try g.zipWith(x.map(.powScalar(p - 1)).map(.mulScalar(p)), .mul, "mul")]
        }
    }

    /// Limits values to [lo, hi]; the gradient passes where the input was inside.
    public func clamp(_ lo: Float, _ hi: Float) throws -> Tensor {
        try check(!(lo > hi), "clamp: lower bound \(lo) is greater than upper bound \(hi)")
        let x = detach()
        return try map(.clamp(lo, hi)).record("clamp", [self]) { g in [try g.zipWith(x, .clampGrad(lo, hi), "clamp")] }
    }

    // Comparisons with a scalar (not differentiable).
    public func gt(_ s: Float) throws -> Tensor { try map(.gtScalar(s)) }
    public func lt(_ s: Float) throws -> Tensor { try map(.ltScalar(s)) }
    public func ge(_ s: Float) throws -> Tensor { try map(.geScalar(s)) }
    public func le(_ s: Float) throws -> Tensor { try map(.leScalar(s)) }
    public func eq(_ s: Float) throws -> Tensor { try map(.eqScalar(s)) }
}
