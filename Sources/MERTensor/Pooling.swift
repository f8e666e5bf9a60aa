import MERKernels

extension Tensor {
    func poolShape(_ op: String, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), ceilMode: Bool) throws -> PoolShape {
        try check(rank == 4, "\(op): input must be 4-d (N, C, H, W), got shape \(describe(shape))")
        let s = PoolShape(n: shape[0], c: shape[1], h: shape[2], w: shape[3], kh: kernel.0, kw: kernel.1,
                          strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1, ceilMode: ceilMode)
        if let problem = s.problem { throw TensorError("\(op): \(problem)") }
        return s
    }

    /// Max pooling (PyTorch's `F.max_pool2d`); `stride` defaults to the kernel size.
    public func maxPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          ceilMode: Bool = false) throws -> Tensor {
        let s = try poolShape("max_pool2d", kernel: kernel, stride: stride ?? kernel, padding: padding, ceilMode: ceilMode)
        let x = try contiguousData()
        let out = try Tensor(uninitialized: [s.n, s.c, s.hout, s.wout])
        var indices = [Int32](repeating: 0, count: out.count)
        indices.withUnsafeMutableBufferPointer {
            PoolKernels.maxForward(s, input: x.pointer, output: out.pointer, indices: $0.baseAddress!)
        }
        let inShape = shape
        return out.record("max_pool2d", [self]) { g in
            let gy = try g.contiguousData(), gx = try Tensor(uninitialized: inShape)
            indices.withUnsafeBufferPointer {
                PoolKernels.maxBackward(s, gradOutput: gy.pointer, indices: $0.baseAddress!, gradInput: gx.pointer)
            }
            return [gx]
        }
    }

    /// Average pooling (PyTorch's `F.avg_pool2d`, `count_include_pad` default true).
    public func avgPool2d(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                          ceilMode: Bool = false, countIncludePad: Bool = true) throws -> Tensor {
        let s = try poolShape("avg_pool2d", kernel: kernel, stride: stride ?? kernel, padding: padding, ceilMode: ceilMode)
        let x = try contiguousData()
        let out = try Tensor(uninitialized: [s.n, s.c, s.hout, s.wout])
        PoolKernels.avgForward(s, countIncludePad: countIncludePad, input: x.pointer, output: out.pointer)
        let inShape = shape
        return out.record("avg_pool2d", [self]) { g in
            let gy = try g.contiguousData(), gx = try Tensor(uninitialized: inShape)
            PoolKernels.avgBackward(s, countIncludePad: countIncludePad, gradOutput: gy.pointer, gradInput: gx.pointer)
            return [gx]
        }
    }

    func adaptiveCheck(_ op: String, _ size: (Int, Int)) throws {
        try check(rank == 4, "\(op): input must be 4-d (N, C, H, W), got shape \(describe(shape))")
        try check(shape[1] > 0 && shape[2] > 0 && shape[3] > 0, "\(op): input sizes must be positive, got \(describe(shape))")
        try check(size.0 > 0 && size.1 > 0, "\(op): output size must be positive, got \(size.0)x\(size.1)")
    }

    /// Adaptive average pooling to an (oh, ow) grid (PyTorch's windows).
    public func adaptiveAvgPool2d(_ size: (Int, Int)) throws -> Tensor {
        try adaptiveCheck("adaptive_avg_pool2d", size)
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let x = try contiguousData()
        let out = try Tensor(uninitialized: [n, c, size.0, size.1])
        AdaptivePoolKernels.avgForward(n: n, c: c, h: h, w: w, oh: size.0, ow: size.1, input: x.pointer, output: out.pointer)
        let inShape = shape
        return out.record("adaptive_avg_pool2d", [self]) { g in
            let gy = try g.contiguousData(), gx = try Tensor(uninitialized: inShape)
            AdaptivePoolKernels.avgBackward(n: n, c: c, h: h, w: w, oh: size.0, ow: size.1, gradOutput: gy.pointer, gradInput: gx.pointer)
            return [gx]
        }
    }

    public func adaptiveMaxPool2d(_ size: (Int, Int)) throws -> Tensor {
        try adaptiveCheck("adaptive_max_pool2d", size)
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let x = try contiguousData()
        let out = try Tensor(uninitialized: [n, c, size.0, size.1])
        var indices = [Int32](repeating: 0, count: out.count)
        indices.withUnsafeMutableBufferPointer {
            AdaptivePoolKernels.maxForward(n: n, c: c, h: h, w: w, oh: size.0, ow: size.1, input: x.pointer, output: out.pointer, indices: $0.baseAddress!)
        }
        let inShape = shape
        return out.record("adaptive_max_pool2d", [self]) { g in
            let gy = try g.contiguousData(), gx = try Tensor(uninitialized: inShape)
            indices.withUnsafeBufferPointer {
                AdaptivePoolKernels.maxBackward(n: n, c: c, h: h, w: w, oh: size.0, ow: size.1, gradOutput: gy.pointer, indices: $0.baseAddress!, gradInput: gx.pointer)
            }
            return [gx]
        }
    }
}
