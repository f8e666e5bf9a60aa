extension Tensor {
    /// Joins tensors along an existing dimension; all other sizes must agree.
    public static func cat(_ tensors: [Tensor], dim: Int) throws -> Tensor {
        try check(!tensors.isEmpty, "cat: expected at least one tensor")
        let first = tensors[0]
        let d = try first.axis(dim, "cat")
        for (k, t) in tensors.enumerated() {
            try check(t.rank == first.rank, "cat: tensor \(k + 1) has \(t.rank) dimensions, tensor 1 has \(first.rank)")
            for j in 0..<first.rank where j != d {
                try check(t.shape[j] == first.shape[j],
                          "cat: tensor \(k + 1) has shape \(describe(t.shape)), incompatible with \(describe(first.shape)) outside dimension \(d + 1)")
            }
        }
        var shape = first.shape
        shape[d] = tensors.reduce(0) { $0 + $1.shape[d] }
        let out = try Tensor(uninitialized: shape)
        var start = 0
        var ranges: [(Int, Int)] = []
        for t in tensors {
            try out.narrowView(d, start, t.shape[d]).assign(t.detach(), freshOutput: true)   // out is new
            ranges.append((start, t.shape[d]))
            start += t.shape[d]
        }
        return out.record("cat", tensors) { g in
            try ranges.map { try g.narrowView(d, $0.0, $0.1).contiguousData() }
        }
    }

    /// Joins same-shaped tensors along a new dimension.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        try check(!tensors.isEmpty, "stack: expected at least one tensor")
        let first = tensors[0]
        for (k, t) in tensors.enumerated() {
            try check(t.shape == first.shape, "stack: tensor \(k + 1) has shape \(describe(t.shape)), tensor 1 has \(describe(first.shape))")
        }
        let d = try first.axis(dim, "stack", rankOverride: first.rank + 1)
        return try cat(tensors.map { try $0.unsqueeze(d) }, dim: d)
    }
}
