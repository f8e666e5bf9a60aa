import Foundation

/// Why metrics could not be computed.
public struct EvalError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One class's scores (one-vs-rest counts over the predictions given).
public struct ClassMetrics: Equatable {
    public var truePositives: Int
    public var falsePositives: Int
    public var falseNegatives: Int
    /// Samples whose true class is this one (TP + FN).
    public var support: Int { truePositives + falseNegatives }
    /// TP / (TP + FP); 0 when the class was never predicted.
    public var precision: Double {
        truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives)
    }
    /// TP / (TP + FN); 0 when the class has no support (such a class is left out of UAR).
    public var recall: Double { support == 0 ? 0 : Double(truePositives) / Double(support) }
    /// 2TP / (2TP + FP + FN); 0 when TP + FP + FN = 0 (such a class is left out of UF1).
    public var f1: Double {
        let d = 2 * truePositives + falsePositives + falseNegatives
        return d == 0 ? 0 : Double(2 * truePositives) / Double(d)
    }
    /// Whether the class appears at all (in the targets or the predictions).
    public var isPresent: Bool { truePositives + falsePositives + falseNegatives > 0 }
}

/// Accuracy, UF1, UAR and the confusion matrix of one set of predictions.
///
/// Labels are 0-based here (`0..<classes`); the Lua layer converts from 1..C.
///
/// Conventions (MEGC 2019 style; see ARCHITECTURE.md, Protocol):
/// - UF1 = mean over classes of 2TP / (2TP + FP + FN), taken over the classes with
///   TP + FP + FN > 0, i.e. classes absent from both the predictions and the targets are
///   skipped (their F1 is 0/0). A class predicted but never true counts with F1 = 0.
/// - UAR = mean over classes of TP / (TP + FN), over the classes present in the targets.
/// - The confusion matrix is `confusion[true][predicted]`.
/// - No predictions at all: accuracy, UF1 and UAR are 0.
/// For LOSO, compute them on all folds' predictions pooled (`pooled`); `perFoldMean`
/// (the average of per-fold figures) is reported beside it, not instead of it.
public struct Metrics: Equatable {
    public let classes: Int
    public let count: Int
    public let correct: Int
    public let confusion: [[Int]]
    public let perClass: [ClassMetrics]

    public var accuracy: Double { count == 0 ? 0 : Double(correct) / Double(count) }

    public var uf1: Double {
        let present = perClass.filter(\.isPresent)
        return present.isEmpty ? 0 : present.map(\.f1).reduce(0, +) / Double(present.count)
    }

    public var uar: Double {
        let supported = perClass.filter { $0.support > 0 }
        return supported.isEmpty ? 0 : supported.map(\.recall).reduce(0, +) / Double(supported.count)
    }

    /// Metrics of `pred` against `target` (equal lengths, labels in `0..<classes`).
    public static func compute(pred: [Int], target: [Int], classes: Int) throws -> Metrics {
        guard classes >= 1 else { throw EvalError("metrics: the number of classes must be at least 1, got \(classes)") }
        guard pred.count == target.count else {
            throw EvalError("metrics: \(pred.count) predictions but \(target.count) targets")
        }
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var correct = 0
        for (k, (p, t)) in zip(pred, target).enumerated() {
            guard (0..<classes).contains(p) else { throw EvalError("metrics: prediction \(k + 1) is class \(p + 1), outside 1..\(classes)") }
            guard (0..<classes).contains(t) else { throw EvalError("metrics: target \(k + 1) is class \(t + 1), outside 1..\(classes)") }
            confusion[t][p] += 1
            if p == t { correct += 1 }
        }
        let perClass = (0..<classes).map { c -> ClassMetrics in
            let tp = confusion[c][c]
            let row = confusion[c].reduce(0, +)
            let column = confusion.reduce(0) { $0 + $1[c] }
            return ClassMetrics(truePositives: tp, falsePositives: column - tp, falseNegatives: row - tp)
        }
        return Metrics(classes: classes, count: pred.count, correct: correct, confusion: confusion, perClass: perClass)
    }

    /// The protocol's figure: all folds' predictions concatenated, then scored once.
    public static func pooled(folds: [(pred: [Int], target: [Int])], classes: Int) throws -> Metrics {
        try compute(pred: folds.flatMap(\.pred), target: folds.flatMap(\.target), classes: classes)
    }

    /// The average of per-fold accuracy, UF1 and UAR (each fold scored on its own).
    public static func perFoldMean(folds: [(pred: [Int], target: [Int])], classes: Int) throws -> FoldMean {
        let each = try folds.map { try compute(pred: $0.pred, target: $0.target, classes: classes) }
        return FoldMean(folds: each)
    }
}

/// Per-fold metrics and their unweighted means (empty folds are left out of the means).
public struct FoldMean: Equatable {
    public let folds: [Metrics]
    public init(folds: [Metrics]) { self.folds = folds }
    var scored: [Metrics] { folds.filter { $0.count > 0 } }
    private func mean(_ f: (Metrics) -> Double) -> Double {
        scored.isEmpty ? 0 : scored.map(f).reduce(0, +) / Double(scored.count)
    }
    public var accuracy: Double { mean(\.accuracy) }
    public var uf1: Double { mean(\.uf1) }
    public var uar: Double { mean(\.uar) }
}
