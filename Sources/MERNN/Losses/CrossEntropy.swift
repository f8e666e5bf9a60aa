import MERTensor

/// Loss functions (PyTorch's `torch.nn.functional` losses), mean-reduced to a 0-d tensor.
public enum Loss {}

extension Loss {
    /// Cross-entropy of class scores `logits` (N, C) against class indices `target` (N),
    /// 0-based and stored as floats — PyTorch's `F.cross_entropy(logits, target, weight,
    /// label_smoothing=ε)` with mean reduction:
    ///
    ///     logp = log_softmax(logits, dim=1)
    ///     nll    = −Σ_i w[y_i] · logp[i, y_i] / Σ_i w[y_i]
    ///     smooth = −Σ_i Σ_c w[c] · logp[i, c] / C / Σ_i w[y_i]
    ///     loss   = (1 − ε) · nll + ε · smooth
    ///
    /// (w ≡ 1 without `weight`, so both divisors become N.) Both terms are linear in logp,
    /// so the loss is −Σ A ⊙ logp for a constant coefficient matrix A built from a one-hot
    /// mask; the gradient comes from the log-softmax and product ops' autograd.
    public static func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                    labelSmoothing: Float = 0) throws -> Tensor {
        guard logits.rank == 2 else {
            throw TensorError("cross_entropy: logits must have shape (N, C), got \(logits.shape)")
        }
        let n = logits.shape[0], c = logits.shape[1]
        guard n > 0 else { throw TensorError("cross_entropy: the batch is empty (logits shape \(logits.shape))") }
        guard c > 0 else { throw TensorError("cross_entropy: logits have no classes (shape \(logits.shape))") }
        guard target.rank == 1, target.shape[0] == n else {
            throw TensorError("cross_entropy: target must have shape [\(n)] (one class index per row of logits \(logits.shape)), got \(target.shape)")
        }
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw TensorError("cross_entropy: label_smoothing must be in [0, 1], got \(labelSmoothing)")
        }
        var w = [Double](repeating: 1, count: c)
        if let weight {
            guard weight.rank == 1, weight.shape[0] == c else {
                throw TensorError("cross_entropy: weight must have one entry per class, shape [\(c)], got \(weight.shape)")
            }
            w = weight.toArray().map(Double.init)
        }
        let labels = target.toArray()
        var classes = [Int](repeating: 0, count: n)
        for (i, y) in labels.enumerated() {
            guard y.isFinite, y == y.rounded() else {
                throw TensorError("cross_entropy: target \(y) at position \(i) is not an integer class index")
            }
            guard y >= 0, y < Float(c) else {
                // Formatted from the float: Int(y) itself would trap past Int.max.
                throw TensorError("cross_entropy: target \(String(format: "%.0f", Double(y))) at position \(i) is out of range for \(c) classes")
            }
            classes[i] = Int(y)
        }

        // A[i, c] = ((1 − ε)·w[c]·[c == y_i] + ε·w[c]/C) / Σ_i w[y_i], computed in Double.
        let eps = Double(labelSmoothing)
        let total = classes.reduce(0.0) { $0 + w[$1] }
        var coeff = [Float](repeating: 0, count: n * c)
        for i in 0..<n {
            for k in 0..<c {
                var a = eps > 0 ? eps * w[k] / Double(c) : 0
                if k == classes[i] { a += (1 - eps) * w[k] }
                coeff[i * c + k] = Float(a / total)
            }
        }
        let logp = try logits.logSoftmax(dim: 1)
        return try (logp * Tensor.from(coeff, shape: [n, c])).sum().neg()
    }
}
