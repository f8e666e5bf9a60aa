/// In-place updates done by kernels outside the tensor API (optimiser steps): the caller
/// gets the raw elements of a contiguous tensor, and the storage version is bumped
/// afterwards exactly as the `add_`/`mul_` family does, so autograd still notices the write.
extension Tensor {
    /// Runs `body(pointer, count)` on this tensor's elements (row-major) and bumps the storage
    /// version. The tensor must be contiguous; the in-place rule applies (a tensor that
    /// requires grad may only be changed while grad mode is off).
    public func updateContiguousElements<R>(_ op: String, _ body: (UnsafeMutablePointer<Float>, Int) throws -> R) throws -> R {
        try check(isContiguous, "\(op): tensor of shape \(describe(shape)) is not contiguous")
        try checkInPlace(op)
        defer { storage.version += 1 }
        return try withExtendedLifetime(self) { try body(pointer, count) }
    }
}
