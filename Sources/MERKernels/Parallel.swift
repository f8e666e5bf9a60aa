import CParallel
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The engine's thread budget and its one way of running work on several cores.
///
/// Work is always split statically (the same parts for a given thread count), and a part
/// computes the same values whichever thread runs it, so a given thread count gives
/// bit-identical results run after run. Which thread runs which part is not fixed: the
/// threads claim parts in turn (`WorkerPool`), so a thread that is held up (not yet woken,
/// or kept off its core by another process) leaves the parts it has not started to the others.
public enum Parallel {
    /// Number of worker threads kernels may use. Defaults to the cores this process may run on.
    public static var threads: Int {
        get { _threads }
        set { _threads = max(1, min(newValue, 256)) }
    }
    nonisolated(unsafe) private static var _threads: Int = Parallel.availableCores

    /// Cores this process may run on: its affinity mask (taskset, cpusets, Slurm's binding),
    /// else the cores online. Read once, at first use.
    public static let availableCores: Int = {
        let usable = Int(mer_usable_cpus())
        return usable > 0 ? usable : max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }()

    /// How long `WorkerPool`'s helpers poll for their next job before they sleep. Polling
    /// costs a core that would otherwise idle between parallel phases; waking costs ~40 µs
    /// per job (see `WorkerPool`). `mer-bench --spin-us N` measures other values.
    nonisolated(unsafe) public static var spinMicroseconds = 300.0

    /// Elements from which a memory-bound walk (elementwise ops, copies, reductions) is split
    /// over the threads. 2¹⁶ was set when a split was a libdispatch fork/join (tens of µs);
    /// `WorkerPool`'s polling helpers take a part within a µs or two, and the attention's
    /// products and reductions on batch-1 maps (1 × 692 × 7 × 7 = 34k floats, 5–10 µs on one
    /// core) ran on one core while the other waited.
    public static let minimumElements = 1 << 14

    /// Jobs `WorkerPool` has run (the rest of the multi-part calls went through libdispatch).
    public static var pooledJobs: Int { WorkerPool.shared.jobNumber }

    /// Runs `body(part)` for `part` in `0..<parts`, on up to `threads` cores: on the
    /// calling thread and `WorkerPool`'s helpers, or through libdispatch when the pool is
    /// already running a job (a nested call, another thread's) or `threads` is more than
    /// `availableCores`.
    /// With one part or one thread it runs inline on the caller's thread.
    public static func run(parts: Int, threads: Int = Parallel.threads, _ body: (Int) -> Void) {
        if parts <= 0 { return }
        if parts == 1 || threads <= 1 {
            for p in 0..<parts { body(p) }
            return
        }
        // More threads than cores (`--threads 4` on 2): polling helpers would take the cores
        // from the threads with work (quick 1-sample inference took 50–55 ms against 16 through
        // libdispatch, which runs the parts on as many threads as there are cores).
        if threads <= availableCores, WorkerPool.shared.run(parts: parts, threads: threads, body) { return }
        // Workers multiply in the launching thread's precision (it is thread-local).
        let precision = GemmPrecision.current
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            if parts <= threads {
                DispatchQueue.concurrentPerform(iterations: parts) { p in
                    GemmPrecision.with(precision) { box.value(p) }
                }
            } else {
                // More parts than threads: each worker takes a fixed stride of parts.
                let workers = threads
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    GemmPrecision.with(precision) {
                        var p = w
                        while p < parts { box.value(p); p += workers }
                    }
                }
            }
        }
    }

    /// Splits `0..<count` into `parts` contiguous ranges whose bounds are multiples of
    /// `granule` (except the last), and calls `body(range)` for each in parallel.
    public static func forRanges(_ count: Int, granule: Int = 1, threads: Int = Parallel.threads,
                                 _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let units = (count + granule - 1) / granule
        let parts = max(1, min(threads, units))
        run(parts: parts, threads: threads) { p in
            let lo = (units * p / parts) * granule
            let hi = min(count, (units * (p + 1) / parts) * granule)
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// Wraps a value (raw pointers, closures) that is shared across worker threads by design:
/// the kernels guarantee each worker writes a disjoint region.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
