import CKernelsBF16

/// The arithmetic the packed GEMM multiplies in: every convolution (direct and Winograd),
/// linear layer and matmul goes through it, so this one switch is mixed precision.
///
/// - `float32`: IEEE single precision throughout (the default, and the reference).
/// - `bfloat16`: both operands are rounded to bfloat16 (8-bit mantissa, nearest-even) as they
///   are packed, and AVX512_BF16's `VDPBF16PS` multiplies them with float32 accumulation:
///   twice the multiply-adds per instruction of a float32 FMA. Results and everything stored
///   stay float32 (master weights, gradients, activations); only the products' inputs lose
///   precision, a relative error of about 2⁻⁹ per operand (the tests' bound).
///
/// Measured on the 2-core Zen 4 (2026-11-30): the micro-kernel alone 231 GFLOP/s per core in
/// cache against the float32 FMA peak of 118; `mer-bench --sizes 1024,2048 [--bf16]` 192 / 373
/// GFLOP/s on 1 / 2 threads against 107 / 208; convolution-shaped products (one thread,
/// `m·k × k·n` from the DBFEM layers) 1.24× (n = 16, k = 2304) to 1.73× (320·2880 × 2880·784).
/// The packing converts each float32 panel after packing it; the A panels' conversion is
/// vectorized because narrow products (a deep layer's 16 pixels per image) meet each A
/// element only a few times: converted by a scalar loop they ran 0.71× float32's speed.
///
/// Products too small for packing (m·n·k < 32³) stay float32 either way, and so do Winograd
/// convolutions (`WinogradKernels` runs its products in float32 whatever `current` says):
/// measured against the float32 reference (`GemmBFloat16Tests`), F(4×4,3×3) in bf16 errs by
/// 7–8 % of the largest output, because its transforms scale by up to 8 and the bf16
/// rounding of the transformed operands is amplified with them; F(2×2,3×3) by 0.4 % but it is
/// no faster than direct bf16; the direct kernel by 0.2 %. The K order of the
/// accumulation does not depend on the thread split, so a fixed thread count still gives
/// bit-identical results.
public enum GemmPrecision: String, Sendable, CaseIterable {
    case float32, bfloat16

    /// The calling thread's choice, read when a GEMM starts (Lua: `mer.autocast`). It is
    /// per thread, so another thread (a data loader's) keeps float32 whatever the training
    /// thread does; `Parallel`'s workers run with the precision of the thread that launched them.
    public static var current: GemmPrecision {
        get { mer_gemm_precision_get() == 1 ? .bfloat16 : .float32 }
        set { mer_gemm_precision_set(newValue == .bfloat16 ? 1 : 0) }
    }

    /// Whether this CPU runs the bfloat16 kernel (AVX512_BF16, checked once at run time).
    public static let bfloat16Supported: Bool = mer_bf16_supported() != 0

    /// Runs `body` with `precision` as `current`, restoring the previous value afterwards
    /// (also when it throws). Autograd uses it so a backward pass multiplies in the
    /// precision its forward pass did.
    public static func with<R>(_ precision: GemmPrecision, _ body: () throws -> R) rethrows -> R {
        let saved = current
        current = precision
        defer { current = saved }
        return try body()
    }

    /// float32 → bfloat16 → float32 as the packing rounds: nearest-even, subnormals to ±0,
    /// NaN quiet. Written apart from the C conversion so the tests compare two versions.
    public static func roundToBFloat16(_ x: Float) -> Float {
        var u = x.bitPattern
        let exponent = u & 0x7f80_0000
        if exponent == 0x7f80_0000 { return x.isNaN ? .nan : x }
        if exponent == 0 { return Float(bitPattern: u & 0x8000_0000) }
        u = u &+ 0x7fff &+ ((u >> 16) & 1)
        return Float(bitPattern: u & 0xffff_0000)
    }

    /// The C conversion's result (for the tests that compare the two).
    public static func bfloat16Bits(_ x: Float) -> UInt16 { mer_bf16_from_float(x) }
}

extension Gemm {
    /// The oracle for the bfloat16 kernel: `reference` on copies of the operands rounded to
    /// bfloat16 (the rows `lda` / `ldb` apart that op(A) and op(B) read).
    public static func referenceBFloat16(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                                         alpha: Float, a: UnsafePointer<Float>, lda: Int,
                                         b: UnsafePointer<Float>, ldb: Int,
                                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // The last row is read only up to its last used column, as the kernel reads it.
        func rounded(_ p: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int) -> [Float] {
            (0..<max(0, (rows - 1) * ld + cols)).map { GemmPrecision.roundToBFloat16(p[$0]) }
        }
        let a16 = rounded(a, rows: transA ? k : m, cols: transA ? m : k, ld: lda)
        let b16 = rounded(b, rows: transB ? n : k, cols: transB ? k : n, ld: ldb)
        reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a16, lda: lda,
                  b: b16, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}
