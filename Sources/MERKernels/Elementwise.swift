import Foundation

/// Element-by-element maps over strided rows. The tensor layer walks the outer dimensions
/// and calls these once per innermost row, so the `switch` on the op is paid per row, not
/// per element, and unit-stride rows run on 512-bit vectors.
public enum UnaryOp: Equatable, Sendable {
    case copy, neg, exp, log, sqrt, abs, relu, sigmoid, tanh, square, reciprocal, sign
    case leakyRelu(Float)
    case addScalar(Float), mulScalar(Float)
    /// s − x and s / x.
    case rsubScalar(Float), rdivScalar(Float)
    case powScalar(Float)
    case clamp(Float, Float)
    /// 1 where x == 0-threshold comparisons hold, else 0: x > s, x < s, etc.
    case gtScalar(Float), ltScalar(Float), geScalar(Float), leScalar(Float), eqScalar(Float)
}

public enum BinaryOp: Equatable, Sendable {
    case add, sub, mul, div, pow, maximum, minimum
    /// Comparisons give 1 or 0.
    case eq, ne, lt, le, gt, ge
    /// Backward helpers, (gradOut, savedOutput) → gradIn.
    case reluGrad, sigmoidGrad, tanhGrad
    case leakyReluGrad(Float)
    /// (gradOut, input) → gradOut · 1[lo ≤ x ≤ hi].
    case clampGrad(Float, Float)
}

public enum Elementwise {
    public typealias V = SIMD16<Float>

    public static func unary(_ op: UnaryOp, count: Int, x: UnsafePointer<Float>, xStride: Int,
                             out: UnsafeMutablePointer<Float>, outStride: Int) {
        switch op {
        case .copy: mapV(count, x, xStride, out, outStride, { $0 }, { $0 })
        case .neg: mapV(count, x, xStride, out, outStride, { -$0 }, { -$0 })
        case .abs: mapV(count, x, xStride, out, outStride, { Swift.abs($0) }, { v in
            v.replacing(with: -v, where: v .< 0) })
        case .relu: mapV(count, x, xStride, out, outStride, { relu($0) }, { relu($0) })
        case .square: mapV(count, x, xStride, out, outStride, { $0 * $0 }, { $0 * $0 })
        case .sqrt: mapV(count, x, xStride, out, outStride, { $0.squareRoot() }, { $0.squareRoot() })
        case .reciprocal: mapV(count, x, xStride, out, outStride, { 1 / $0 }, { 1 / $0 })
        case .sign: map(count, x, xStride, out, outStride) { $0 > 0 ? 1 : ($0 < 0 ? -1 : ($0.isNaN ? $0 : 0)) }
        case .exp: map(count, x, xStride, out, outStride) { Foundation.expf($0) }
        case .log: map(count, x, xStride, out, outStride) { Foundation.logf($0) }
        case .tanh: map(count, x, xStride, out, outStride) { Foundation.tanhf($0) }
        case .sigmoid: map(count, x, xStride, out, outStride) { sigmoid($0) }
        case .leakyRelu(let a): mapV(count, x, xStride, out, outStride, { leakyRelu($0, a) }, { leakyRelu($0, a) })
        case .addScalar(let s): mapV(count, x, xStride, out, outStride, { $0 + s }, { $0 + s })
        case .mulScalar(let s): mapV(count, x, xStride, out, outStride, { $0 * s }, { $0 * s })
        case .rsubScalar(let s): mapV(count, x, xStride, out, outStride, { s - $0 }, { s - $0 })
        case .rdivScalar(let s): mapV(count, x, xStride, out, outStride, { s / $0 }, { s / $0 })
        case .powScalar(let p):
            if p == 2 { unary(.square, count: count, x: x, xStride: xStride, out: out, outStride: outStride) }
            else if p == 1 { unary(.copy, count: count, x: x, xStride: xStride, out: out, outStride: outStride) }
            else if p == 0.5 { unary(.sqrt, count: count, x: x, xStride: xStride, out: out, outStride: outStride) }
            else { map(count, x, xStride, out, outStride) { Foundation.powf($0, p) } }
        case .clamp(let lo, let hi): map(count, x, xStride, out, outStride) { v in
            v.isNaN ? v : Swift.min(Swift.max(v, lo), hi) }
        case .gtScalar(let s): map(count, x, xStride, out, outStride) { $0 > s ? 1 : 0 }
        case .ltScalar(let s): map(count, x, xStride, out, outStride) { $0 < s ? 1 : 0 }
        case .geScalar(let s): map(count, x, xStride, out, outStride) { $0 >= s ? 1 : 0 }
        case .leScalar(let s): map(count, x, xStride, out, outStride) { $0 <= s ? 1 : 0 }
        case .eqScalar(let s): map(count, x, xStride, out, outStride) { $0 == s ? 1 : 0 }
        }
    }

    public static func binary(_ op: BinaryOp, count: Int,
                              a: UnsafePointer<Float>, aStride: Int,
                              b: UnsafePointer<Float>, bStride: Int,
                              out: UnsafeMutablePointer<Float>, outStride: Int) {
        switch op {
        case .add: zipV(count, a, aStride, b, bStride, out, outStride, { $0 + $1 }, { $0 + $1 })
        case .sub: zipV(count, a, aStride, b, bStride, out, outStride, { $0 - $1 }, { $0 - $1 })
        case .mul: zipV(count, a, aStride, b, bStride, out, outStride, { $0 * $1 }, { $0 * $1 })
        case .div: zipV(count, a, aStride, b, bStride, out, outStride, { $0 / $1 }, { $0 / $1 })
        case .pow: zip(count, a, aStride, b, bStride, out, outStride) { Foundation.powf($0, $1) }
        // NaN propagates, as torch.maximum does.
        case .maximum: zip(count, a, aStride, b, bStride, out, outStride) { x, y in
            x.isNaN || y.isNaN ? Float.nan : Swift.max(x, y) }
        case .minimum: zip(count, a, aStride, b, bStride, out, outStride) { x, y in
            x.isNaN || y.isNaN ? Float.nan : Swift.min(x, y) }
        case .eq: zip(count, a, aStride, b, bStride, out, outStride) { $0 == $1 ? 1 : 0 }
        case .ne: zip(count, a, aStride, b, bStride, out, outStride) { $0 != $1 ? 1 : 0 }
        case .lt: zip(count, a, aStride, b, bStride, out, outStride) { $0 < $1 ? 1 : 0 }
        case .le: zip(count, a, aStride, b, bStride, out, outStride) { $0 <= $1 ? 1 : 0 }
        case .gt: zip(count, a, aStride, b, bStride, out, outStride) { $0 > $1 ? 1 : 0 }
        case .ge: zip(count, a, aStride, b, bStride, out, outStride) { $0 >= $1 ? 1 : 0 }
        case .reluGrad: zipV(count, a, aStride, b, bStride, out, outStride, { g, y in y > 0 ? g : 0 }, { g, y in
            g.replacing(with: 0, where: y .<= 0) })
        case .leakyReluGrad(let s): zipV(count, a, aStride, b, bStride, out, outStride, { g, x in x >= 0 ? g : s * g }, { g, x in
            g.replacing(with: g * s, where: x .< 0) })
        case .sigmoidGrad: zipV(count, a, aStride, b, bStride, out, outStride, { g, y in g * y * (1 - y) }, { g, y in g * y * (1 - y) })
        case .tanhGrad: zipV(count, a, aStride, b, bStride, out, outStride, { g, y in g * (1 - y * y) }, { g, y in g * (1 - y * y) })
        case .clampGrad(let lo, let hi): zip(count, a, aStride, b, bStride, out, outStride) { g, x in
            x >= lo && x <= hi ? g : 0 }
        }
    }

    /// ReLU's and LeakyReLU's element formulas. The vector and scalar forms differ on −0 (and
    /// relu's on NaN handling order), and `mapV` picks them by position: 16-element blocks
    /// from the start of the run, then the tail one by one.
    @inline(__always) static func relu(_ v: V) -> V { v.replacing(with: 0, where: v .< 0) }
    @inline(__always) static func relu(_ x: Float) -> Float { x > 0 ? x : (x.isNaN ? x : 0) }
    @inline(__always) static func leakyRelu(_ v: V, _ a: Float) -> V { v.replacing(with: v * a, where: v .< 0) }
    @inline(__always) static func leakyRelu(_ x: Float, _ a: Float) -> Float { x >= 0 ? x : a * x }

    /// `unary(op, …)` in place on `count` contiguous floats, with ReLU's and LeakyReLU's loops
    /// specialised here (the same `mapV`, formulas and vector/scalar positions, so the same
    /// bits): the convolution epilogue applies its activation one output row at a time, and
    /// inside `unary`'s large switch the closures stayed calls, one per 16 floats (perf: 4 % of
    /// quick 1-sample inference).
    @inline(__always)
    public static func activateInPlace(_ op: UnaryOp, _ p: UnsafeMutablePointer<Float>, count: Int) {
        switch op {
        case .relu: mapV(count, p, 1, p, 1, { relu($0) }, { relu($0) })
        case .leakyRelu(let a): mapV(count, p, 1, p, 1, { leakyRelu($0, a) }, { leakyRelu($0, a) })
        default: unary(op, count: count, x: p, xStride: 1, out: p, outStride: 1)
        }
    }

    /// Numerically safe logistic function: never evaluates exp of a large positive number.
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.expf(-x)) }
        let e = Foundation.expf(x)
        return e / (1 + e)
    }

    // MARK: Loops

    @inline(__always)
    static func map(_ n: Int, _ x: UnsafePointer<Float>, _ xs: Int,
                    _ o: UnsafeMutablePointer<Float>, _ os: Int, _ f: (Float) -> Float) {
        if xs == 1 && os == 1 {
            for i in 0..<n { o[i] = f(x[i]) }
        } else {
            for i in 0..<n { o[i * os] = f(x[i * xs]) }
        }
    }

    @inline(__always)
    static func mapV(_ n: Int, _ x: UnsafePointer<Float>, _ xs: Int,
                     _ o: UnsafeMutablePointer<Float>, _ os: Int,
                     _ f: (Float) -> Float, _ fv: (V) -> V) {
        if xs == 1 && os == 1 {
            var i = 0
            let rx = UnsafeRawPointer(x), ro = UnsafeMutableRawPointer(o)
            while i + 16 <= n {
                ro.storeBytes(of: fv(rx.loadUnaligned(fromByteOffset: i * 4, as: V.self)), toByteOffset: i * 4, as: V.self)
                i += 16
            }
            while i < n { o[i] = f(x[i]); i += 1 }
        } else {
            for i in 0..<n { o[i * os] = f(x[i * xs]) }
        }
    }

    @inline(__always)
    static func zip(_ n: Int, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                    _ o: UnsafeMutablePointer<Float>, _ so: Int, _ f: (Float, Float) -> Float) {
        if sa == 1 && sb == 1 && so == 1 {
            for i in 0..<n { o[i] = f(a[i], b[i]) }
        } else {
            for i in 0..<n { o[i * so] = f(a[i * sa], b[i * sb]) }
        }
    }

    @inline(__always)
    static func zipV(_ n: Int, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                     _ o: UnsafeMutablePointer<Float>, _ so: Int,
                     _ f: (Float, Float) -> Float, _ fv: (V, V) -> V) {
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b), ro = UnsafeMutableRawPointer(o)
        var i = 0
        if so == 1 && sa == 1 && sb == 1 {
            while i + 16 <= n {
                let va = ra.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                let vb = rb.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                ro.storeBytes(of: fv(va, vb), toByteOffset: i * 4, as: V.self)
                i += 16
            }
            while i < n { o[i] = f(a[i], b[i]); i += 1 }
        } else if so == 1 && sa == 1 && sb == 0 {
            let vb = V(repeating: b[0])
            while i + 16 <= n {
                ro.storeBytes(of: fv(ra.loadUnaligned(fromByteOffset: i * 4, as: V.self), vb), toByteOffset: i * 4, as: V.self)
                i += 16
            }
            while i < n { o[i] = f(a[i], b[0]); i += 1 }
        } else if so == 1 && sa == 0 && sb == 1 {
            let va = V(repeating: a[0])
            while i + 16 <= n {
                ro.storeBytes(of: fv(va, rb.loadUnaligned(fromByteOffset: i * 4, as: V.self)), toByteOffset: i * 4, as: V.self)
                i += 16
            }
            while i < n { o[i] = f(a[0], b[i]); i += 1 }
        } else {
            for j in 0..<n { o[j * so] = f(a[j * sa], b[j * sb]) }
        }
    }
}
