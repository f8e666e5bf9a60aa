import MERTensor

/// The base of every layer, block and model (PyTorch's `nn.Module`).
///
/// A module owns named parameters (tensors that require grad), named buffers (state such
/// as batch-norm running statistics) and named child modules, all in registration order.
/// Dotted names (`blocks.2.short.0.weight`) and the state-dict order (a module's
/// parameters, then its buffers, then each child's in turn) follow PyTorch, so weights
/// move between the two by name.
open class Module: CustomStringConvertible {
    public private(set) var isTraining = true
    private var parameterSlots: [(name: String, tensor: Tensor)] = []
    private var bufferSlots: [(name: String, tensor: Tensor)] = []
    private var childSlots: [(name: String, module: Module)] = []

    public init() {}

    /// The name shown by `description` (and Lua's `tostring`).
    open var typeName: String { String(describing: type(of: self)) }

    /// Hyper-parameters shown after the type name, e.g. `2, 64, kernel=3x3`.
    open var extraDescription: String { "" }

    // MARK: Registration

    /// Registers `tensor` as a trainable parameter (it is made to require grad).
    @discardableResult
    public func registerParameter(_ name: String, _ tensor: Tensor) -> Tensor {
        try! tensor.requiresGrad(true)
        if let i = parameterSlots.firstIndex(where: { $0.name == name }) { parameterSlots[i].tensor = tensor }
        else { parameterSlots.append((name, tensor)) }
        return tensor
    }

    public func registerBuffer(_ name: String, _ tensor: Tensor) {
        if let i = bufferSlots.firstIndex(where: { $0.name == name }) { bufferSlots[i].tensor = tensor }
        else { bufferSlots.append((name, tensor)) }
    }

    @discardableResult
    public func registerModule<M: Module>(_ name: String, _ module: M) -> M {
        if let i = childSlots.firstIndex(where: { $0.name == name }) { childSlots[i].module = module }
        else { childSlots.append((name, module)) }
        module.setTraining(isTraining)
        return module
    }

    /// Own (non-recursive) entries. Modules defined in a script override these to expose
    /// the fields of their Lua table.
    open var ownParameters: [(name: String, tensor: Tensor)] { parameterSlots }
    open var ownBuffers: [(name: String, tensor: Tensor)] { bufferSlots }
    open var children: [(name: String, module: Module)] { childSlots }

    // MARK: Forward

    /// The computation of a one-input module.
    open func forward(_ x: Tensor) throws -> Tensor {
        throw TensorError("\(typeName): forward takes \(inputCount) inputs, got 1")
    }

    /// The computation for any number of inputs; one-input modules need not override it.
    open func forward(_ inputs: [Tensor]) throws -> Tensor {
        guard inputs.count == 1 else {
            throw TensorError("\(typeName): forward takes 1 input, got \(inputs.count)")
        }
        return try forward(inputs[0])
    }

    /// How many tensors `forward` takes (2 for fusion modules).
    open var inputCount: Int { 1 }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try forward([x]) }
    public func callAsFunction(_ a: Tensor, _ b: Tensor) throws -> Tensor { try forward([a, b]) }

    // MARK: Modes

    /// Training mode (batch statistics, dropout on) or evaluation mode, for the whole tree.
    public func train(_ on: Bool = true) { setTraining(on) }
    public func eval() { setTraining(false) }

    open func setTraining(_ on: Bool) {
        isTraining = on
        for c in children { c.module.setTraining(on) }
    }

    // MARK: Traversal

    /// Every module of the tree with its dotted path ("" for this one), depth first.
    public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
        var out: [(String, Module)] = [(prefix, self)]
        for (name, child) in children {
            out += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return out
    }

    /// Parameters with dotted names; a tensor shared by two modules is listed once.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var out: [(String, Tensor)] = []
        for (path, m) in namedModules() {
            for (name, t) in m.ownParameters where seen.insert(ObjectIdentifier(t)).inserted {
                out.append((path.isEmpty ? name : "\(path).\(name)", t))
            }
        }
        return out
    }

    public func parameters() -> [Tensor] { namedParameters().map { $0.tensor } }

    public func namedBuffers() -> [(name: String, tensor: Tensor)] {
        namedModules().flatMap { path, m in m.ownBuffers.map { (path.isEmpty ? $0.name : "\(path).\($0.name)", $0.tensor) } }
    }

    /// Parameters and buffers in PyTorch's `state_dict()` order.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        var out: [(String, Tensor)] = []
        func visit(_ m: Module, _ prefix: String) {
            for (n, t) in m.ownParameters { out.append((prefix + n, t)) }
            for (n, t) in m.ownBuffers { out.append((prefix + n, t)) }
            for (n, c) in m.children { visit(c, prefix + n + ".") }
        }
        visit(self, "")
        return out
    }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Names a state dict load left alone: the module's entries it lacked, and its own
    /// entries the module has no place for.
    public struct LoadReport: Equatable {
        public var missing: [String] = []
        public var unexpected: [String] = []
    }

    /// Copies values into the existing parameters and buffers by name (the tensors keep
    /// their identity, so an optimiser holding them keeps working). Every problem is
    /// collected — missing names, unexpected names, shape mismatches — and reported in one
    /// error; nothing is changed unless all entries fit. With `strict: false`, missing and
    /// unexpected names are allowed and returned. A missing `num_batches_tracked` is never a
    /// problem: files converted or filtered for sharing often drop these counters, and
    /// PyTorch's strict load accepts them too, so the counter is set to 0.
    @discardableResult
    public func loadStateDict(_ entries: [(name: String, tensor: Tensor)], strict: Bool = true,
                              source: String = "state dict") throws -> LoadReport {
        let mine = stateDict()
        let given = Dictionary(entries.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let names = Set(mine.map { $0.name })
        var report = LoadReport()
        var problems: [String] = []
        for (name, t) in mine {
            guard let src = given[name] else {
                if name == "num_batches_tracked" || name.hasSuffix(".num_batches_tracked") { continue }
                report.missing.append(name)
                if strict { problems.append("missing \(name) (shape \(t.shape))") }
                continue
            }
            // PyTorch stores num_batches_tracked as a 0-d integer; accept [1] too.
            if src.shape != t.shape && !(src.count == 1 && t.count == 1) {
                problems.append("\(name): shape \(src.shape) in \(source), model expects \(t.shape)")
            }
        }
        for (name, t) in entries.sorted(by: { $0.name < $1.name }) where !names.contains(name) {
            report.unexpected.append(name)
            if strict { problems.append("unexpected \(name) (shape \(t.shape))") }
        }
        if !problems.isEmpty {
            throw TensorError("load_state_dict: \(problems.count) problem\(problems.count == 1 ? "" : "s") loading \(source):\n  " + problems.joined(separator: "\n  "))
        }
        try GradMode.disabled {
            for (name, t) in mine {
                if let src = given[name] {
                    try t.copy(from: src.count == t.count ? try src.reshape(t.shape) : src)
                } else if name == "num_batches_tracked" || name.hasSuffix(".num_batches_tracked") {
                    try t.fill(0)
                }
            }
        }
        return report
    }

    // MARK: Description

    /// A readable tree: one line per module with its hyper-parameters and parameter count.
    public var description: String {
        var lines: [String] = []
        func visit(_ m: Module, _ name: String?, _ indent: String) {
            let count = m.parameterCount
            var line = indent + (name.map { "(\($0)): " } ?? "") + m.typeName
            if !m.extraDescription.isEmpty { line += "(\(m.extraDescription))" }
            if count > 0 { line += "  [\(Module.formatCount(count)) params]" }
            lines.append(line)
            for (n, c) in m.children { visit(c, n, indent + "  ") }
        }
        visit(self, nil, "")
        return lines.joined(separator: "\n")
    }

    public static func formatCount(_ n: Int) -> String {
        if n >= 1_000_000 { return String(format: "%.2fM", Double(n) / 1e6) }
        if n >= 10_000 { return String(format: "%.1fk", Double(n) / 1e3) }
        return String(n)
    }
}
