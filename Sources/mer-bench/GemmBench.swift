import MERKernels

struct GemmResult {
    var m, n, k, threads: Int
    var seconds: Double
    var gflops: Double
    var pctPeak: Double
}

/// Square SGEMMs (no transposes, beta = 0) on 1 thread and on all threads.
/// Reports the best of several runs: the kernel's capability, not the machine's noise.
func gemmBenchmarks(_ ctx: BenchContext) -> [GemmResult] {
    var out: [GemmResult] = []
    for size in ctx.options.sizes {
        let m = size, n = size, k = size
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        fillRandom(a, count: m * k, seed: 1)
        fillRandom(b, count: k * n, seed: 2)
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        // Aim for ~0.5 s (quick: ~0.1 s) of timed work per row, at least 3 runs.
        let budget = ctx.options.quick ? 2e10 : 1e11
        let reps = max(3, min(50, Int(budget / flops)))
        for t in ctx.threadCounts {
            let secs = Bench.bestTime(reps: reps) {
                Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k,
                           b: b, ldb: n, beta: 0, c: c, ldc: n, threads: t)
            }
            let gf = flops / secs / 1e9
            out.append(GemmResult(m: m, n: n, k: k, threads: t, seconds: secs, gflops: gf,
                                  pctPeak: 100 * gf / ctx.peak(threads: t)))
        }
    }
    return out
}

/// GFLOP/s of the 1024³ GEMM on `threads` (or the nearest size measured), the yardstick
/// for "how far is this kernel from a plain GEMM of the same work".
func gemmRate(_ results: [GemmResult], threads: Int) -> Double? {
    let rows = results.filter { $0.threads == threads }
    return (rows.first { $0.m == 1024 } ?? rows.min { abs($0.m - 1024) < abs($1.m - 1024) })?.gflops
}
