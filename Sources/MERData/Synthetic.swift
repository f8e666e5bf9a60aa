import Foundation
import MERTensor
import MERVision

/// The built-in data set: procedural synthetic micro-expressions (MERVision's renderer),
/// `subjects × 5 × perClass` onset/apex pairs with CASME II's five class names, rendered
/// on demand (deterministically from the seed) and cached in memory. Metadata (labels,
/// subjects, ids) needs no rendering, so splits and counts are instant.
public final class SyntheticDataset: Dataset {
    public let options: SyntheticOptions
    public let input: [String]
    let kinds: [InputKind]
    private let lock = NSLock()
    private var cache: [Int: Tensor] = [:]
    public let cacheSamples: Bool

    public init(options: SyntheticOptions = SyntheticOptions(), input: [String] = ["onset", "apex"], cache: Bool = true) throws {
        guard !input.isEmpty else { throw DataError("synthetic: input must name at least one kind (e.g. {\"onset\", \"apex\"})") }
        kinds = try input.map { try InputKinds.kind($0) }
        self.options = options
        self.input = input
        cacheSamples = cache
        // Validate the options once, by rendering nothing but checking the first index.
        _ = try SyntheticMicroExpressions.sample(at: 0, options: options) // validates the options with a clear error
    }

    public var count: Int { SyntheticMicroExpressions.count(options) }
    public var classNames: [String] { SyntheticMicroExpressions.classNames }
    var perSubject: Int { classNames.count * options.perClass }
    public func subject(at index: Int) -> String { SyntheticMicroExpressions.subjectName(index / perSubject) }
    public func label(at index: Int) -> Int { (index % perSubject) / options.perClass }
    public func id(at index: Int) -> String {
        let k = index % perSubject
        let n = k % options.perClass + 1
        return "\(subject(at: index))_\(classNames[label(at: index)])_\(n < 10 ? "0\(n)" : "\(n)")"
    }

    public func sample(at index: Int) throws -> Sample {
        guard index >= 0 && index < count else { throw DataError("synthetic: index \(index + 1) out of range 1..\(count)") }
        lock.lock()
        let hit = cache[index]
        lock.unlock()
        let x: Tensor
        if let hit = hit {
            x = hit
        } else {
            let s = try SyntheticMicroExpressions.sample(at: index, options: options)
            x = try InputKinds.build(kinds, onset: s.onset, apex: s.apex)
            if cacheSamples { lock.lock(); cache[index] = x; lock.unlock() }
        }
        return Sample(x: x, label: label(at: index), subject: subject(at: index), id: id(at: index))
    }
}
