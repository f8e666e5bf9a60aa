#if canImport(Glibc)
import Glibc
#endif

/// A small pool of 64-byte aligned scratch buffers for the packed operands.
///
/// Packing buffers are a few hundred KiB to a few MiB; allocating them per call would cost
/// page faults on every GEMM (mmap-backed malloc returns fresh pages), which is a visible
/// fraction of a 512³ product. Each worker takes a buffer for the duration of its share of one
/// call and gives it back, so no buffer is ever used by two threads at once.
enum GemmBuffers {
    private struct Buffer { var ptr: UnsafeMutableRawPointer; var bytes: Int }
    nonisolated(unsafe) private static var free: [Buffer] = []
    nonisolated(unsafe) private static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        return m
    }()
    private static let maxPooled = 8

    static func acquire(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        pthread_mutex_lock(mutex)
        if let i = free.firstIndex(where: { $0.bytes >= bytes }) {
            let b = free.remove(at: i)
            pthread_mutex_unlock(mutex)
            return (b.ptr, b.bytes)
        }
        pthread_mutex_unlock(mutex)
        return (UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64), bytes)
    }

    static func release(_ ptr: UnsafeMutableRawPointer, bytes: Int) {
        pthread_mutex_lock(mutex)
        if free.count < maxPooled {
            free.append(Buffer(ptr: ptr, bytes: bytes))
            pthread_mutex_unlock(mutex)
        } else {
            // Pool full: drop the smallest so large (reusable) buffers stay.
            let i = free.indices.min(by: { free[$0].bytes < free[$1].bytes })!
            let victim: UnsafeMutableRawPointer
            if free[i].bytes < bytes { victim = free[i].ptr; free[i] = Buffer(ptr: ptr, bytes: bytes) }
            else { victim = ptr }
            pthread_mutex_unlock(mutex)
            victim.deallocate()
        }
    }
}
