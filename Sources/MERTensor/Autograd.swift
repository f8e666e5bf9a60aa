import MERKernels

/// Reverse-mode automatic differentiation on a define-by-run tape.
///
/// Every differentiable op that sees an input requiring grad (while grad mode is on)
/// attaches a `GradNode` to its result: where each input's gradient goes and a closure
/// mapping the result's gradient to the inputs' gradients. `backward()` walks the nodes in
/// reverse topological order, summing gradients per node, and accumulates them into the
/// leaves' `grad`.
public final class GradNode {
    public let name: String
    /// Where each input's gradient goes, in the pullback's order (nil: the input does not
    /// require grad). An edge holds the input's node, not the input tensor, so an
    /// intermediate result is freed as soon as no pullback saved it (PyTorch's next_edges):
    /// holding the tensors kept every activation of a step alive until backward.
    var edges: [GradEdge?]
    /// The inputs' shapes, to check the gradients the pullback returns.
    let inputShapes: [[Int]]
    var pullback: ((Tensor) throws -> [Tensor?])?
    /// Storage versions of the inputs and the output when the op ran, held weakly: a storage
    /// that was freed was saved by no pullback, so its later fate cannot matter.
    var versions: [SavedVersion]
    /// The products' precision when the op ran (`mer.autocast`): its backward multiplies in it
    /// too, wherever backward is called, as with torch.autocast.
    let precision = GemmPrecision.current

    init(name: String, inputs: [Tensor], output: Tensor, pullback: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name; self.pullback = pullback
        edges = inputs.map { t in t.requiresGrad ? (t.gradFn.map { .node($0) } ?? .leaf(t)) : nil }
        inputShapes = inputs.map(\.shape)
        versions = (inputs + [output]).map { SavedVersion(storage: $0.storage, version: $0.storage.version) }
    }

    /// Drops saved tensors so the forward activations can be freed after backward.
    func release() { pullback = nil; edges = []; versions = [] }

    func checkVersions() throws {
        for v in versions {
            if let storage = v.storage, storage.version != v.version {
                throw TensorError("backward: a tensor used by \(name) was modified in place after it was used; its gradient would be wrong (clone it before the in-place operation)")
            }
        }
    }
}

/// Where a gradient goes: a leaf tensor that accumulates it in `grad`, or the node of the op
/// that produced an intermediate result.
enum GradEdge {
    case leaf(Tensor), node(GradNode)

    var id: ObjectIdentifier {
        switch self {
        case .leaf(let t): return ObjectIdentifier(t)
        case .node(let n): return ObjectIdentifier(n)
        }
    }
}

/// A storage's version when an op used it, without keeping the storage alive.
struct SavedVersion {
    weak var storage: Storage?
    let version: Int
}

/// Whether ops record the tape. `GradMode.disabled { ... }` is Lua's `tensor.no_grad`.
public enum GradMode {
    nonisolated(unsafe) public private(set) static var isEnabled = true

    /// Runs `body` with recording off, restoring the previous mode even if it throws.
    public static func disabled<T>(_ body: () throws -> T) rethrows -> T {
        let saved = isEnabled
        isEnabled = false
        defer { isEnabled = saved }
        return try body()
    }

    public static func enabled<T>(_ body: () throws -> T) rethrows -> T {
        let saved = isEnabled
        isEnabled = true
        defer { isEnabled = saved }
        return try body()
    }
}

extension Tensor {
    /// Whether an op on `inputs` records the tape now (`record`'s rule): grad mode is on and
    /// some input requires grad. Ops and modules that take a tape-free shortcut ask this.
    public static func tapeRecords(_ inputs: [Tensor?]) -> Bool {
        GradMode.isEnabled && inputs.contains { $0?.requiresGrad ?? false }
    }

    /// Attaches a node to `output` when recording applies; returns `output`.
    @discardableResult
    func record(_ name: String, _ inputs: [Tensor], _ pullback: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        if OpProfile.isEnabled { OpProfile.forwardOpEnded(name) }
        guard Tensor.tapeRecords(inputs) else { return self }
        requiresGrad = true
        gradFn = GradNode(name: name, inputs: inputs, output: self, pullback: pullback)
        return self
    }

    /// Back-propagates from this tensor. Without `gradient`, the tensor must hold a single
    /// value (a loss) and the seed is 1. Leaves that require grad get their gradient added
    /// to `grad`. The graph is released afterwards unless `retainGraph`.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        try check(requiresGrad, "backward: tensor does not require grad (no input of the computation called requires_grad(true), or it ran inside no_grad)")
        let seed: Tensor
        if let g = gradient {
            try check(g.shape == shape, "backward: gradient shape \(describe(g.shape)) does not match tensor shape \(describe(shape))")
            seed = g
        } else {
            try check(count == 1, "backward: implicit gradient needs a single-element tensor, got shape \(describe(shape)); pass a gradient")
            seed = try Tensor.full(shape, 1)
        }

        // Reverse topological order by iterative depth-first search (deep graphs must not
        // overflow the stack).
        let root: GradEdge = gradFn.map { .node($0) } ?? .leaf(self)
        var order: [GradEdge] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradEdge, Bool)] = [(root, false)]
        while let (v, expanded) = stack.popLast() {
            if expanded { order.append(v); continue }
            if !visited.insert(v.id).inserted { continue }
            stack.append((v, true))
            if case .node(let node) = v {
                try check(node.pullback != nil, "backward: the graph through \(node.name) was already released by an earlier backward(); call backward with retain_graph to differentiate twice")
                for case let e? in node.edges where !visited.contains(e.id) { stack.append((e, false)) }
            }
        }

        var grads: [ObjectIdentifier: Tensor] = [root.id: seed]
        OpProfile.backwardBegan()
        defer { OpProfile.backwardEnded() }
        try GradMode.disabled {
            for v in order.reversed() {
                guard let g = grads.removeValue(forKey: v.id) else { continue }
                switch v {
                case .leaf(let t):
                    if t.requiresGrad {
                        t.grad = try OpProfile.timed("gradient accumulation") { try t.grad.map { try $0.adding(g) } ?? g.privateCopy() }
                    }
                case .node(let node):
                    try node.checkVersions()
                    let inputGrads = try OpProfile.timed(node.name + " backward") { try GemmPrecision.with(node.precision) { try node.pullback!(g) } }
                    for (i, (edge, ig)) in zip(node.edges, inputGrads).enumerated() {
                        guard let edge, let ig else { continue }
                        try check(ig.shape == node.inputShapes[i], "backward: \(node.name) produced a gradient of shape \(describe(ig.shape)) for an input of shape \(describe(node.inputShapes[i]))")
                        if let earlier = grads[edge.id] {
                            grads[edge.id] = try OpProfile.timed("gradient accumulation") { try earlier.adding(ig) }
                        } else {
                            grads[edge.id] = ig
                        }
                    }
                    if !retainGraph { node.release() }
                }
            }
        }
    }

    /// A contiguous copy in a buffer of its own, so a leaf's `grad` never aliases a
    /// gradient (or a view of one) that another op still holds.
    func privateCopy() throws -> Tensor {
        let out = try Tensor(uninitialized: shape)
        Strided.copy(from: self, to: out.pointer)
        return out
    }
}
