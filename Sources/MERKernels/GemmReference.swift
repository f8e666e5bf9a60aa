/// Single-precision matrix multiply on row-major buffers:
///
///     C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C
///
/// `op(A)` is A (stored m×k, row stride `lda`) or, with `transA`, Aᵀ (A stored k×m).
/// Likewise for B. `beta == 0` overwrites C without reading it (NaN in C is not propagated).
public enum Gemm {
    /// The plain triple loop, kept as the oracle the fast kernel is tested against.
    public static func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                 alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                 b: UnsafePointer<Float>, ldb: Int,
                                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += av * bv
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * acc + old
            }
        }
    }
}
