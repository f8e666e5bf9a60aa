import MERKernels

/// Where a training step spends its time, per operation type (`mer-bench --model-profile`).
///
/// Forward: every op ends by calling `record` (with or without a tape), so the time since
/// the previous op's end is charged to this op. That includes whatever ran in between
/// (module bookkeeping, the caller's loop), which in a model's forward is little; nested
/// ops (an op built from others) are charged to the inner ops. Backward: each node's
/// pullback is timed as "<op> backward", and the summing of gradients that meet at one
/// tensor as "gradient accumulation". Off by default: one branch per op.
public enum OpProfile {
    public struct Entry { public var seconds = 0.0; public var calls = 0 }

    nonisolated(unsafe) public private(set) static var isEnabled = false
    nonisolated(unsafe) static var entries: [String: Entry] = [:]
    nonisolated(unsafe) static var lastMark = 0.0
    nonisolated(unsafe) static var inBackward = false

    /// `mer-bench --model-profile … --by-layer`: convolutions are charged per geometry and
    /// algorithm ("conv2d 3x3/1 64>160 @56 n16 F4") instead of as one "conv2d" row, to find
    /// the layers that carry the time.
    nonisolated(unsafe) public static var byConvShape = false

    /// The profile name of a convolution op `base` on `s`.
    static func convName(_ base: String, _ s: ConvShape, filtersPrepared: Bool = false) -> String {
        guard isEnabled, byConvShape else { return base }
        let tile = ConvAlgorithm.winogradTile(for: s, pass: .forward, filtersPrepared: filtersPrepared).map { " F\($0.rawValue)" } ?? ""
        return "\(base) \(s.kh)x\(s.kw)/\(s.strideH) \(s.cin)>\(s.cout) @\(s.h) n\(s.n)\(tile)"
    }

    /// Clears the table and starts charging time to ops.
    public static func start() {
        entries = [:]
        isEnabled = true
        lastMark = PeakFLOPs.now()
    }

    /// Stops and returns the table (op name → time and calls since `start`).
    @discardableResult
    public static func stop() -> [String: Entry] {
        isEnabled = false
        return entries
    }

    /// Charges `seconds` to `name` (for work outside ops, e.g. an optimizer step).
    public static func charge(_ name: String, seconds: Double, calls: Int = 1) {
        entries[name, default: Entry()].seconds += seconds
        entries[name, default: Entry()].calls += calls
    }

    /// Restarts the forward clock (after work that was charged on its own).
    public static func mark() { lastMark = PeakFLOPs.now() }

    @inline(__always)
    static func forwardOpEnded(_ name: String) {
        guard isEnabled, !inBackward else { return }
        let t = PeakFLOPs.now()
        charge(name, seconds: t - lastMark)
        lastMark = t
    }

    @inline(__always)
    static func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        guard isEnabled else { return try body() }
        let t0 = PeakFLOPs.now()
        defer { charge(name, seconds: PeakFLOPs.now() - t0) }
        return try body()
    }

    static func backwardBegan() { inBackward = true }
    static func backwardEnded() {
        inBackward = false
        if isEnabled { lastMark = PeakFLOPs.now() }
    }
}
