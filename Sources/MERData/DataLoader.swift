import Foundation
import MERTensor

/// A mini-batch: inputs stacked (N,C,H,W) with their labels and metadata.
public struct Batch {
    public let x: Tensor
    /// Labels, 0-based.
    public let y: [Int]
    /// Dataset indices of the samples, in batch order.
    public let indices: [Int]
    public let ids: [String]
    public let subjects: [String]
    /// Labels as a float tensor of shape (N) (what `cross_entropy` takes).
    public var labels: Tensor { get throws { try Tensor.from(y.map(Float.init)) } }
}

/// Batches a dataset, optionally shuffled, with background prefetch.
///
/// - Order: epoch `k` (0, 1, 2, … counted by `epoch()`) visits
///   `Generator(seed: seed + k).permutation(count)` when shuffling, else `0..<count`; so
///   the same seed gives the same sequence of epochs in every run, and a run can jump to
///   epoch `k` directly with `epoch(k)`.
/// - Prefetch: a worker thread prepares up to `prefetch` batches ahead, in order, one
///   batch at a time; batch contents depend only on the order, never on timing.
///   `prefetch: 0` loads on the consumer's thread.
/// - Errors: a failing sample ends the epoch with an error naming the sample's id and
///   index (the dataset's message names the file); with `skipBad` the sample is left out
///   of its batch with a warning and counted in `skipped` (a batch may then be short, and
///   a batch whose samples all fail is left out).
/// - Transforms: `transform`, and those of a `MappedDataset` given as the dataset, run
///   on the CONSUMER thread inside `next()` (Lua functions must run on the thread that
///   owns the Lua state); the worker then only loads, and the consumer stacks.
public final class DataLoader {
    public let dataset: Dataset
    public let batchSize: Int
    public let shuffle: Bool
    public let seed: UInt64
    public let dropLast: Bool
    public let skipBad: Bool
    public let prefetch: Int
    public let transform: ((Sample) throws -> Sample)?
    public var printWarnings: Bool = true

    /// What the worker loads from, and the transforms the consumer applies (innermost first).
    private let source: Dataset
    private let transforms: [(Sample) throws -> Sample]
    private var nextEpoch = 0
    private let lock = NSLock()
    private var _skipped = 0
    private var _warnings: [String] = []

    public init(dataset: Dataset, batchSize: Int = 32, shuffle: Bool = false, seed: UInt64 = 0,
                dropLast: Bool = false, skipBad: Bool = false, prefetch: Int = 2,
                transform: ((Sample) throws -> Sample)? = nil) throws {
        guard batchSize > 0 else { throw DataError("loader: batch size must be positive, got \(batchSize)") }
        guard prefetch >= 0 else { throw DataError("loader: prefetch must be 0 or more, got \(prefetch)") }
        self.dataset = dataset; self.batchSize = batchSize; self.shuffle = shuffle; self.seed = seed
        self.dropLast = dropLast; self.skipBad = skipBad; self.prefetch = prefetch; self.transform = transform
        var src: Dataset = dataset
        var ts: [(Sample) throws -> Sample] = []
        while let m = src as? MappedDataset { ts.insert(m.transform, at: 0); src = m.base }
        if let t = transform { ts.append(t) }
        source = src; transforms = ts
    }

    /// Batches per epoch.
    public var batchCount: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Samples left out so far (all epochs), with `skipBad`.
    public var skipped: Int { lock.lock(); defer { lock.unlock() }; return _skipped }
    public var warnings: [String] { lock.lock(); defer { lock.unlock() }; return _warnings }

    /// The visiting order of epoch `k`.
    public func order(epoch k: Int) -> [Int] {
        shuffle ? Generator(seed: seed &+ UInt64(k)).permutation(dataset.count) : Array(0..<dataset.count)
    }

    /// Starts an epoch: `epoch()` is the next one (0, 1, …), `epoch(k)` a given one.
    public func epoch(_ k: Int? = nil) -> EpochIterator {
        let e = k ?? nextEpoch
        nextEpoch = e + 1
        let order = self.order(epoch: e)
        var groups: [[Int]] = []
        var s = 0
        while s < order.count {
            let end = min(s + batchSize, order.count)
            if end - s < batchSize && dropLast { break }
            groups.append(Array(order[s..<end])); s = end
        }
        return EpochIterator(loader: self, epoch: e, groups: groups)
    }

    /// Runs `body` on every batch of the next epoch.
    public func forEach(_ body: (Batch) throws -> Void) throws {
        let it = epoch()
        while let b = try it.next() { try body(b) }
    }

    // MARK: Worker side

    enum Item { case samples([Sample], [Int]), batch(Batch), failure(Error) }

    func warn(_ message: String) {
        lock.lock(); _skipped += 1; _warnings.append(message); lock.unlock()
        if printWarnings { FileHandle.standardError.write("loader: \(message)\n".data(using: .utf8)!) }
    }

    /// Loads one batch's samples (worker side). Nil when every sample was skipped.
    func load(_ group: [Int]) -> Item? {
        var samples: [Sample] = [], kept: [Int] = []
        for i in group {
            do {
                samples.append(try source.sample(at: i)); kept.append(i)
            } catch {
                let msg = "sample \(dataset.id(at: i)) (index \(i)): \(error)"
                if skipBad { warn("skipped \(msg)"); continue }
                return .failure(DataError("loader: \(msg)"))
            }
        }
        if samples.isEmpty { return nil }
        if !transforms.isEmpty { return .samples(samples, kept) }
        do { return .batch(try collate(samples, kept)) } catch { return .failure(error) }
    }

    /// Consumer side: transforms, then stacking.
    func finish(_ item: Item) throws -> Batch? {
        switch item {
        case .failure(let e): throw e
        case .batch(let b): return b
        case .samples(let samples, let idx):
            var out: [Sample] = [], kept: [Int] = []
            for (s, i) in zip(samples, idx) {
                do {
                    var t = s
                    for f in transforms { t = try f(t) }
                    out.append(t); kept.append(i)
                } catch {
                    let msg = "sample \(s.id) (index \(i)): transform: \(error)"
                    if skipBad { warn("skipped \(msg)"); continue }
                    throw DataError("loader: \(msg)")
                }
            }
            return out.isEmpty ? nil : try collate(out, kept)
        }
    }

    func collate(_ samples: [Sample], _ indices: [Int]) throws -> Batch {
        let shape = samples[0].x.shape
        for s in samples where s.x.shape != shape {
            throw DataError("loader: sample \(s.id) has shape \(s.x.shape) but \(samples[0].id) has \(shape); a batch needs equal shapes")
        }
        return Batch(x: try Tensor.stack(samples.map(\.x), dim: 0), y: samples.map(\.label), indices: indices,
                     ids: samples.map(\.id), subjects: samples.map(\.subject))
    }
}

/// One pass over the loader's batches. `next()` returns nil at the end; dropping the
/// iterator early stops its worker.
public final class EpochIterator {
    public let epoch: Int
    public let batchCount: Int
    private let loader: DataLoader
    private let groups: [[Int]]
    private var position = 0
    private var done = false
    private let producer: Producer?

    init(loader: DataLoader, epoch: Int, groups: [[Int]]) {
        self.loader = loader; self.epoch = epoch; self.groups = groups; batchCount = groups.count
        producer = loader.prefetch > 0 && !groups.isEmpty ? Producer(loader: loader, groups: groups, depth: loader.prefetch) : nil
    }

    deinit { producer?.cancel() }

    public func next() throws -> Batch? {
        while !done {
            let item: DataLoader.Item?
            if let p = producer {
                guard let next = p.take() else { done = true; return nil }
                item = next
            } else {
                guard position < groups.count else { done = true; return nil }
                item = loader.load(groups[position]); position += 1
            }
            guard let it = item else { continue }  // every sample of that batch was skipped
            do {
                if let b = try loader.finish(it) { return b }
            } catch {
                done = true; producer?.cancel()
                throw error
            }
        }
        return nil
    }

    /// The background worker: loads batches in order into a bounded queue.
    final class Producer {
        private let cond = NSCondition()
        private var queue: [DataLoader.Item?] = []
        private var finished = false
        private var cancelled = false

        init(loader: DataLoader, groups: [[Int]], depth: Int) {
            let thread = Thread { [self] in
                for g in groups {
                    cond.lock()
                    while queue.count >= depth && !cancelled { cond.wait() }
                    let stop = cancelled
                    cond.unlock()
                    if stop { break }
                    let item = loader.load(g)
                    cond.lock()
                    queue.append(item)
                    cond.broadcast()
                    cond.unlock()
                    if case .failure = item { break }
                }
                cond.lock(); finished = true; cond.broadcast(); cond.unlock()
            }
            thread.name = "mer-data-prefetch"
            thread.start()
        }

        /// The next item in order (`.some(nil)` for an all-skipped batch), or nil at the end.
        func take() -> DataLoader.Item?? {
            cond.lock(); defer { cond.unlock() }
            while queue.isEmpty && !finished { cond.wait() }
            if queue.isEmpty { return nil }
            let item = queue.removeFirst()
            cond.broadcast()
            return .some(item)
        }

        func cancel() {
            cond.lock(); cancelled = true; cond.broadcast(); cond.unlock()
        }
    }
}
