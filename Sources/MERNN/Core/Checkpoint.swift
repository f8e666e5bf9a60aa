import MERTensor

/// Saving and loading weights and training state as safetensors files.
///
/// A module's file holds its `stateDict()` under PyTorch's names (so it loads in PyTorch
/// with `safetensors.torch.load_file` + `load_state_dict`, and PyTorch's files load here).
/// Optimiser state goes into the same file or another one under `optim.`-prefixed names
/// (`optim.step`, `optim.0.exp_avg`, …), with its hyper-parameters — the learning rate
/// with full precision — as `optim.*` metadata strings. Writes are atomic (temporary file,
/// fsync, rename), so a failed save leaves the previous file intact.
extension Module {
    /// Writes the state dict (parameters and buffers) to `path`.
    public func save(path: String, metadata: [String: String]? = nil) throws {
        try SafeTensors.write(stateDict(), metadata: metadata, to: path)
    }

    /// Loads parameters and buffers by name from `path` (any stored dtype is converted to
    /// float32). Every mismatch — missing and unexpected names, wrong shapes — is reported in
    /// one error naming the file, and nothing is changed unless everything fits. With
    /// `strict: false` missing and unexpected names are ignored; entries prefixed `optim.`
    /// (optimiser state saved alongside) are never counted as unexpected.
    @discardableResult
    public func load(path: String, strict: Bool = true) throws -> LoadReport {
        let entries = try SafeTensors.read(path: path)
            .filter { !$0.name.hasPrefix(Checkpoint.optimizerPrefix) }
            .map { (name: $0.name, tensor: $0.tensor) }
        return try loadStateDict(entries, strict: strict, source: path)
    }
}

extension Optimizer {
    /// Optimiser state as named tensors prefixed `optim.` and hyper-parameters as metadata.
    public func checkpointEntries() throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        let tensors = try state().map { (name: Checkpoint.optimizerPrefix + $0.name, tensor: $0.tensor) }
        var meta: [String: String] = [:]
        for (k, v) in hyperparameters { meta[Checkpoint.optimizerPrefix + k] = v }
        meta[Checkpoint.optimizerPrefix + "step"] = String(stepCount)
        return (tensors, meta)
    }

    /// Restores state from `optim.`-prefixed entries (other names are ignored), checking the
    /// optimiser type recorded in the metadata and taking the exact learning rate from it.
    public func loadCheckpointEntries(_ entries: [(name: String, tensor: Tensor)], metadata: [String: String],
                                      source: String) throws {
        let p = Checkpoint.optimizerPrefix
        if let type = metadata[p + "type"], type != name {
            throw TensorError("\(name).load_state: \(source) holds \(type) state, not \(name)")
        }
        let mine = entries.filter { $0.name.hasPrefix(p) }.map { (name: String($0.name.dropFirst(p.count)), tensor: $0.tensor) }
        guard !mine.isEmpty else { throw TensorError("\(name).load_state: \(source) holds no optimizer state (no \(p)* tensors)") }
        if let s = metadata[p + "step"], !(Int(s).map { (0...1_000_000_000_000_000).contains($0) } ?? false) {
            throw TensorError("\(name).load_state: \(source): step '\(s.prefix(40))' in the metadata is not a step count in 0...1e15")
        }
        if let s = metadata[p + "lr"], Double(s) == nil {
            throw TensorError("\(name).load_state: \(source): lr '\(s.prefix(40))' in the metadata is not a number")
        }
        try loadState(mine, exactLr: metadata[p + "lr"].flatMap(Double.init), source: source)
        if let s = metadata[p + "step"], let n = Int(s) { stepCount = n }   // exact beyond 2^24
    }

    /// Writes this optimiser's state alone to `path`.
    public func save(path: String, metadata: [String: String]? = nil) throws {
        let (tensors, meta) = try checkpointEntries()
        try SafeTensors.write(tensors, metadata: meta.merging(metadata ?? [:]) { a, _ in a }, to: path)
    }

    /// Restores state written by `save(path:)` or `Checkpoint.save`.
    public func load(path: String) throws {
        let entries = try SafeTensors.read(path: path).map { (name: $0.name, tensor: $0.tensor) }
        try loadCheckpointEntries(entries, metadata: try SafeTensors.metadata(path: path), source: path)
    }
}

/// A model and (optionally) its optimiser in one file, for checkpoint-and-resume.
public enum Checkpoint {
    public static let optimizerPrefix = "optim."

    /// Writes the model's state dict, the optimiser's `optim.*` state and `metadata`.
    public static func save(path: String, model: Module, optimizer: Optimizer? = nil,
                            metadata: [String: String]? = nil) throws {
        var tensors = model.stateDict()
        var meta = metadata ?? [:]
        if let optimizer {
            let (t, m) = try optimizer.checkpointEntries()
            tensors += t
            meta.merge(m) { _, new in new }
        }
        try SafeTensors.write(tensors, metadata: meta.isEmpty ? nil : meta, to: path)
    }

    /// Restores the model (strictly by default) and, if given, the optimiser; returns the
    /// file's metadata (epoch counters and the like the caller saved). Both are validated
    /// before either is changed.
    @discardableResult
    public static func load(path: String, model: Module, optimizer: Optimizer? = nil,
                            strict: Bool = true) throws -> [String: String] {
        let all = try SafeTensors.read(path: path).map { (name: $0.name, tensor: $0.tensor) }
        let meta = try SafeTensors.metadata(path: path)
        let modelEntries = all.filter { !$0.name.hasPrefix(optimizerPrefix) }
        if let optimizer {
            // The optimiser first (it changes nothing if its state is invalid), then the model
            // (likewise); if the model does not fit, the optimiser's previous state is put back.
            let saved = try optimizer.state()
            let savedLr = optimizer.lr, savedSteps = optimizer.stepCount
            try optimizer.loadCheckpointEntries(all, metadata: meta, source: path)
            do { try model.loadStateDict(modelEntries, strict: strict, source: path) } catch {
                try? optimizer.loadState(saved, exactLr: savedLr)
                optimizer.stepCount = savedSteps
                throw error
            }
        } else {
            try model.loadStateDict(modelEntries, strict: strict, source: path)
        }
        return meta
    }
}
