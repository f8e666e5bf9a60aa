import MERTensor

/// One train/test split of a dataset's indices.
public struct Fold {
    /// The held-out subject (LOSO), or the held-out subjects joined by "+" (k-fold).
    public let subject: String
    public let testSubjects: [String]
    public let train: [Int]
    public let test: [Int]
}

/// Leave-one-subject-out: one fold per subject, subjects in natural order
/// (`sub1 < sub2 < sub10`); indices ascending within each side.
public func loso(_ ds: Dataset) -> [Fold] {
    let by = ds.indicesBySubject()
    return by.keys.sorted(by: naturalLess).map { s in
        let test = by[s]!
        let train = (0..<ds.count).filter { ds.subject(at: $0) != s }
        return Fold(subject: s, testSubjects: [s], train: train, test: test)
    }
}

/// K folds grouped by subject: no subject is ever on both sides.
///
/// Subjects are shuffled with `seed`, then dealt largest-first (ties in shuffled order)
/// to the fold with the fewest samples so far, which balances fold sizes.
public func kfold(_ ds: Dataset, k: Int, seed: UInt64 = 0) throws -> [Fold] {
    let by = ds.indicesBySubject()
    let subjects = by.keys.sorted(by: naturalLess)
    guard k >= 2 else { throw DataError("kfold: k must be at least 2, got \(k)") }
    guard k <= subjects.count else {
        throw DataError("kfold: k = \(k) but the dataset has only \(subjects.count) subject\(subjects.count == 1 ? "" : "s")")
    }
    let perm = Generator(seed: seed).permutation(subjects.count)
    let shuffled = perm.map { subjects[$0] }
    let order = shuffled.enumerated().sorted { a, b in
        let na = by[a.element]!.count, nb = by[b.element]!.count
        return na != nb ? na > nb : a.offset < b.offset
    }.map(\.element)
    var groups = [[String]](repeating: [], count: k), sizes = [Int](repeating: 0, count: k)
    for s in order {
        let f = (0..<k).min { sizes[$0] != sizes[$1] ? sizes[$0] < sizes[$1] : $0 < $1 }!
        groups[f].append(s); sizes[f] += by[s]!.count
    }
    return groups.map { g in
        let held = Set(g)
        let names = g.sorted(by: naturalLess)
        let test = (0..<ds.count).filter { held.contains(ds.subject(at: $0)) }
        let train = (0..<ds.count).filter { !held.contains(ds.subject(at: $0)) }
        return Fold(subject: names.joined(separator: "+"), testSubjects: names, train: train, test: test)
    }
}

/// How much of the training subjects to hold out for validation.
public enum ValidationSize {
    /// A fraction of the training subjects (rounded, at least one).
    case fraction(Double)
    /// A number of subjects.
    case subjects(Int)
}

/// Carves whole subjects out of `train` for validation (honest early stopping: the test
/// fold is never looked at). Subjects are drawn with `seed`; at least one subject stays
/// on each side. Returns indices in their original order.
public func validationSplit(_ ds: Dataset, train: [Int], size: ValidationSize, seed: UInt64 = 0) throws
    -> (train: [Int], validation: [Int]) {
    var seen = Set<String>()
    for i in train where i < 0 || i >= ds.count { throw DataError("validation split: index \(i) out of range") }
    for i in train { seen.insert(ds.subject(at: i)) }
    let subjects = seen.sorted(by: naturalLess)
    guard subjects.count >= 2 else {
        throw DataError("validation split: the training indices hold \(subjects.count) subject\(subjects.count == 1 ? "" : "s"); need at least 2")
    }
    let n: Int
    switch size {
    case .fraction(let f):
        guard f > 0 && f < 1 else { throw DataError("validation split: fraction must be in (0, 1), got \(f)") }
        n = min(subjects.count - 1, max(1, Int((f * Double(subjects.count)).rounded())))
    case .subjects(let c):
        guard c >= 1 && c < subjects.count else {
            throw DataError("validation split: \(c) subjects requested, the training side has \(subjects.count)")
        }
        n = c
    }
    let perm = Generator(seed: seed).permutation(subjects.count)
    let held = Set(perm.prefix(n).map { subjects[$0] })
    return (train.filter { !held.contains(ds.subject(at: $0)) }, train.filter { held.contains(ds.subject(at: $0)) })
}
