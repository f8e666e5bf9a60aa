import Foundation

/// Free lists of large tensor buffers by size class, reused across training steps.
///
/// A training step allocates and frees the same large activation and gradient buffers every
/// time (the paper configuration's first-stage maps are 51 MB each). glibc serves such blocks
/// with fresh `mmap`s and unmaps them on `free`, so without a cache each step page-faults
/// every buffer in again and the kernel zeroes it (`clear_page_erms` was 13 % of a paper
/// step under `perf`; with no cache at all the step ran 24 % slower). Keeping freed blocks
/// here, by size class, hands the next step the same pages. (This replaces a process-wide
/// `mallopt` that put every block on the C heap and never trimmed it: the cache is ours,
/// bounded, and can be emptied.)
///
/// Classes: sizes from `minimumBytes` up, rounded up to the next eighth of a power of two
/// (at most 12.5 % slack), so a tensor whose shape varies a little (a smaller last batch)
/// still finds a block; an idle block of a larger class, up to twice the size, may serve too
/// (see `take`). Cached blocks are not counted in `MemoryBudget` (they hold no
/// tensor), but the cache keeps no more than the budget's headroom, and at most
/// `capacityBytes`; it is emptied when the system refuses an allocation.
public enum StoragePool {
    /// Smaller blocks are left to glibc, whose heap reuses freed space with coalescing (its mmap
    /// threshold adapts upwards as mapped blocks are freed). The bound was measured
    /// (`mer-bench --model --model-only paper|quick`, alternating with the mallopt build, two
    /// rounds): from 8 MiB both configurations train at the old speed with the lowest peaks
    /// (paper 1833–1842 MB, quick 626–637 MB, against 2175–2282 and 823–831); caching from
    /// 128 KiB held 1941 MB at the paper peak (blocks of one class idle in the cache while
    /// backward asked for others, which the heap would have coalesced); from 32 MiB the quick
    /// configuration, whose maps are 17 MB, ran 10–15 % slower.
    public static let minimumBytes = 8 << 20

    private static let lock = NSLock()
    nonisolated(unsafe) private static var free: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cached = 0
    nonisolated(unsafe) private static var capacity = min(Int(clamping: ProcessInfo.processInfo.physicalMemory) / 4, 8 << 30)

    /// The most bytes the cache keeps; blocks freed beyond it go back to the system.
    public static var capacityBytes: Int {
        get { lock.withLock { capacity } }
        set {
            lock.withLock { capacity = max(0, newValue) }
            shrink(to: capacityBytes)
        }
    }

    /// Bytes held in the free lists now.
    public static var cachedBytes: Int { lock.withLock { cached } }

    /// The block size a request of `bytes` gets: itself below `minimumBytes`, else rounded up
    /// to an eighth of its power of two (nil if that overflows).
    public static func classBytes(_ bytes: Int) -> Int? {
        guard bytes >= minimumBytes else { return bytes }
        let top = Int.bitWidth - 1 - bytes.leadingZeroBitCount   // 2^top ≤ bytes < 2^(top+1)
        let step = 1 << (top - 3)
        let (rounded, overflow) = bytes.addingReportingOverflow(step - 1)
        return overflow ? nil : rounded / step * step
    }

    /// A 64-byte aligned block for a request of class `classBytes`, and the block's own class
    /// (what `give` must be told): the smallest cached block of that class or up to
    /// `largestFit` times larger, else a new one; nil if the system refuses even after the
    /// cache is emptied. A larger block's excess over `classBytes` is counted in `MemoryBudget`
    /// here, and such a block is passed over when the excess does not fit `mer.max_memory`: live
    /// tensors never hold more than the budget beyond the class rounding. The caller releases
    /// the excess with the block (`Storage.deinit`).
    ///
    /// Why a larger block may serve: forward and backward ask for different sizes (the paper
    /// configuration's forward frees 52, 32 and 16 MB maps, its backward then asks for 11–15 MB
    /// gradients). With exact classes only, every block both phases use stays mapped: 54 blocks
    /// after the first step, none reused across the phases, and a peak RSS of 1827–1846 MB
    /// (`mer-bench --model --model-only paper`, two rounds). Letting an idle block up to 2× the
    /// request serve it: 1682–1686 MB; up to 5×: 1668–1681; any size: 1676–1691; the step time
    /// did not move (146–161 ms/sample across all four, alternating). The quick configuration
    /// went from 624–627 to 607–614 MB. The bound keeps a small tensor from holding a much
    /// larger block (and the large request after it from missing).
    static func take(_ classBytes: Int) -> (block: UnsafeMutableRawPointer, classBytes: Int)? {
        if classBytes >= minimumBytes {
            let hit: (UnsafeMutableRawPointer, Int)? = lock.withLock {
                let limit = classBytes.multipliedReportingOverflow(by: largestFit)
                let fits = free.keys.filter { $0 >= classBytes && (limit.overflow || $0 <= limit.partialValue) }
                // The smallest fit; if its excess passes the budget, any larger one's does too.
                guard let size = fits.min(),
                      size == classBytes || (try? MemoryBudget.reserve(size - classBytes, for: "a tensor")) != nil,
                      let p = free[size]?.popLast() else { return nil }
                if free[size]!.isEmpty { free[size] = nil }
                cached -= size
                return (p, size)
            }
            if let hit { return hit }
        }
        if let p = allocate(classBytes) { return (p, classBytes) }
        shrink(to: 0)   // memory is short: give the cache back and try once more
        return allocate(classBytes).map { ($0, classBytes) }
    }

    /// A cached block at most this many times the requested class may serve a request (see `take`).
    static let largestFit = 2

    /// Takes back a block from `take`: cached while there is room (newest first out, so the
    /// pages reused are the ones still in cache), else freed.
    static func give(_ p: UnsafeMutableRawPointer, classBytes: Int) {
        if classBytes >= minimumBytes {
            // Within the tensor budget too: under `mer.max_memory` the cache and the live
            // tensors together stay inside it.
            let room = MemoryBudget.headroom
            let kept: Bool = lock.withLock {
                guard cached + classBytes <= min(capacity, room) else { return false }
                free[classBytes, default: []].append(p)
                cached += classBytes
                return true
            }
            if kept { return }
        }
        Foundation.free(p)
    }

    /// Frees cached blocks until at most `bytes` stay cached (0 empties the cache).
    public static func shrink(to bytes: Int = 0) {
        let released: [UnsafeMutableRawPointer] = lock.withLock {
            var out: [UnsafeMutableRawPointer] = []
            for size in free.keys.sorted(by: >) where cached > bytes {
                while cached > bytes, let p = free[size]?.popLast() {
                    out.append(p)
                    cached -= size
                }
                if free[size]?.isEmpty == true { free[size] = nil }
            }
            return out
        }
        for p in released { Foundation.free(p) }
    }

    private static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, max(bytes, 1)) == 0 else { return nil }
        return raw
    }
}
