extension Tensor {
    static func validShape(_ shape: [Int], _ op: String) throws {
        for (i, s) in shape.enumerated() {
            try check(s >= 0, "\(op): size \(s) at dimension \(i + 1) is negative")
        }
        // Refuse absurd sizes before trying to allocate them (16 G elements = 64 GiB). An
        // empty tensor counts its other dimensions too: [0, 2^40] holds nothing, but its
        // sum over dimension 1 would be 2^40 elements.
        var total = 1, reachable = 1
        for s in shape {
            let (p, overflow) = total.multipliedReportingOverflow(by: s)
            let (q, overflow2) = reachable.multipliedReportingOverflow(by: Swift.max(s, 1))
            try check(!overflow && !overflow2 && q <= 1 << 34, "\(op): shape \(describe(shape)) is too large")
            total = p; reachable = q
        }
        try MemoryBudget.check(total * 4, for: "\(op) of shape \(describe(shape))")
    }

    public static func zeros(_ shape: [Int]) throws -> Tensor {
        try validShape(shape, "zeros")
        return try Tensor(zeros: shape)
    }

    public static func ones(_ shape: [Int]) throws -> Tensor { try full(shape, 1, op: "ones") }

    public static func full(_ shape: [Int], _ value: Float, op: String = "full") throws -> Tensor {
        try validShape(shape, op)
        return try full(shape, value)
    }

    /// Unchecked variant for internal use with shapes that come from existing tensors.
    static func full(_ shape: [Int], _ value: Float) throws -> Tensor {
        let t = try Tensor(uninitialized: shape)
        t.pointer.update(repeating: value, count: t.count)
        return t
    }

    /// A tensor with the same shape as `self`, filled with `value`.
    public func filled(_ value: Float) throws -> Tensor { try Tensor.full(shape, value) }

    /// A tensor of the given shape from row-major values.
    public static func from(_ values: [Float], shape: [Int]) throws -> Tensor {
        try validShape(shape, "from")
        let n = shape.reduce(1, *)
        try check(values.count == n, "from: \(values.count) values do not fill shape \(describe(shape)) (\(n) elements)")
        let t = try Tensor(uninitialized: shape)
        values.withUnsafeBufferPointer { t.pointer.update(from: $0.baseAddress!, count: n) }
        return t
    }

    /// A 1-d tensor of values.
    public static func from(_ values: [Float]) throws -> Tensor {
        try from(values, shape: [values.count])
    }

    /// 0-d tensor holding one value.
    public static func scalar(_ value: Float) throws -> Tensor { try full([], value) }

    /// start, start+step, … below end.
    public static func arange(_ start: Float, _ end: Float, step: Float = 1) throws -> Tensor {
        try check(step != 0 && step.isFinite, "arange: step must be a finite non-zero number, got \(step)")
        try check(start.isFinite && end.isFinite, "arange: bounds must be finite")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        try validShape([n], "arange")
        let t = try Tensor(uninitialized: [n])
        for i in 0..<n { t.pointer[i] = start + Float(i) * step }
        return t
    }

    /// Uniform on [low, high).
    public static func rand(_ shape: [Int], low: Float = 0, high: Float = 1, generator: Generator = .global) throws -> Tensor {
        try validShape(shape, "rand")
        let t = try Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = low + (high - low) * generator.uniform() }
        return t
    }

    /// Normal with the given mean and standard deviation.
    public static func randn(_ shape: [Int], mean: Float = 0, std: Float = 1, generator: Generator = .global) throws -> Tensor {
        try validShape(shape, "randn")
        let t = try Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = mean + std * generator.normal() }
        return t
    }

    /// Uniform integers in [low, high) stored as floats (class labels, indices).
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], generator: Generator = .global) throws -> Tensor {
        try check(high > low, "randint: high \(high) must be greater than low \(low)")
        try validShape(shape, "randint")
        let t = try Tensor(uninitialized: shape)
        for i in 0..<t.count { t.pointer[i] = Float(low + generator.integer(below: high - low)) }
        return t
    }

    /// A contiguous copy, recorded by autograd (gradients pass straight through).
    public func clone() throws -> Tensor {
        let out = try Tensor(uninitialized: shape)
        Strided.copy(from: self, to: out.pointer)
        return out.record("clone", [self]) { g in [g] }
    }
}
