import Foundation

/// How much tensor memory a process may hold. Every `Storage` counts its bytes in and out;
/// the creation functions (`zeros`, `rand`, `full`, …) check a request against the budget
/// before allocating, so `tensor.randn{1e5, 1e5}` is an error that names the size, not an
/// abort in the allocator. Default: the machine's physical memory; `mer.max_memory` and
/// `mer-script --max-memory` change it.
public enum MemoryBudget {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var live = 0
    nonisolated(unsafe) private static var limit = Int(clamping: ProcessInfo.processInfo.physicalMemory)

    /// The budget in bytes.
    public static var limitBytes: Int {
        get { lock.withLock { limit } }
        set { lock.withLock { limit = max(0, newValue) } }
    }

    /// Bytes held by live tensors (their storages) now.
    public static var liveBytes: Int { lock.withLock { live } }

    /// Bytes the budget still allows (the storage pool keeps no more than this cached).
    static var headroom: Int { lock.withLock { max(0, limit - live) } }

    /// Counts `bytes` in if they fit in the budget (check and count under one lock, so two
    /// threads cannot both pass the check with room for one); throws otherwise.
    static func reserve(_ bytes: Int, for what: String) throws {
        let refused: (Int, Int)? = lock.withLock {
            let (total, overflow) = live.addingReportingOverflow(bytes)
            if overflow || total > limit { return (live, limit) }
            live = total
            return nil
        }
        if let (inUse, cap) = refused { throw exhausted(what, bytes, inUse, cap) }
    }

    static func released(_ bytes: Int) { lock.withLock { live -= bytes } }

    /// Throws unless `bytes` more fit in the budget; `what` names the request.
    public static func check(_ bytes: Int, for what: String) throws {
        let (inUse, cap) = lock.withLock { (live, limit) }
        let (total, overflow) = inUse.addingReportingOverflow(bytes)
        guard !overflow, total <= cap else { throw exhausted(what, bytes, inUse, cap) }
    }

    static func exhausted(_ what: String, _ bytes: Int, _ inUse: Int, _ cap: Int) -> TensorError {
        TensorError("not enough memory: \(what) requested \(format(bytes)), with \(format(inUse)) in use and a budget of \(format(cap)) (mer.max_memory)")
    }

    static func format(_ bytes: Int) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var v = Double(bytes), k = 0
        while v >= 1024 && k < units.count - 1 { v /= 1024; k += 1 }
        return k == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", v, units[k])
    }
}
