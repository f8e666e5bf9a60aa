import MERTensor

/// Finite-difference checking for whole networks, which are full of kinks: ReLU at 0,
/// ties among zeros in a max over channels, max-pool winners. A central difference of
/// step ε that straddles a kink measures a mix of the two one-sided slopes, so a correct
/// backward can "fail" `GradCheck.check`. Here a probe that disagrees is retried with
/// steps ε/8 and ε/100. If neither agrees, the probe is excused as "on a kink" only when
/// the numeric slopes disagree among themselves (ε/8 vs ε/100 central, or left vs right
/// one-sided at ε/8): a wrong backward gives consistent numeric slopes that differ from
/// it, and fails. Excused probes are counted and must stay a small fraction.
/// Same loss as `GradCheck`: L = Σ f(x) ⊙ w with a fixed random w, summed in Double.
public struct KinkGradCheckFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

public enum KinkAwareGradCheck {
    @discardableResult
    public static func check(_ inputs: [Tensor], eps: Float = 1e-2, atol: Float = 3e-3, rtol: Float = 2e-2,
                      maxProbes: Int = 60, maxKinkFraction: Double = 0.1, seed: UInt64 = 7,
                      _ f: ([Tensor]) throws -> Tensor) throws -> (probes: Int, kinks: Int) {
        for x in inputs { x.grad = nil; try x.requiresGrad(true) }
        let y = try f(inputs)
        let w = try Tensor.randn(y.shape, generator: Generator(seed: seed))
        try (y * w).sum().backward()
        let weights = w.toArray().map(Double.init)
        func loss() throws -> Double {
            let out = try GradMode.disabled { try f(inputs) }
            return zip(out.toArray(), weights).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        }
        func close(_ a: Float, _ b: Float) -> Bool { abs(a - b) <= atol + rtol * max(abs(a), abs(b)) }

        var probes = 0, kinks = 0
        for (k, x) in inputs.enumerated() {
            guard let grad = x.grad else { throw KinkGradCheckFailure("input \(k): backward produced no gradient") }
            let analytic = grad.toArray()
            let step = max(1, x.count / maxProbes)
            for i in stride(from: 0, to: x.count, by: step) {
                probes += 1
                let saved = x.pointer[i]
                func at(_ d: Float) throws -> Double {
                    try GradCheck.set(x, i, saved + d)
                    defer { try? GradCheck.set(x, i, saved) }
                    return try loss()
                }
                let a = analytic[i]
                let central = Float((try at(eps) - at(-eps)) / (2 * Double(eps)))
                if close(a, central) { continue }
                let h = eps / 8, tiny = eps / 100
                let (plus, mid, minus) = (try at(h), try at(0), try at(-h))
                let fine = Float((plus - minus) / (2 * Double(h)))
                let veryFine = Float((try at(tiny) - at(-tiny)) / (2 * Double(tiny)))
                if close(a, fine) || close(a, veryFine) { continue }
                let right = Float((plus - mid) / Double(h)), left = Float((mid - minus) / Double(h))
                if !close(fine, veryFine) || !close(left, right) { kinks += 1; continue }
                throw KinkGradCheckFailure("input \(k) (shape \(x.shape)) element \(i): analytic \(a), numeric \(central) (ε), \(fine) (ε/8), \(veryFine) (ε/100), one-sided \(left) / \(right)")
            }
        }
        if Double(kinks) > maxKinkFraction * Double(probes) {
            throw KinkGradCheckFailure("\(kinks) of \(probes) probes sat on kinks; too many to trust the check")
        }
        return (probes, kinks)
    }
}
