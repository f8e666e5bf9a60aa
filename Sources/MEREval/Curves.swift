import Foundation

/// One value in a log row.
public enum LogValue: Equatable {
    case number(Double)
    case text(String)

    /// CSV text: integers without decimals, other numbers with 8 significant digits.
    public var csv: String {
        switch self {
        case .number(let v):
            if v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
            return String(format: "%.8g", v)
        case .text(let s):
            if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return s
        }
    }

    public var number: Double? { if case .number(let v) = self { return v } else { return nil } }
    public var label: String {
        switch self {
        case .number(let v): return LogValue.number(v).csv
        case .text(let s): return s
        }
    }
}

/// Training curves from logged rows: one chart per numeric column (loss, acc, …) against
/// `epoch` (else the row's position within its fold), one thin line per fold (`fold` or
/// `subject` column) and their mean in bold. Rows with the same fold and epoch (per-batch
/// logging) are averaged.
///
/// Each panel says what it shows: `acc` is the training accuracy, `val_acc` the accuracy on
/// the validation subjects (drawn beside its training panel), `test_*` a held-out
/// test-subject curve, labelled as never used to choose anything. The learning rate gets a
/// panel only when it changes.
public enum Curves {
    static let axisKeys: Set<String> = ["fold", "subject", "epoch", "step", "batch", "iteration"]
    /// Folds beyond this get one legend note instead of one entry each.
    static let legendLimit = 6
    static let quantities = ["acc": "accuracy", "loss": "loss", "uf1": "UF1", "uar": "UAR", "lr": "learning rate"]

    /// What a logged column is, in words: "training accuracy", "validation loss", …
    public static func describe(_ key: String) -> String {
        if key.hasPrefix("val_") { return "validation " + (quantities[String(key.dropFirst(4))] ?? String(key.dropFirst(4))) }
        if key.hasPrefix("test_") {
            return "held-out test-subject " + (quantities[String(key.dropFirst(5))] ?? String(key.dropFirst(5)))
                + " (shown, never used to choose)"
        }
        if key == "lr" { return "learning rate" }
        if let q = quantities[key] { return "training " + q }
        return key
    }

    /// Panel order: each training quantity, then its validation and test curves (so with two
    /// columns validation sits beside training), then the rest as logged, the rate last.
    static func ordered(_ keys: [String]) -> [String] {
        func base(_ k: String) -> String {
            k.hasPrefix("val_") ? String(k.dropFirst(4)) : k.hasPrefix("test_") ? String(k.dropFirst(5)) : k
        }
        func rank(_ k: String) -> Int { k.hasPrefix("val_") ? 1 : k.hasPrefix("test_") ? 2 : 0 }
        let groups = keys.map(base).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let groupIndex = { (k: String) in base(k) == "lr" ? groups.count : groups.firstIndex(of: base(k))! }
        return keys.enumerated().sorted { a, b in
            (groupIndex(a.element), rank(a.element), a.offset) < (groupIndex(b.element), rank(b.element), b.offset)
        }.map(\.element)
    }

    public static func charts(rows: [[String: LogValue]], columns: [String], maxCharts: Int = 8) -> [LineChart] {
        let xKey = columns.contains("epoch") ? "epoch" : nil
        let foldKey = columns.contains("fold") ? "fold" : columns.contains("subject") ? "subject" : nil
        let metrics = ordered(columns.filter { key in
            guard !axisKeys.contains(key) else { return false }
            let values = rows.compactMap { $0[key]?.number }
            guard !values.isEmpty else { return false }
            // A constant learning rate says nothing a panel should show.
            if key == "lr" { return values.contains { $0 != values[0] } }
            return true
        }).prefix(maxCharts)

        // Folds in order of first appearance.
        var foldOrder: [String] = []
        var byFold: [String: [[String: LogValue]]] = [:]
        for row in rows {
            let f = foldKey.flatMap { row[$0]?.label } ?? "all"
            if byFold[f] == nil { foldOrder.append(f) }
            byFold[f, default: []].append(row)
        }

        return metrics.map { key in
            var perFold: [(String, [Point])] = []
            for f in foldOrder {
                var sums: [Double: (Double, Int)] = [:]
                for (k, row) in byFold[f]!.enumerated() {
                    guard let v = row[key]?.number, v.isFinite else { continue }
                    // A NaN x (a damaged log's epoch) is no dictionary key: NaN != NaN.
                    let x = xKey.flatMap { row[$0]?.number } ?? Double(k + 1)
                    guard x.isFinite else { continue }
                    let s = sums[x] ?? (0, 0)
                    sums[x] = (s.0 + v, s.1 + 1)
                }
                let pts = sums.sorted { $0.key < $1.key }.map { Point($0.key, $0.value.0 / Double($0.value.1)) }
                if !pts.isEmpty { perFold.append((f, pts)) }
            }
            var series: [Series] = []
            var notes: [(String, RGBColor)] = []
            if perFold.count <= 1 {
                series = perFold.map { Series(name: $0.0 == "all" ? key : "fold \($0.0)", points: $0.1, color: Plot.palette[0], width: 2) }
            } else {
                let few = perFold.count <= legendLimit
                for (k, (f, pts)) in perFold.enumerated() {
                    let color = few ? Plot.palette[k % Plot.palette.count] : RGBColor(hex: 0x9ab7d3)
                    series.append(Series(name: "fold \(f)", points: pts, color: color, width: few ? 1.5 : 1,
                                         opacity: few ? 0.8 : 0.6, inLegend: few))
                }
                if !few { notes.append(("each fold (\(perFold.count))", RGBColor(hex: 0x9ab7d3))) }
                // Mean over the folds that reached each x.
                var sums: [Double: (Double, Int)] = [:]
                for (_, pts) in perFold { for p in pts { let s = sums[p.x] ?? (0, 0); sums[p.x] = (s.0 + p.y, s.1 + 1) } }
                let mean = sums.keys.sorted().map { Point($0, sums[$0]!.0 / Double(sums[$0]!.1)) }
                series.append(Series(name: "mean of \(perFold.count) folds", points: mean, color: .text, width: 2.5))
            }
            var chart = LineChart(title: describe(key), xLabel: xKey ?? "row", yLabel: describe(key), series: series)
            chart.legendNotes = notes
            return chart
        }
    }
}
