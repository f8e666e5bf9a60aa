#if canImport(Glibc)
import Glibc
#endif

/// Measures the machine's single-precision FMA throughput: the ceiling GEMM is judged against.
///
/// Each thread runs 16 independent `SIMD16<Float>` FMA chains. An FMA has ~4 cycles of
/// latency and the core retires up to 2 (256-bit halves) per cycle, so at least
/// latency × pipes = 8 chains are needed to keep the pipes full; 16 leave margin for any
/// CPU with deeper latency while still fitting in registers. Values stay bounded
/// (x ← x·0.999… + ε converges) so no denormals or infinities slow the loop.
public enum PeakFLOPs {
    /// Sustained GFLOP/s over all `threads` threads (each FMA counts 2 FLOPs per lane),
    /// running concurrently for about `seconds`.
    public static func measure(threads: Int, seconds: Double) -> Double {
        let t = max(1, threads)
        let rates = UnsafeMutablePointer<Double>.allocate(capacity: t)
        defer { rates.deallocate() }
        let box = UncheckedSendable(rates)
        Parallel.run(parts: t, threads: t) { p in
            // The best of many short slices: on a shared machine a slice that was not
            // preempted measures the hardware, a long average measures the neighbours.
            let start = now()
            var best = 0.0
            var sink: Float = 0
            repeat {
                let s0 = now()
                sink += chains(iterations: 100_000, seed: Float(p + 1) * 1e-7 + sink * 1e-30)
                let dt = now() - s0
                // 16 chains × 16 lanes × 2 FLOPs per iteration.
                best = max(best, 100_000 * 16 * 16 * 2 / dt + (sink == .infinity ? 1 : 0))
            } while now() - start < seconds
            box.value[p] = best
        }
        var total = 0.0
        for p in 0..<t { total += rates[p] }
        return total / 1e9
    }

    /// Seconds on a monotonic clock.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    @inline(never)
    static func chains(iterations: Int, seed: Float) -> Float {
        let m = SIMD16<Float>(repeating: 0.9999999)
        let e = SIMD16<Float>(repeating: seed)
        var x0 = e, x1 = e + 1, x2 = e + 2, x3 = e + 3, x4 = e + 4, x5 = e + 5, x6 = e + 6, x7 = e + 7
        var x8 = e + 8, x9 = e + 9, x10 = e + 10, x11 = e + 11, x12 = e + 12, x13 = e + 13
        var x14 = e + 14, x15 = e + 15
        for _ in 0..<iterations {
            x0 = e.addingProduct(x0, m); x1 = e.addingProduct(x1, m)
            x2 = e.addingProduct(x2, m); x3 = e.addingProduct(x3, m)
            x4 = e.addingProduct(x4, m); x5 = e.addingProduct(x5, m)
            x6 = e.addingProduct(x6, m); x7 = e.addingProduct(x7, m)
            x8 = e.addingProduct(x8, m); x9 = e.addingProduct(x9, m)
            x10 = e.addingProduct(x10, m); x11 = e.addingProduct(x11, m)
            x12 = e.addingProduct(x12, m); x13 = e.addingProduct(x13, m)
            x14 = e.addingProduct(x14, m); x15 = e.addingProduct(x15, m)
        }
        let s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7))
            + ((x8 + x9) + (x10 + x11)) + ((x12 + x13) + (x14 + x15))
        return s.sum()
    }
}
