#if canImport(Glibc)
import Glibc
#endif

/// Retained 64-byte aligned scratch buffers, so that a kernel called again and again does not
/// pay fresh pages (page faults and clearing) on every call. A caller takes a buffer for the
/// duration of its work and gives it back, so no buffer is ever used by two threads at once;
/// at most `capacity` buffers are kept, the largest ones.
final class ScratchPool: @unchecked Sendable {
    private struct Buffer { var ptr: UnsafeMutableRawPointer; var bytes: Int }
    private var free: [Buffer] = []
    private let capacity: Int
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(capacity: Int) {
        self.capacity = capacity
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    /// A buffer of at least `bytes` (a kept one if one is large enough) and its real size.
    func acquire(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        pthread_mutex_lock(mutex)
        if let i = free.firstIndex(where: { $0.bytes >= bytes }) {
            let b = free.remove(at: i)
            pthread_mutex_unlock(mutex)
            return (b.ptr, b.bytes)
        }
        pthread_mutex_unlock(mutex)
        return (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
    }

    /// Gives a buffer back; when the pool is full the smallest buffer is dropped, so large
    /// (reusable) buffers stay.
    func release(_ ptr: UnsafeMutableRawPointer, bytes: Int) {
        pthread_mutex_lock(mutex)
        if free.count < capacity {
            free.append(Buffer(ptr: ptr, bytes: bytes))
            pthread_mutex_unlock(mutex)
        } else if free.isEmpty {
            pthread_mutex_unlock(mutex)   // a pool that keeps nothing
            ptr.deallocate()
        } else {
            let i = free.indices.min(by: { free[$0].bytes < free[$1].bytes })!
            let victim: UnsafeMutableRawPointer
            if free[i].bytes < bytes { victim = free[i].ptr; free[i] = Buffer(ptr: ptr, bytes: bytes) }
            else { victim = ptr }
            pthread_mutex_unlock(mutex)
            victim.deallocate()
        }
    }
}

/// The packed GEMM operands' buffers: a few hundred KiB to a few MiB each, one per worker;
/// allocating them per call cost page faults on every GEMM (mmap-backed malloc returns fresh
/// pages), a visible fraction of a 512³ product.
enum GemmBuffers {
    static let pool = ScratchPool(capacity: 8)
}
