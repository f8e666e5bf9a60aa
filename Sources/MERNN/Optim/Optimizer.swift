import MERTensor

/// The base of the optimisers (PyTorch's `torch.optim.Optimizer`): a list of parameters, a
/// learning rate the schedules change, and per-parameter state.
///
/// `step()` updates every parameter that has a gradient (the others are skipped and their
/// state is left alone, as PyTorch does) under `GradMode.disabled`, bumping the parameters'
/// storage versions. Hyper-parameters are Doubles, like Python floats: derived scalars
/// (Adam's step size and bias corrections) are computed in Double and rounded to Float once.
///
/// State for checkpoints is a list of named tensors: `step` and `lr` (0-d) and, per
/// parameter index i that has state, `i.<name>` (`0.exp_avg`, `3.momentum_buffer`, …).
open class Optimizer {
    public let params: [Tensor]
    public var lr: Double
    /// Number of `step()` calls so far.
    public internal(set) var stepCount = 0

    public init(_ params: [Tensor], lr: Double) throws {
        guard !params.isEmpty else { throw TensorError("\(Self.self): got an empty parameter list") }
        guard lr >= 0, lr.isFinite else { throw TensorError("\(Self.self): invalid learning rate \(lr)") }
        var seen = Set<ObjectIdentifier>()
        for (i, p) in params.enumerated() {
            guard seen.insert(ObjectIdentifier(p)).inserted else {
                throw TensorError("\(Self.self): parameter \(i) appears more than once in the parameter list")
            }
            guard p.isContiguous else {
                throw TensorError("\(Self.self): parameter \(i) (shape \(p.shape)) is not contiguous")
            }
        }
        self.params = params
        self.lr = lr
    }

    /// The type name written to checkpoints (`Adam`, `AdamW`, `SGD`).
    open var name: String { String(describing: type(of: self)) }

    /// Clears every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        for p in params { p.grad = nil }
    }

    /// One update of every parameter that has a gradient.
    public func step() throws {
        try GradMode.disabled {
            for (i, p) in params.enumerated() {
                guard let g = p.grad else { continue }
                guard g.shape == p.shape else {
                    throw TensorError("\(name).step: gradient of parameter \(i) has shape \(g.shape), the parameter \(p.shape)")
                }
                try update(index: i, param: p, grad: g.contiguous())
            }
        }
        stepCount += 1
    }

    /// Updates parameter `index` from its (contiguous) gradient. Subclasses override it.
    open func update(index: Int, param: Tensor, grad: Tensor) throws {
        throw TensorError("\(name): update is not implemented")
    }

    // MARK: State

    /// Per-parameter state tensors, `(index, [(name, tensor)])`, for parameters that have any.
    open func parameterState() throws -> [(index: Int, entries: [(name: String, tensor: Tensor)])] { [] }

    /// Installs state for parameter `index` (names as `parameterState` gives them, shapes
    /// already checked against the parameter where they must match). Called only after all
    /// entries were validated.
    open func setParameterState(index: Int, _ entries: [String: Tensor]) throws {}

    /// State names a parameter may have, with whether each has the parameter's shape.
    open var stateNames: [(name: String, parameterShaped: Bool)] { [] }

    /// Everything needed to resume: `step`, `lr` and each parameter's state.
    public func state() throws -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = [("step", try .scalar(Float(stepCount))), ("lr", try .scalar(Float(lr)))]
        for (i, entries) in try parameterState() {
            for (n, t) in entries { out.append(("\(i).\(n)", t)) }
        }
        return out
    }

    /// Restores `state()` output (also from a file: values are copied, not aliased). Every
    /// problem — unknown names, parameter indices out of range, shape mismatches,
    /// incomplete per-parameter state — is reported in one error; nothing changes unless
    /// all entries fit. `exactLr` (from checkpoint metadata) overrides the 0-d `lr`, which
    /// float32 may have rounded.
    public func loadState(_ entries: [(name: String, tensor: Tensor)], exactLr: Double? = nil,
                          source: String = "optimizer state") throws {
        var problems: [String] = []
        var step: Int?
        var newLr: Double?
        var perParam: [Int: [String: Tensor]] = [:]
        let known = Dictionary(stateNames.map { ($0.name, $0.parameterShaped) }, uniquingKeysWith: { a, _ in a })
        for (n, t) in entries {
            if n == "step" || n == "lr" {
                guard t.count == 1, let v = try? t.item(), v.isFinite, v >= 0 else {
                    problems.append("\(n): expected a single non-negative number, got shape \(t.shape)")
                    continue
                }
                if n == "step" {
                    guard v == v.rounded() else { problems.append("step: \(v) is not an integer"); continue }
                    // A step count past 10^15 is no real run (and Int(v) would trap past 2^63).
                    guard v <= 1e15 else { problems.append("step: \(v) is not a plausible step count (at most 1e15)"); continue }
                    step = Int(v)
                } else { newLr = Double(v) }
                continue
            }
            let parts = n.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, let i = Int(parts[0]), let shaped = known[parts[1]] else {
                problems.append("unexpected \(n)")
                continue
            }
            guard i >= 0, i < params.count else {
                problems.append("\(n): parameter index \(i) out of range (the optimizer has \(params.count) parameters)")
                continue
            }
            if shaped && t.shape != params[i].shape {
                problems.append("\(n): shape \(t.shape) in \(source), parameter \(i) has shape \(params[i].shape)")
            }
            perParam[i, default: [:]][parts[1]] = t
        }
        if step == nil { problems.append("missing step") }
        if let l = exactLr, !(l.isFinite && l >= 0) { problems.append("lr \(l) in the metadata is not a non-negative finite number") }
        for (i, dict) in perParam.sorted(by: { $0.key < $1.key }) {
            if let msg = incompleteState(index: i, dict) { problems.append(msg) }
        }
        if !problems.isEmpty {
            throw TensorError("\(name).load_state: \(problems.count) problem\(problems.count == 1 ? "" : "s") loading \(source):\n  "
                              + problems.joined(separator: "\n  "))
        }
        clearState()
        for (i, dict) in perParam {
            try setParameterState(index: i, try dict.mapValues { try $0.copiedIfShared() })
        }
        stepCount = step!
        if let l = exactLr ?? newLr { lr = l }
    }

    /// A message when per-parameter state `dict` lacks entries the optimiser needs.
    open func incompleteState(index: Int, _ dict: [String: Tensor]) -> String? { nil }

    /// Drops all per-parameter state.
    open func clearState() {}

    /// Hyper-parameters as strings, for checkpoint metadata (lr with full Double precision).
    open var hyperparameters: [String: String] { ["type": name, "lr": "\(lr)"] }
}

extension Tensor {
    /// A private copy (state loaded from a file must not alias the caller's tensors).
    func copiedIfShared() throws -> Tensor {
        try GradMode.disabled { try clone().detach() }
    }
}
