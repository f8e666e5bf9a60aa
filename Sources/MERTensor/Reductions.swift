import MERKernels

extension Tensor {
    /// (outer, n, inner) sizes that view a contiguous tensor for a reduction over `d`.
    func splitAround(_ d: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<d].reduce(1, *), shape[d], shape[(d + 1)...].reduce(1, *))
    }

    func reducedShape(_ d: Int, keepDim: Bool) -> [Int] {
        var s = shape
        if keepDim { s[d] = 1 } else { s.remove(at: d) }
        return s
    }

    /// Sum of all elements (a 0-d tensor).
    public func sum() throws -> Tensor {
        let x = try contiguousData()
        let out = try Tensor.full([], Reduce.sumContiguous(x.pointer, count))
        let old = shape
        return out.record("sum", [self]) { g in [try g.expand(old).contiguousData()] }
    }

    public func sum(dim: Int, keepDim: Bool = false) throws -> Tensor {
        let d = try axis(dim, "sum")
        let x = try contiguousData()
        let (o, n, i) = splitAround(d)
        let out = try Tensor(uninitialized: reducedShape(d, keepDim: keepDim))
        Reduce.sum(outer: o, n: n, inner: i, input: x.pointer, output: out.pointer)
        let old = shape, kept = reducedShape(d, keepDim: true)
        return out.record("sum", [self]) { g in [try g.reshape(kept).expand(old).contiguousData()] }
    }

    public func mean() throws -> Tensor {
        try check(count > 0, "mean: tensor is empty")
        return try sum().multiplied(by: 1 / Float(count))
    }

    public func mean(dim: Int, keepDim: Bool = false) throws -> Tensor {
        let d = try axis(dim, "mean")
        try check(shape[d] > 0, "mean: dimension \(d + 1) is empty")
        return try sum(dim: d, keepDim: keepDim).multiplied(by: 1 / Float(shape[d]))
    }

    /// Largest values along `dim` and their (0-based) positions. The gradient flows to the
    /// first position holding the maximum.
    public func max(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extreme(dim: dim, keepDim: keepDim, largest: true)
    }

    public func min(dim: Int, keepDim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try extreme(dim: dim, keepDim: keepDim, largest: false)
    }

    /// Largest element of the whole tensor (0-d).
    public func max() throws -> Tensor {
        try check(count > 0, "max: tensor is empty")
        return try reshape([count]).max(dim: 0).values
    }

    public func min() throws -> Tensor {
        try check(count > 0, "min: tensor is empty")
        return try reshape([count]).min(dim: 0).values
    }

    public func argmax(dim: Int, keepDim: Bool = false) throws -> Tensor {
        try max(dim: dim, keepDim: keepDim).indices
    }

    private func extreme(dim: Int, keepDim: Bool, largest: Bool) throws -> (values: Tensor, indices: Tensor) {
        let name = largest ? "max" : "min"
        let d = try axis(dim, name)
        try check(shape[d] > 0, "\(name): dimension \(d + 1) is empty")
        let x = try contiguousData()
        let (o, n, i) = splitAround(d)
        let values = try Tensor(uninitialized: reducedShape(d, keepDim: keepDim))
        var idx = [Int32](repeating: 0, count: o * i)
        idx.withUnsafeMutableBufferPointer { ib in
            Reduce.extreme(largest: largest, outer: o, n: n, inner: i, input: x.pointer, values: values.pointer, indices: ib.baseAddress!)
        }
        let indices = try Tensor(uninitialized: values.shape)
        for k in 0..<idx.count { indices.pointer[k] = Float(idx[k]) }
        let old = shape
        values.record(name, [self]) { g in
            // Scatter each output gradient to the position it was taken from.
            let gx = try Tensor(zeros: old)
            let gc = try g.contiguousData()
            for oo in 0..<o {
                for ii in 0..<i {
                    gx.pointer[(oo * n + Int(idx[oo * i + ii])) * i + ii] = gc.pointer[oo * i + ii]
                }
            }
            return [gx]
        }
        return (values, indices)
    }

    public func softmax(dim: Int) throws -> Tensor { try softmax(dim: dim, log: false) }
    public func logSoftmax(dim: Int) throws -> Tensor { try softmax(dim: dim, log: true) }

    private func softmax(dim: Int, log: Bool) throws -> Tensor {
        let name = log ? "log_softmax" : "softmax"
        let d = try axis(dim, name)
        let x = try contiguousData()
        let (o, n, i) = splitAround(d)
        let out = try Tensor(uninitialized: shape)
        Reduce.softmax(log: log, outer: o, n: n, inner: i, input: x.pointer, output: out.pointer)
        let y = out.detach()
        return out.record(name, [self]) { g in
            let gc = try g.contiguousData()
            let gx = try Tensor(uninitialized: y.shape)
            Reduce.softmaxBackward(log: log, outer: o, n: n, inner: i, output: y.pointer, gradOutput: gc.pointer, gradInput: gx.pointer)
            return [gx]
        }
    }
}
