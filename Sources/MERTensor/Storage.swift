import Foundation

/// A reference-counted, 64-byte aligned float buffer shared by a tensor and its views.
/// Alignment lets kernels use aligned 512-bit loads on the start of a contiguous tensor.
/// Large buffers come from and go back to `StoragePool`.
public final class Storage {
    public let count: Int
    public let data: UnsafeMutablePointer<Float>
    /// The block's size (its `StoragePool` class), ≥ count · 4.
    private let blockBytes: Int
    /// Bytes counted in `MemoryBudget` besides count · 4: the excess of a larger idle block over
    /// the request's class, which `StoragePool.take` reserved when it handed the block out.
    private let excessBytes: Int
    /// Bumped by every in-place write, so autograd can tell that a tensor it saved for
    /// backward was overwritten afterwards (PyTorch's version counter).
    public internal(set) var version = 0 {
        didSet { derived = nil }    // stale from now on: free it (and its budget) at once
    }
    /// A value computed from these elements and kept with them (inference's prepared
    /// convolution weights), valid while `version` equals the one recorded with it; dropped by
    /// the next in-place write, so a training step does not carry the last evaluation's copy.
    var derived: (version: Int, offset: Int, value: AnyObject)?

    /// Allocates `count` floats, zero-filled. Throws "not enough memory" when the request
    /// exceeds the budget (`MemoryBudget`) or the system refuses it, instead of aborting:
    /// a script asking for too much gets a Lua error and the REPL keeps its state.
    public convenience init(count: Int, for what: @autoclosure () -> String = "a tensor") throws {
        try self.init(uninitializedCount: count, for: what())
        data.initialize(repeating: 0, count: max(count, 1))
    }

    /// Allocates `count` floats without clearing them; the caller writes every element.
    public init(uninitializedCount count: Int, for what: @autoclosure () -> String = "a tensor") throws {
        let (bytes, overflow) = max(count, 1).multipliedReportingOverflow(by: 4)
        guard count >= 0, !overflow else { throw TensorError("not enough memory: \(what()) requested \(count) elements, more than any machine holds") }
        try MemoryBudget.reserve(bytes, for: what())
        guard let want = StoragePool.classBytes(bytes), let (raw, block) = StoragePool.take(want) else {
            MemoryBudget.released(bytes)
            throw TensorError("not enough memory: \(what()) requested \(MemoryBudget.format(bytes)) and the system refused it")
        }
        self.count = count
        blockBytes = block
        excessBytes = block - want
        data = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit {
        StoragePool.give(UnsafeMutableRawPointer(data), classBytes: blockBytes)
        MemoryBudget.released(max(count, 1) * 4 + excessBytes)
    }
}
