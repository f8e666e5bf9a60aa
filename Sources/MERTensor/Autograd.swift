/// Reverse-mode automatic differentiation on a define-by-run tape.
///
/// Every differentiable op that sees an input requiring grad (while grad mode is on)
/// attaches a `GradNode` to its result: the inputs and a closure mapping the result's
/// gradient to the inputs' gradients. `backward()` walks the nodes in reverse topological
/// order, summing gradients per tensor, and accumulates them into the leaves' `grad`.
public final class GradNode {
    public let name: String
    /// Inputs whose gradients `pullback` returns, in the same order.
    var inputs: [Tensor]
    var pullback: ((Tensor) throws -> [Tensor?])?
    /// Storage versions of the inputs and the output when the op ran.
    var versions: [(Storage, Int)]

    init(name: String, inputs: [Tensor], output: Tensor, pullback: @escaping (Tensor) throws -> [Tensor?]) {
        self.name = name; self.inputs = inputs; self.pullback = pullback
        versions = (inputs + [output]).map { ($0.storage, $0.storage.version) }
    }

    /// Drops saved tensors so the forward activations can be freed after backward.
    func release() { pullback = nil; inputs = []; versions = [] }

    func checkVersions() throws {
        for (storage, version) in versions where storage.version != version {
            throw TensorError("backward: a tensor used by \(name) was modified in place after it was used; its gradient would be wrong (clone it before the in-place operation)")
        }
    }
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
    /// Attaches a node to `output` when recording applies; returns `output`.
    @discardableResult
    func record(_ name: String, _ inputs: [Tensor], _ pullback: @escaping (Tensor) throws -> [Tensor?]) -> Tensor {
        if OpProfile.isEnabled { OpProfile.forwardOpEnded(name) }
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return self }
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
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            if !visited.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            if let node = t.gradFn {
                try check(node.pullback != nil, "backward: the graph through \(node.name) was already released by an earlier backward(); call backward with retain_graph to differentiate twice")
                for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        OpProfile.backwardBegan()
        defer { OpProfile.backwardEnded() }
        try GradMode.disabled {
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let node = t.gradFn else {
                    if t.requiresGrad {
                        t.grad = try OpProfile.timed("gradient accumulation") { try t.grad.map { try $0.adding(g) } ?? g.privateCopy() }
                    }
                    continue
                }
                try node.checkVersions()
                let inputGrads = try OpProfile.timed(node.name + " backward") { try node.pullback!(g) }
                for (input, ig) in zip(node.inputs, inputGrads) {
                    guard input.requiresGrad, let ig = ig else { continue }
                    try check(ig.shape == input.shape, "backward: \(node.name) produced a gradient of shape \(describe(ig.shape)) for an input of shape \(describe(input.shape))")
                    let key = ObjectIdentifier(input)
                    if let earlier = grads[key] {
                        grads[key] = try OpProfile.timed("gradient accumulation") { try earlier.adding(ig) }
                    } else {
                        grads[key] = ig
                    }
                }
                if !retainGraph { node.release() }
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
