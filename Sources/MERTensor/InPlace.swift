import MERKernels

/// In-place updates (Lua's `add_`, `mul_`, `fill_`, …), used by optimisers and buffers.
/// They are refused on tensors that take part in autograd while recording, and they bump
/// the storage version so a backward that needs the old values fails loudly instead of
/// producing wrong gradients.
extension Tensor {
    func checkInPlace(_ op: String) throws {
        try check(!(GradMode.isEnabled && requiresGrad),
                  "\(op): in-place operation on a tensor that requires grad; do it inside no_grad or on a detached tensor")
    }

    func inPlace(_ op: String, _ body: () throws -> Void) throws {
        try checkInPlace(op)
        try body()
        storage.version += 1
    }

    /// self ← self + alpha · other (other broadcast to self's shape).
    public func addInPlace(_ other: Tensor, alpha: Float = 1) throws {
        try inPlace("add_") {
            try Tensor.broadcastCheckInto(self, other, "add_")
            let src = alpha == 1 ? other : try other.map(.mulScalar(alpha))
            let o = pointer, b = src.pointer
            Strided.forEachRow(shape: shape, strides: [strides, strides, src.broadcastStrides(to: shape)]) { off, n, rs in
                Elementwise.binary(.add, count: n, a: o + off[1], aStride: rs[1], b: b + off[2], bStride: rs[2], out: o + off[0], outStride: rs[0])
            }
        }
    }

    /// self ← self ⊙ other.
    public func mulInPlace(_ other: Tensor) throws {
        try inPlace("mul_") {
            try Tensor.broadcastCheckInto(self, other, "mul_")
            let o = pointer, b = other.pointer
            Strided.forEachRow(shape: shape, strides: [strides, strides, other.broadcastStrides(to: shape)]) { off, n, rs in
                Elementwise.binary(.mul, count: n, a: o + off[1], aStride: rs[1], b: b + off[2], bStride: rs[2], out: o + off[0], outStride: rs[0])
            }
        }
    }

    /// Applies a unary op to every element in place.
    public func apply(_ op: UnaryOp, name: String) throws {
        try inPlace(name) {
            let o = pointer
            Strided.forEachRow(shape: shape, strides: [strides, strides]) { off, n, rs in
                Elementwise.unary(op, count: n, x: o + off[1], xStride: rs[1], out: o + off[0], outStride: rs[0])
            }
        }
    }

    public func mulInPlace(_ s: Float) throws { try apply(.mulScalar(s), name: "mul_") }
    public func addInPlace(_ s: Float) throws { try apply(.addScalar(s), name: "add_") }
    public func clampInPlace(_ lo: Float, _ hi: Float) throws {
        try check(!(lo > hi), "clamp_: lower bound \(lo) is greater than upper bound \(hi)")
        try apply(.clamp(lo, hi), name: "clamp_")
    }

    public func fill(_ value: Float) throws {
        try inPlace("fill_") {
            let o = pointer
            Strided.forEachRow(shape: shape, strides: [strides]) { off, n, rs in
                for i in 0..<n { o[off[0] + i * rs[0]] = value }
            }
        }
    }

    public func zero() throws { try fill(0) }

    /// Copies `src` (broadcast to this shape) into this tensor.
    public func copy(from src: Tensor) throws {
        try inPlace("copy_") { try assign(src) }
    }

    static func broadcastCheckInto(_ dst: Tensor, _ src: Tensor, _ op: String) throws {
        let full = try broadcastShape(dst.shape, src.shape, op)
        try check(full == dst.shape, "\(op): shape \(describe(src.shape)) cannot be broadcast into \(describe(dst.shape)) in place")
    }
}
