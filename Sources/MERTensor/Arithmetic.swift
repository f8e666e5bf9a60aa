import MERKernels

// MARK: Broadcasting

extension Tensor {
    /// NumPy/PyTorch broadcasting: align shapes on the right; sizes must match or be 1.
    public static func broadcastShape(_ a: [Int], _ b: [Int], _ op: String) throws -> [Int] {
        let r = Swift.max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            try check(x == y || x == 1 || y == 1,
                      "\(op): shapes \(describe(a)) and \(describe(b)) cannot be broadcast (dimension \(i + 1): \(x) vs \(y))")
            out[i] = x == 1 ? y : x
        }
        return out
    }

    /// Strides that read this tensor as if expanded to `target` (0 on broadcast dimensions).
    func broadcastStrides(to target: [Int]) -> [Int] {
        let lead = target.count - rank
        var s = [Int](repeating: 0, count: target.count)
        for d in 0..<rank where shape[d] != 1 { s[lead + d] = strides[d] }
        return s
    }

    /// Sums a broadcast gradient back down to `target` (the inverse of broadcasting).
    public func sumTo(_ target: [Int]) throws -> Tensor {
        if shape == target { return self }
        var g = self
        let lead = rank - target.count
        try check(lead >= 0, "sumTo: cannot reduce \(describe(shape)) to \(describe(target))")
        for d in 0..<rank {
            let want = d < lead ? 1 : target[d - lead]
            if g.shape[d] != want {
                try check(want == 1, "sumTo: cannot reduce \(describe(shape)) to \(describe(target))")
                g = try g.sum(dim: d, keepDim: true)
            }
        }
        return try g.reshape(target)
    }

    /// Elementwise `op` of two broadcast tensors into a new contiguous tensor (no autograd).
    func zipWith(_ other: Tensor, _ op: BinaryOp, _ name: String) throws -> Tensor {
        let shape = try Tensor.broadcastShape(self.shape, other.shape, name)
        let out = try Tensor(uninitialized: shape)
        let a = pointer, b = other.pointer, o = out.pointer
        Strided.forEachRow(shape: shape, strides: [out.strides, broadcastStrides(to: shape), other.broadcastStrides(to: shape)],
                           freshOutput: true) { off, n, rs in
            Elementwise.binary(op, count: n, a: a + off[1], aStride: rs[1], b: b + off[2], bStride: rs[2], out: o + off[0], outStride: rs[0])
        }
        return out
    }

    /// Elementwise map into a new contiguous tensor (no autograd).
    func map(_ op: UnaryOp) throws -> Tensor {
        let out = try Tensor(uninitialized: shape)
        let x = pointer, o = out.pointer
        Strided.forEachRow(shape: shape, strides: [out.strides, strides], freshOutput: true) { off, n, rs in
            Elementwise.unary(op, count: n, x: x + off[1], xStride: rs[1], out: o + off[0], outStride: rs[0])
        }
        return out
    }

    /// Gradient addition used by the tape (never recorded).
    func adding(_ other: Tensor) throws -> Tensor { try zipWith(other, .add, "add") }
}

// MARK: Binary arithmetic with autograd

extension Tensor {
    public func add(_ other: Tensor) throws -> Tensor {
        let out = try zipWith(other, .add, "add")
        let (sa, sb) = (shape, other.shape)
        return out.record("add", [self, other]) { g in [try g.sumTo(sa), try g.sumTo(sb)] }
    }

    public func sub(_ other: Tensor) throws -> Tensor {
        let out = try zipWith(other, .sub, "sub")
        let (sa, sb) = (shape, other.shape)
        return out.record("sub", [self, other]) { g in [try g.sumTo(sa), try g.map(.neg).sumTo(sb)] }
    }

    public func mul(_ other: Tensor) throws -> Tensor {
        let out = try zipWith(other, .mul, "mul")
        let a = self.detach(), b = other.detach()
        return out.record("mul", [self, other]) { g in
            [self.requiresGrad ? try g.zipWith(b, .mul, "mul").sumTo(a.shape) : nil,
             other.requiresGrad ? try g.zipWith(a, .mul, "mul").sumTo(b.shape) : nil]
        }
    }

    public func div(_ other: Tensor) throws -> Tensor {
        let out = try zipWith(other, .div, "div")
        let a = self.detach(), b = other.detach()
        return out.record("div", [self, other]) { g in
            // d(a/b)/da = 1/b ; d(a/b)/db = −a/b²
            let ga = self.requiresGrad ? try g.zipWith(b, .div, "div").sumTo(a.shape) : nil
            let gb = other.requiresGrad
                ? try g.zipWith(a, .mul, "mul").zipWith(b.map(.square), .div, "div").map(.neg).sumTo(b.shape) : nil
            return [ga, gb]
        }
    }

    /// Elementwise power with a tensor exponent.
    public func pow(_ other: Tensor) throws -> Tensor {
        let out = try zipWith(other, .pow, "pow")
        let a = self.detach(), b = other.detach(), y = out.detach()
        return out.record("pow", [self, other]) { g in
            // d(a^b)/da = b·a^(b−1) ; d(a^b)/db = a^b · ln a
            let ga = self.requiresGrad
                ? try g.zipWith(b.zipWith(a.zipWith(b.map(.addScalar(-1)), .pow, "pow"), .mul, "mul"), .mul, "mul").sumTo(a.shape) : nil
            let gb = other.requiresGrad ? try g.zipWith(y.zipWith(a.map(.log), .mul, "mul"), .mul, "mul").sumTo(b.shape) : nil
            return [ga, gb]
        }
    }

    /// Elementwise maximum / minimum (gradient goes to the chosen side; ties to `self`).
    public func maximum(_ other: Tensor) throws -> Tensor { try pick(other, largest: true) }
    public func minimum(_ other: Tensor) throws -> Tensor { try pick(other, largest: false) }

    private func pick(_ other: Tensor, largest: Bool) throws -> Tensor {
        let name = largest ? "maximum" : "minimum"
        let out = try zipWith(other, largest ? .maximum : .minimum, name)
        let a = self.detach(), b = other.detach()
        return out.record(name, [self, other]) { g in
            let takeA = try a.zipWith(b, largest ? .ge : .le, name)
            let ga = try g.zipWith(takeA, .mul, "mul").sumTo(a.shape)
            let gb = try g.zipWith(takeA.map(.rsubScalar(1)), .mul, "mul").sumTo(b.shape)
            return [ga, gb]
        }
    }

    // Comparisons: 1 where true, 0 elsewhere; not differentiable.
    public func eq(_ o: Tensor) throws -> Tensor { try zipWith(o, .eq, "eq") }
    public func ne(_ o: Tensor) throws -> Tensor { try zipWith(o, .ne, "ne") }
    public func lt(_ o: Tensor) throws -> Tensor { try zipWith(o, .lt, "lt") }
    public func le(_ o: Tensor) throws -> Tensor { try zipWith(o, .le, "le") }
    public func gt(_ o: Tensor) throws -> Tensor { try zipWith(o, .gt, "gt") }
    public func ge(_ o: Tensor) throws -> Tensor { try zipWith(o, .ge, "ge") }

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.add(b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.sub(b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.mul(b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.div(b) }
    public static func + (a: Tensor, s: Float) throws -> Tensor { try a.adding(scalar: s) }
    public static func - (a: Tensor, s: Float) throws -> Tensor { try a.adding(scalar: -s) }
    public static func * (a: Tensor, s: Float) throws -> Tensor { try a.multiplied(by: s) }
    public static func / (a: Tensor, s: Float) throws -> Tensor { try a.multiplied(by: 1 / s) }
    public static func + (s: Float, a: Tensor) throws -> Tensor { try a.adding(scalar: s) }
    public static func * (s: Float, a: Tensor) throws -> Tensor { try a.multiplied(by: s) }
    public static func - (s: Float, a: Tensor) throws -> Tensor { try a.rsub(s) }
    public static func / (s: Float, a: Tensor) throws -> Tensor { try a.rdiv(s) }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.neg() }
}
