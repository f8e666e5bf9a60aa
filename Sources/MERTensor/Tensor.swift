import MERKernels

/// An n-dimensional float32 tensor: a view (shape, strides in elements, offset) of a
/// shared `Storage`. Tensors have reference semantics, like PyTorch's: views share
/// storage, and autograd attaches `grad` and `gradFn` to the object itself.
public final class Tensor {
    public let storage: Storage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int

    /// Set on leaves by the user; set on results by autograd when an input requires grad.
    public internal(set) var requiresGrad: Bool = false
    /// Accumulated gradient of a leaf after `backward()`.
    public var grad: Tensor?
    /// The node that computes this tensor's inputs' gradients (nil for leaves).
    public internal(set) var gradFn: GradNode?

    init(storage: Storage, shape: [Int], strides: [Int], offset: Int) {
        self.storage = storage; self.shape = shape; self.strides = strides; self.offset = offset
    }

    /// A new contiguous tensor, zero-filled. Throws "not enough memory" past the budget:
    /// every op allocates its result through here or `init(uninitialized:)`.
    public convenience init(zeros shape: [Int]) throws {
        self.init(storage: try Storage(count: Tensor.elementCount(shape), for: "a tensor of shape \(describe(shape))"),
                  shape: shape, strides: Tensor.contiguousStrides(shape), offset: 0)
    }

    /// A new contiguous tensor whose elements the caller must all write.
    convenience init(uninitialized shape: [Int]) throws {
        self.init(storage: try Storage(uninitializedCount: Tensor.elementCount(shape), for: "a tensor of shape \(describe(shape))"),
                  shape: shape, strides: Tensor.contiguousStrides(shape), offset: 0)
    }

    /// The number of elements of `shape`, or an error when the product overflows (a
    /// result shape computed from two valid inputs, e.g. an outer product, can).
    static func elementCount(_ shape: [Int]) throws -> Int {
        var n = 1
        for s in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: s)
            guard s >= 0, !overflow else { throw TensorError("not enough memory: a tensor of shape \(describe(shape)) has more elements than any machine holds") }
            n = p
        }
        return n
    }

    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = s
            s *= Swift.max(shape[d], 1)
        }
        return strides
    }

    // MARK: Facts

    public var rank: Int { shape.count }
    public var count: Int { shape.reduce(1, *) }
    public var isContiguous: Bool {
        var expected = 1
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] != 1 {
            if strides[d] != expected { return false }
            expected *= shape[d]
        }
        return true
    }
    /// Pointer to the first element (valid while the tensor is alive).
    public var pointer: UnsafeMutablePointer<Float> { storage.data + offset }
    public var isLeaf: Bool { gradFn == nil }

    /// Dimension index after resolving a negative index (−1 is the last), or an error naming `op`.
    public func axis(_ d: Int, _ op: String, rankOverride: Int? = nil) throws -> Int {
        let r = rankOverride ?? rank
        let a = d < 0 ? d + r : d
        try check(a >= 0 && a < r, "\(op): dimension \(d >= 0 ? d + 1 : d) out of range for a tensor with \(r) dimension\(r == 1 ? "" : "s")")
        return a
    }

    // MARK: Elements

    /// The elements in row-major order.
    public func toArray() -> [Float] {
        // Straight into the array: a contiguous copy first would need a second buffer.
        let n = count
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { Strided.copy(from: self, to: buffer.baseAddress!) }
            initialized = n
        }
    }

    /// The single value of a one-element tensor.
    public func item() throws -> Float {
        try check(count == 1, "item: tensor has \(count) elements, expected exactly 1 (shape \(describe(shape)))")
        return pointer[0]
    }

    /// Element at a full multi-index (0-based), bounds-checked.
    public func value(at index: [Int]) throws -> Float {
        try check(index.count == rank, "value: expected \(rank) indices, got \(index.count)")
        var o = offset
        for d in 0..<rank {
            try check(index[d] >= 0 && index[d] < shape[d], "value: index \(index[d]) out of range for dimension \(d + 1) of size \(shape[d])")
            o += index[d] * strides[d]
        }
        return storage.data[o]
    }

    /// This tensor if contiguous, else a contiguous copy (no autograd; see `contiguous()`).
    func contiguousData() throws -> Tensor {
        if isContiguous { return self }
        let out = try Tensor(uninitialized: shape)
        Strided.copy(from: self, to: out.pointer)
        return out
    }

    /// Enables gradient accumulation on a leaf (`t:requires_grad(true)` in Lua).
    @discardableResult
    public func requiresGrad(_ flag: Bool) throws -> Tensor {
        try check(isLeaf, "requires_grad: only leaf tensors can change requires_grad (this one is the result of \(gradFn!.name)); use detach()")
        requiresGrad = flag
        return self
    }

    /// A tensor sharing storage with this one, cut from the graph.
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { TensorFormatter.format(self) }
}
