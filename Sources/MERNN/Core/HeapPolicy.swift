#if canImport(Glibc)
import Glibc
#endif

/// Keeps freed memory in the process heap instead of handing it back to the OS.
///
/// A training step allocates and frees the same large activation and gradient buffers
/// every time (the paper configuration's first-stage maps are 51 MB each). glibc serves
/// blocks ≥ 128 KiB with fresh `mmap`s and unmaps them on `free`, so each step page-faults
/// every buffer in again and the kernel zeroes it: `clear_page_erms` alone was 13 % of a
/// paper-config training step under `perf`, and the step ran ~15 % faster with the
/// setting below (mer-bench --model-profile paper, same machine, alternating runs).
/// `M_MMAP_MAX = 0` puts big blocks on the heap, where freed ones are reused;
/// `M_TRIM_THRESHOLD` stops glibc from shrinking the heap after each step. Peak resident
/// memory is unchanged (the step's working set is live at its peak either way).
///
/// A process-wide choice, so the host makes it at start-up (`mer-script`, `mer-bench`), not a
/// library type as a side effect: reading `applied` applies it once; a no-op off glibc.
public enum HeapPolicy {
    /// Whether the policy was applied (false off glibc or if `mallopt` refused).
    public static let applied: Bool = {
        #if canImport(Glibc)
        // <malloc.h> is not part of the Glibc module: look mallopt up at run time
        // (RTLD_DEFAULT is the null handle on glibc). Constants from <malloc.h>.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let sym = dlsym(nil, "mallopt") else { return false }
        let mallopt = unsafeBitCast(sym, to: Mallopt.self)
        let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_MAX: Int32 = -4
        return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, Int32.max) == 1
        #else
        return false
        #endif
    }()
}
