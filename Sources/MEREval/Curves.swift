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
public enum Curves {
    static let axisKeys: Set<String> = ["fold", "subject", "epoch", "step", "batch", "iteration"]
    /// Folds beyond this get one legend note instead of one entry each.
    static let legendLimit = 6

    public static func charts(rows: [[String: LogValue]], columns: [String], maxCharts: Int = 8) -> [LineChart] {
        let xKey = columns.contains("epoch") ? "epoch" : nil
        let foldKey = columns.contains("fold") ? "fold" : columns.contains("subject") ? "subject" : nil
        let metrics = columns.filter { key in
            !axisKeys.contains(key) && rows.contains { $0[key]?.number != nil }
        }.prefix(maxCharts)

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
                    let x = xKey.flatMap { row[$0]?.number } ?? Double(k + 1)
                    let s = sums[x] ?? (0, 0)
                    sums[x] = (s.0 + v, s.1 + 1)
                }
                let pts = sums.keys.sorted().map { Point($0, sums[$0]!.0 / Double(sums[$0]!.1)) }
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
            var chart = LineChart(title: key, xLabel: xKey ?? "row", yLabel: key, series: series)
            chart.legendNotes = notes
            return chart
        }
    }
}
