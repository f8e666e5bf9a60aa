import MERTensor

/// Finite-difference gradient checking, the independent reference for every backward.
///
/// For a function f of some leaf tensors, L = Σ f(x) ⊙ w with a fixed random w (so every
/// output element matters with a different weight). The analytic ∂L/∂x from `backward()` is
/// compared with central differences (L(x+ε) − L(x−ε)) / 2ε, summed in Double.
public struct GradCheckFailure: Error, CustomStringConvertible {
    public let description: String
}

public enum GradCheck {
    /// Throws a `GradCheckFailure` naming the first element whose gradients disagree.
    /// At most `maxProbes` elements per input are probed (spread evenly) to keep it fast.
    public static func check(_ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 2e-3, rtol: Float = 2e-2,
                             maxProbes: Int = 120, seed: UInt64 = 7,
                             _ f: ([Tensor]) throws -> Tensor) throws {
        for x in inputs { x.grad = nil; try x.requiresGrad(true) }
        let y = try f(inputs)
        let w = try Tensor.randn(y.shape, generator: Generator(seed: seed))
        try (y * w).sum().backward()
        let weights = w.toArray().map(Double.init)

        func loss() throws -> Double {
            let out = try GradMode.disabled { try f(inputs) }
            return zip(out.toArray(), weights).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        }

        for (k, x) in inputs.enumerated() {
            guard let grad = x.grad else {
                throw GradCheckFailure(description: "input \(k): backward produced no gradient")
            }
            let analytic = grad.toArray()
            let n = x.count
            let step = max(1, n / maxProbes)
            for i in stride(from: 0, to: n, by: step) {
                let saved = x.pointer[i]
                try set(x, i, saved + eps)
                let plus = try loss()
                try set(x, i, saved - eps)
                let minus = try loss()
                try set(x, i, saved)
                let numeric = Float((plus - minus) / (2 * Double(eps)))
                let a = analytic[i]
                if !(abs(a - numeric) <= atol + rtol * max(abs(numeric), abs(a))) {
                    throw GradCheckFailure(description: "input \(k) (shape \(x.shape)) element \(i): analytic \(a), numeric \(numeric)")
                }
            }
        }
    }

    /// Random tensor whose entries stay at least `gap` away from each other's ties and from
    /// zero, so kinks (relu, abs, max) are not straddled by ±eps.
    /// Writes element i through the in-place API, so the storage version moves as with any
    /// in-place write (autograd's check and inference's prepared weights rely on it).
    public static func set(_ x: Tensor, _ i: Int, _ v: Float) throws {
        try GradMode.disabled { try x.updateContiguousElements("gradcheck") { p, _ in p[i] = v } }
    }

    public static func input(_ shape: [Int], seed: UInt64, scale: Float = 1, awayFromZero: Float = 0) -> Tensor {
        let g = Generator(seed: seed)
        let t = try! Tensor.zeros(shape)
        for i in 0..<t.count {
            var v = g.normal() * scale
            if awayFromZero > 0 && abs(v) < awayFromZero { v = v < 0 ? v - awayFromZero : v + awayFromZero }
            t.pointer[i] = v
        }
        return t
    }

    /// A permutation of distinct, well-separated values (for max-type ops: no ties).
    public static func distinct(_ shape: [Int], seed: UInt64, spacing: Float = 0.1) -> Tensor {
        let t = try! Tensor.zeros(shape)
        let perm = Generator(seed: seed).permutation(t.count)
        for i in 0..<t.count { t.pointer[i] = (Float(perm[i]) - Float(t.count) / 2) * spacing }
        return t
    }
}
