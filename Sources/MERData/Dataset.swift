import MERTensor

/// A labelled, subject-annotated collection of samples.
///
/// Metadata (`subject`, `label`, `id`) never decodes an image, so counts, filters and
/// splits are instant; only `sample(at:)` loads and preprocesses. Implementations must
/// allow `sample(at:)` to be called from a background thread (the loader prefetches).
public protocol Dataset: AnyObject {
    var count: Int { get }
    var classNames: [String] { get }
    func subject(at index: Int) -> String
    func label(at index: Int) -> Int
    func id(at index: Int) -> String
    func sample(at index: Int) throws -> Sample
}

extension Dataset {
    /// Distinct subjects in natural order (`sub1 < sub2 < sub10`).
    public var subjects: [String] {
        Array(Set((0..<count).map { subject(at: $0) })).sorted(by: naturalLess)
    }

    /// Indices of every sample, per subject.
    public func indicesBySubject() -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for i in 0..<count { out[subject(at: i), default: []].append(i) }
        return out
    }

    /// Samples per class, in class order.
    public func classCounts() -> [Int] {
        var c = [Int](repeating: 0, count: classNames.count)
        for i in 0..<count { let l = label(at: i); if l >= 0 && l < c.count { c[l] += 1 } }
        return c
    }

    /// A view of the given indices (in that order).
    public func subset(_ indices: [Int]) throws -> Subset { try Subset(self, indices) }

    /// The samples whose metadata satisfies `keep` (no decoding).
    public func filter(_ keep: (_ index: Int) throws -> Bool) rethrows -> Subset {
        var idx: [Int] = []
        for i in 0..<count where try keep(i) { idx.append(i) }
        return try! Subset(self, idx)
    }

    /// Per-subject × class table as text: rows are subjects (natural order), columns the
    /// classes, with a total column and a total row.
    public func counts() -> String {
        let classes = classNames
        var table: [String: [Int]] = [:]
        for i in 0..<count {
            let s = subject(at: i), l = label(at: i)
            var row = table[s] ?? [Int](repeating: 0, count: classes.count)
            if l >= 0 && l < classes.count { row[l] += 1 }
            table[s] = row
        }
        let subjects = table.keys.sorted(by: naturalLess)
        var totals = [Int](repeating: 0, count: classes.count)
        for s in subjects { for (k, v) in table[s]!.enumerated() { totals[k] += v } }
        let header = ["subject"] + classes + ["total"]
        var rows: [[String]] = subjects.map { s in
            let r = table[s]!
            return [s] + r.map(String.init) + [String(r.reduce(0, +))]
        }
        rows.append(["total"] + totals.map(String.init) + [String(totals.reduce(0, +))])
        var widths = header.map { $0.count }
        for r in rows { for (k, c) in r.enumerated() { widths[k] = max(widths[k], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { k, c in
                let pad = String(repeating: " ", count: widths[k] - c.count)
                return k == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// An index view of another dataset (what `filter`, splits and `ds:filter` return).
public final class Subset: Dataset {
    public let base: Dataset
    public let indices: [Int]

    public init(_ base: Dataset, _ indices: [Int]) throws {
        for i in indices where i < 0 || i >= base.count {
            throw DataError("subset: index \(i) out of range for a dataset of \(base.count) samples")
        }
        self.base = base; self.indices = indices
    }

    public var count: Int { indices.count }
    public var classNames: [String] { base.classNames }
    public func subject(at index: Int) -> String { base.subject(at: indices[index]) }
    public func label(at index: Int) -> Int { base.label(at: indices[index]) }
    public func id(at index: Int) -> String { base.id(at: indices[index]) }
    public func sample(at index: Int) throws -> Sample {
        guard index >= 0 && index < indices.count else {
            throw DataError("subset: index \(index) out of range for \(indices.count) samples")
        }
        return try base.sample(at: indices[index])
    }
}

/// A dataset whose samples pass through a per-sample transform (`ds:map(fn)` in Lua).
///
/// `sample(at:)` applies the transform directly. A `DataLoader` given a `MappedDataset`
/// instead loads `base` samples on its prefetch worker and runs `transform` on the
/// consumer thread (a Lua function must run on the thread that owns its Lua state).
public final class MappedDataset: Dataset {
    public let base: Dataset
    public let transform: (Sample) throws -> Sample

    public init(_ base: Dataset, transform: @escaping (Sample) throws -> Sample) {
        self.base = base; self.transform = transform
    }

    public var count: Int { base.count }
    public var classNames: [String] { base.classNames }
    public func subject(at index: Int) -> String { base.subject(at: index) }
    public func label(at index: Int) -> Int { base.label(at: index) }
    public func id(at index: Int) -> String { base.id(at: index) }
    public func sample(at index: Int) throws -> Sample { try transform(try base.sample(at: index)) }
}
