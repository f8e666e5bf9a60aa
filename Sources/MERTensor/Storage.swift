/// A reference-counted, 64-byte aligned float buffer shared by a tensor and its views.
/// Alignment lets kernels use aligned 512-bit loads on the start of a contiguous tensor.
public final class Storage {
    public let count: Int
    public let data: UnsafeMutablePointer<Float>
    /// Bumped by every in-place write, so autograd can tell that a tensor it saved for
    /// backward was overwritten afterwards (PyTorch's version counter).
    public internal(set) var version = 0

    /// Allocates `count` floats, zero-filled.
    public init(count: Int) {
        self.count = count
        MemoryBudget.allocated(max(count, 1) * 4)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        data.initialize(repeating: 0, count: max(count, 1))
    }

    /// Allocates `count` floats without clearing them; the caller writes every element.
    public init(uninitializedCount count: Int) {
        self.count = count
        MemoryBudget.allocated(max(count, 1) * 4)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit {
        UnsafeMutableRawPointer(data).deallocate()
        MemoryBudget.released(max(count, 1) * 4)
    }
}
