import MERKernels

extension Tensor {
    /// How a 2-d view can be handed to GEMM without a copy: (transposed?, leading dimension).
    func gemmOperand() throws -> (Tensor, Bool, Int) {
        if strides[1] == 1 && strides[0] >= Swift.max(shape[1], 1) { return (self, false, strides[0]) }
        if strides[0] == 1 && strides[1] >= Swift.max(shape[0], 1) { return (self, true, strides[1]) }
        let c = try contiguousData()
        return (c, false, Swift.max(shape[1], 1))
    }

    /// Matrix product with PyTorch's rules: 1-d operands are promoted to a row / column
    /// vector and the added dimension removed again; leading (batch) dimensions broadcast.
    public func matmul(_ other: Tensor) throws -> Tensor {
        try check(rank >= 1 && other.rank >= 1, "matmul: both operands need at least 1 dimension, got \(describe(shape)) and \(describe(other.shape))")
        let a = rank == 1 ? try unsqueeze(0) : self
        let b = other.rank == 1 ? try other.unsqueeze(1) : other
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
        let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
        try check(k == k2, "matmul: inner sizes differ: \(describe(shape)) × \(describe(other.shape)) (\(k) vs \(k2))")
        var out: Tensor
        if a.rank == 2 && b.rank == 2 {
            out = try Tensor.mm(a, b)
        } else {
            let batch = try Tensor.broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), "matmul")
            let ae = try a.expand(batch + [m, k]).contiguous(), be = try b.expand(batch + [k, n]).contiguous()
            let count = batch.reduce(1, *)
            let a3 = try ae.reshape([count, m, k]), b3 = try be.reshape([count, k, n])
            let result = try Tensor(uninitialized: [count, m, n])
            for i in 0..<count {
                Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1,
                           a: a3.pointer + i * m * k, lda: Swift.max(k, 1),
                           b: b3.pointer + i * k * n, ldb: Swift.max(n, 1),
                           beta: 0, c: result.pointer + i * m * n, ldc: Swift.max(n, 1))
            }
            let (ad, bd) = (a3.detach(), b3.detach())
            result.record("matmul", [a3, b3]) { g in
                [a3.requiresGrad ? try g.matmul(bd.transpose(1, 2)) : nil,
                 b3.requiresGrad ? try ad.transpose(1, 2).matmul(g) : nil]
            }
            out = try result.reshape(batch + [m, n])
        }
        if rank == 1 { out = try out.squeeze(out.rank - 2) }
        if other.rank == 1 { out = try out.squeeze(out.rank - 1) }
        return out
    }

    /// 2-d × 2-d through GEMM, reading transposed views in place.
    static func mm(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        let out = try Tensor(uninitialized: [m, n])
        if k == 0 {
            out.pointer.update(repeating: 0, count: m * n)
        } else if m > 0 && n > 0 {
            let (ao, ta, lda) = try a.gemmOperand(), (bo, tb, ldb) = try b.gemmOperand()
            Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: ao.pointer, lda: lda,
                       b: bo.pointer, ldb: ldb, beta: 0, c: out.pointer, ldc: n)
        }
        let (ad, bd) = (a.detach(), b.detach())
        return out.record("matmul", [a, b]) { g in
            // C = A·B  ⇒  dA = dC·Bᵀ,  dB = Aᵀ·dC
            [a.requiresGrad ? try mm(g, bd.transpose(0, 1)) : nil,
             b.requiresGrad ? try mm(ad.transpose(0, 1), g) : nil]
        }
    }
}
