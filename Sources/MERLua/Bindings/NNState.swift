import MERTensor

/// Which tensors are `nn.Parameter`s: a property of the Swift tensor (a tensor reaches Lua
/// as a fresh userdata each time, so a mark on the userdata would not stick).
final class NNState {
    private final class WeakTensor {
        weak var tensor: Tensor?
        init(_ t: Tensor) { tensor = t }
    }
    private var marks: [ObjectIdentifier: WeakTensor] = [:]
    private var sweepAt = 1024

    func markParameter(_ t: Tensor) {
        marks[ObjectIdentifier(t)] = WeakTensor(t)
        if marks.count >= sweepAt {
            marks = marks.filter { $0.value.tensor != nil }
            sweepAt = max(1024, marks.count * 2)
        }
    }

    func isParameter(_ t: Tensor) -> Bool { marks[ObjectIdentifier(t)]?.tensor === t }
}
