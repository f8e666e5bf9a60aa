import MERKernels

/// Views share storage with their base; their gradients map back by the inverse view
/// (reshape back, inverse permutation, or scattering into zeros for narrow/select).
extension Tensor {
    /// Resolves one `-1` in a requested shape against this tensor's element count.
    func inferShape(_ requested: [Int], _ op: String) throws -> [Int] {
        var shape = requested
        let unknown = shape.indices.filter { shape[$0] == -1 }
        try check(unknown.count <= 1, "\(op): only one dimension can be -1, got shape \(describe(requested))")
        for (i, s) in shape.enumerated() where s != -1 {
            try check(s >= 0, "\(op): size \(s) at dimension \(i + 1) is negative")
        }
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        if let u = unknown.first {
            try check(known > 0 && count % known == 0, "\(op): shape \(describe(requested)) is invalid for a tensor of \(count) elements")
            shape[u] = count / known
        }
        try check(shape.reduce(1, *) == count, "\(op): shape \(describe(shape)) has \(shape.reduce(1, *)) elements, tensor has \(count)")
        return shape
    }

    /// Same elements in a new shape; a view when the data is contiguous, else a copy.
    public func reshape(_ newShape: [Int]) throws -> Tensor {
        let shape = try inferShape(newShape, "reshape")
        let base = try contiguousData()
        let out = Tensor(storage: base.storage, shape: shape, strides: Tensor.contiguousStrides(shape), offset: base.offset)
        let old = self.shape
        return out.record("reshape", [self]) { g in [try g.reshape(old)] }
    }

    /// Like reshape, but refuses to copy (the tensor must be contiguous).
    public func view(_ newShape: [Int]) throws -> Tensor {
        try check(isContiguous, "view: tensor is not contiguous (shape \(describe(shape)), strides \(describe(strides))); use reshape or contiguous()")
        return try reshape(newShape)
    }

    public func flatten(from start: Int = 0) throws -> Tensor {
        let s = try axis(start, "flatten")
        return try reshape(Array(shape[..<s]) + [shape[s...].reduce(1, *)])
    }

    public func permute(_ order: [Int]) throws -> Tensor {
        try check(order.count == rank, "permute: expected \(rank) dimensions, got \(order.count)")
        let axes = try order.map { try axis($0, "permute") }
        try check(Set(axes).count == rank, "permute: \(describe(order)) is not a permutation of the dimensions")
        let out = Tensor(storage: storage, shape: axes.map { shape[$0] }, strides: axes.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return out.record("permute", [self]) { g in [try g.permute(inverse)] }
    }

    public func transpose(_ a: Int, _ b: Int) throws -> Tensor {
        let x = try axis(a, "transpose"), y = try axis(b, "transpose")
        var order = Array(0..<rank)
        order.swapAt(x, y)
        return try permute(order)
    }

    /// Matrix transpose of a 2-d tensor.
    public var t: Tensor { get throws {
        try check(rank == 2, "t: expected a 2-d tensor, got shape \(describe(shape))")
        return try transpose(0, 1)
    } }

    /// `length` slices of dimension `dim` starting at `start` (0-based).
    public func narrow(_ dim: Int, _ start: Int, _ length: Int) throws -> Tensor {
        let d = try axis(dim, "narrow")
        try check(start >= 0 && length >= 0 && start + length <= shape[d],
                  "narrow: range start \(start) length \(length) out of bounds for dimension \(d + 1) of size \(shape[d])")
        var s = shape
        s[d] = length
        let out = Tensor(storage: storage, shape: s, strides: strides, offset: offset + start * strides[d])
        let full = shape
        return out.record("narrow", [self]) { g in
            let z = try Tensor(zeros: full)
            try z.narrowView(d, start, length).assign(g)
            return [z]
        }
    }

    /// The slice at `index` of dimension `dim`, which is removed.
    public func select(_ dim: Int, _ index: Int) throws -> Tensor {
        let d = try axis(dim, "select")
        try check(index >= 0 && index < shape[d], "select: index \(index) out of range for dimension \(d + 1) of size \(shape[d])")
        var s = shape, st = strides
        s.remove(at: d); st.remove(at: d)
        let out = Tensor(storage: storage, shape: s, strides: st, offset: offset + index * strides[d])
        let full = shape
        return out.record("select", [self]) { g in
            let z = try Tensor(zeros: full)
            try z.narrowView(d, index, 1).assign(g.unsqueeze(d))
            return [z]
        }
    }

    public func unsqueeze(_ dim: Int) throws -> Tensor {
        let d = try axis(dim, "unsqueeze", rankOverride: rank + 1)
        var s = shape
        s.insert(1, at: d)
        return try reshape(s)
    }

    /// Removes dimension `dim` (which must have size 1), or every size-1 dimension.
    public func squeeze(_ dim: Int? = nil) throws -> Tensor {
        if let dim = dim {
            let d = try axis(dim, "squeeze")
            try check(shape[d] == 1, "squeeze: dimension \(d + 1) has size \(shape[d]), not 1")
            var s = shape
            s.remove(at: d)
            return try reshape(s)
        }
        return try reshape(shape.filter { $0 != 1 })
    }

    /// A broadcast view to a larger shape (size-1 dimensions repeat without copying).
    public func expand(_ target: [Int]) throws -> Tensor {
        let full = try Tensor.broadcastShape(shape, target, "expand")
        try check(full == target, "expand: cannot expand shape \(describe(shape)) to \(describe(target))")
        let out = Tensor(storage: storage, shape: target, strides: broadcastStrides(to: target), offset: offset)
        let old = shape
        return out.record("expand", [self]) { g in [try g.sumTo(old)] }
    }

    /// This tensor if already contiguous, else a contiguous copy (recorded).
    public func contiguous() throws -> Tensor {
        isContiguous ? self : try clone()
    }

    // MARK: Internal helpers

    /// Unrecorded narrow, for writing into a slice.
    func narrowView(_ d: Int, _ start: Int, _ length: Int) -> Tensor {
        var s = shape
        s[d] = length
        return Tensor(storage: storage, shape: s, strides: strides, offset: offset + start * strides[d])
    }

    /// Copies `src` (broadcast to this shape) into this tensor's elements, in place.
    /// `freshOutput`: this tensor is a new buffer `src` does not overlap (`cat`'s slices), so
    /// one long contiguous run may be cut between threads (see `Strided.forEachRow`).
    func assign(_ src: Tensor, freshOutput: Bool = false) throws {
        let full = try Tensor.broadcastShape(src.shape, shape, "assign")
        try check(full == shape, "assign: cannot write shape \(describe(src.shape)) into \(describe(shape))")
        let s = src.pointer, d = pointer
        Strided.forEachRow(shape: shape, strides: [strides, src.broadcastStrides(to: shape)], freshOutput: freshOutput) { off, n, rs in
            Elementwise.unary(.copy, count: n, x: s + off[1], xStride: rs[1], out: d + off[0], outStride: rs[0])
        }
    }
}
