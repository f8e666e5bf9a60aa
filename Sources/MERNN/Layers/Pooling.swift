import MERTensor

public final class MaxPool2d: Module {
    public let kernel, stride, padding: (Int, Int)
    public let ceilMode: Bool
    public init(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), ceilMode: Bool = false) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding; self.ceilMode = ceilMode
        super.init()
    }
    public override func forward(_ x: Tensor) throws -> Tensor {
        try x.maxPool2d(kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    }
    public override var extraDescription: String { poolDescription(kernel, stride, padding) }
}

public final class AvgPool2d: Module {
    public let kernel, stride, padding: (Int, Int)
    public let ceilMode, countIncludePad: Bool
    public init(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), ceilMode: Bool = false,
                countIncludePad: Bool = true) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
        self.ceilMode = ceilMode; self.countIncludePad = countIncludePad
        super.init()
    }
    public override func forward(_ x: Tensor) throws -> Tensor {
        try x.avgPool2d(kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode, countIncludePad: countIncludePad)
    }
    public override var extraDescription: String { poolDescription(kernel, stride, padding) }
}

public final class AdaptiveAvgPool2d: Module {
    public let size: (Int, Int)
    public init(_ size: (Int, Int)) { self.size = size; super.init() }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.adaptiveAvgPool2d(size) }
    public override var extraDescription: String { "\(size.0)x\(size.1)" }
}

public final class AdaptiveMaxPool2d: Module {
    public let size: (Int, Int)
    public init(_ size: (Int, Int)) { self.size = size; super.init() }
    public override func forward(_ x: Tensor) throws -> Tensor { try x.adaptiveMaxPool2d(size) }
    public override var extraDescription: String { "\(size.0)x\(size.1)" }
}

func poolDescription(_ k: (Int, Int), _ s: (Int, Int), _ p: (Int, Int)) -> String {
    var d = "kernel=\(k.0)x\(k.1)"
    if s != k { d += ", stride=\(s.0)x\(s.1)" }
    if p != (0, 0) { d += ", padding=\(p.0)x\(p.1)" }
    return d
}
