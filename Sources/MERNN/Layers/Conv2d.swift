import MERTensor

/// 2-d convolution over NCHW input (PyTorch's `nn.Conv2d`; weight (out, in/groups, kh, kw)).
public final class Conv2d: Module {
    public let inChannels, outChannels, groups: Int
    public let kernel, stride, padding, dilation: (Int, Int)
    public let weight: Tensor
    public let bias: Tensor?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1,
                bias: Bool = true, generator: Generator = .global) throws {
        guard inChannels > 0, outChannels > 0 else { throw TensorError("Conv2d: channels must be positive, got \(inChannels) -> \(outChannels)") }
        guard groups > 0, inChannels % groups == 0, outChannels % groups == 0 else {
            throw TensorError("Conv2d: groups \(groups) must divide in_channels \(inChannels) and out_channels \(outChannels)")
        }
        guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0, dilation.0 > 0, dilation.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
            throw TensorError("Conv2d: kernel, stride and dilation must be positive and padding non-negative")
        }
        self.inChannels = inChannels; self.outChannels = outChannels; self.groups = groups
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.dilation = dilation
        // Sizes are multiplied with overflow checks: absurd ones are an error, not a trap.
        let tooLarge = TensorError("Conv2d: weight [\(outChannels), \(inChannels / groups), \(kernel.0), \(kernel.1)] is too large")
        guard kernel.0 <= 1 << 20, kernel.1 <= 1 << 20 else { throw tooLarge }
        let (fanIn, overflow) = (inChannels / groups).multipliedReportingOverflow(by: kernel.0 * kernel.1)
        guard !overflow else { throw tooLarge }
        weight = try Init.kaimingUniformDefault([outChannels, inChannels / groups, kernel.0, kernel.1], fanIn: fanIn, generator: generator)
        self.bias = bias ? try Init.biasUniform(outChannels, fanIn: fanIn, generator: generator) : nil
        super.init()
        registerParameter("weight", weight)
        if let b = self.bias { registerParameter("bias", b) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.conv2d(x, weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    public override var extraDescription: String {
        var s = "\(inChannels), \(outChannels), kernel=\(kernel.0)x\(kernel.1)"
        if stride != (1, 1) { s += ", stride=\(stride.0)x\(stride.1)" }
        if padding != (0, 0) { s += ", padding=\(padding.0)x\(padding.1)" }
        if dilation != (1, 1) { s += ", dilation=\(dilation.0)x\(dilation.1)" }
        if groups != 1 { s += ", groups=\(groups)" }
        if bias == nil { s += ", bias=false" }
        return s
    }
}
