import Foundation

/// One line of a chart.
public struct Series: Equatable {
    public var name: String
    public var points: [Point]
    public var color: RGBColor
    public var width: Double = 1.5
    public var opacity: Double = 1
    public var inLegend: Bool = true
    /// Points drawn as dots of radius `width` instead of a joined line (a scatter plot).
    public var markers: Bool = false
    public init(name: String, points: [Point], color: RGBColor, width: Double = 1.5, opacity: Double = 1, inLegend: Bool = true,
                markers: Bool = false) {
        self.name = name; self.points = points; self.color = color
        self.width = width; self.opacity = opacity; self.inLegend = inLegend; self.markers = markers
    }
}

/// A line chart: several series over a shared x axis (e.g. loss per epoch, one per fold).
public struct LineChart: Equatable {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Extra legend rows with no series of their own (e.g. "thin: each fold").
    public var legendNotes: [(String, RGBColor)] = []
    /// The x axis shows integers only (epochs).
    public var integerX = true
    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series
    }
    public static func == (a: LineChart, b: LineChart) -> Bool {
        a.title == b.title && a.xLabel == b.xLabel && a.yLabel == b.yLabel && a.series == b.series
            && a.legendNotes.map(\.0) == b.legendNotes.map(\.0) && a.integerX == b.integerX
    }
}

/// Lays charts out as `Figure`s (drawn to PNG by `Raster`, to SVG by `SVG`).
public enum Plot {
    /// Ten distinguishable colours (Tableau 10, as matplotlib's default cycle).
    public static let palette: [RGBColor] = [0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                             0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf].map { RGBColor(hex: $0) }
    /// White to dark blue (matplotlib's "Blues" stops).
    public static let blues: [RGBColor] = [0xf7fbff, 0xc6dbef, 0x6baed6, 0x2171b5, 0x08306b].map { RGBColor(hex: $0) }

    static let titleSize = 15.0, labelSize = 13.0, tickSize = 11.0, legendSize = 12.0

    // MARK: Ticks

    /// "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `target` of them.
    /// Any input gives a few finite ticks: a range wider than doubles can subtract (±1e308)
    /// is clamped, and one narrower than the values' own precision (1e17 and 1e17 + 16) is
    /// widened, so the steps never vanish against the values (the loop once ran forever).
    public static func ticks(_ lo: Double, _ hi: Double, target: Int = 5, integer: Bool = false) -> (lo: Double, hi: Double, values: [Double], decimals: Int) {
        var lo = lo, hi = hi
        if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
        if lo > hi { swap(&lo, &hi) }
        let limit = 1e300
        lo = min(max(lo, -limit), limit); hi = min(max(hi, -limit), limit)
        if hi - lo < max(1e-12, 1e-9 * max(abs(lo), abs(hi))) {
            let pad = abs(lo) > 1e-12 ? abs(lo) * 0.1 : 1
            lo -= pad; hi += pad
        }
        let raw = (hi - lo) / Double(min(max(target, 1), 50))
        let mag = pow(10, floor(log10(raw)))
        var step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        if integer { step = max(1, step.rounded()) }
        let first = floor(lo / step + 1e-9) * step, last = ceil(hi / step - 1e-9) * step
        // Ticks by index, not by repeated addition: k·step stays exact where v += step stalls.
        let count = min(Int(((last - first) / step).rounded()), 200)
        let values = (0...max(0, count)).map { k -> Double in
            let v = first + Double(k) * step
            return abs(v) < step * 1e-9 ? 0 : v
        }
        let decimals = min(15, max(0, Int(-floor(log10(step) + 1e-9))))
        return (first, last, values, decimals)
    }

    /// Tick labels: fixed decimals, or 3 significant digits with an exponent for values too
    /// large or steps too fine to print that way.
    static func format(_ v: Double, decimals: Int) -> String {
        if abs(v) >= 1e7 || decimals > 6 { return String(format: "%.3g", v) }
        return String(format: "%.\(decimals)f", v)
    }

    // MARK: Line charts

    /// Charts in a grid of `columns`, each panel `panelWidth` × `panelHeight`, under an optional title.
    public static func charts(_ charts: [LineChart], title: String = "", columns: Int = 2, panelWidth: Int = 560,
                              panelHeight: Int = 340, measure: TextMeasure = EstimatedTextMeasure()) -> Figure {
        let cols = max(1, min(columns, charts.count))
        let rows = max(1, (charts.count + cols - 1) / cols)
        let header = title.isEmpty ? 0 : 36
        var fig = Figure(width: cols * panelWidth, height: rows * panelHeight + header, title: title)
        if !title.isEmpty { fig.text(title, Double(fig.width) / 2, 25, size: 17, anchor: .middle, bold: true) }
        if charts.isEmpty {
            fig.text("no curves were logged", Double(fig.width) / 2, Double(fig.height) / 2, size: labelSize, color: .gray, anchor: .middle)
        }
        for (k, chart) in charts.enumerated() {
            draw(chart, into: &fig, x: Double((k % cols) * panelWidth), y: Double(header + (k / cols) * panelHeight),
                 width: Double(panelWidth), height: Double(panelHeight), measure: measure)
        }
        return fig
    }

    /// One chart inside the box (x, y, width, height) of `fig`.
    public static func draw(_ chart: LineChart, into fig: inout Figure, x ox: Double, y oy: Double,
                            width pw: Double, height ph: Double, measure: TextMeasure) {
        let legend = chart.series.filter(\.inLegend).map { ($0.name, $0.color, $0.markers) } + chart.legendNotes.map { ($0.0, $0.1, false) }
        let legendWidth = legend.isEmpty ? 0 : (legend.map { measure.width($0.0, size: legendSize, bold: false) }.max() ?? 0) + 40
        let points = chart.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = points.map(\.x), ys = points.map(\.y)
        let xt = ticks(xs.min() ?? 0, xs.max() ?? 1, target: 6, integer: chart.integerX)
        let yt = ticks(ys.min() ?? 0, ys.max() ?? 1, target: 5)
        let yTickWidth = yt.values.map { measure.width(format($0, decimals: yt.decimals), size: tickSize, bold: false) }.max() ?? 20

        let left = ox + 28 + yTickWidth + 10
        let right = ox + pw - 14 - (legendWidth > 0 ? legendWidth + 12 : 0)
        let top = oy + 38, bottom = oy + ph - 48
        let px = { (v: Double) in left + (v - xt.lo) / (xt.hi - xt.lo) * (right - left) }
        let py = { (v: Double) in bottom - (v - yt.lo) / (yt.hi - yt.lo) * (bottom - top) }

        fig.text(chart.title, (left + right) / 2, oy + 24, size: titleSize, anchor: .middle, bold: true)
        // Grid and ticks.
        for v in yt.values {
            fig.line([Point(left, py(v)), Point(right, py(v))], color: .lightGray, width: 1)
            fig.text(format(v, decimals: yt.decimals), left - 7, py(v) + tickSize * 0.35, size: tickSize, anchor: .end)
        }
        for v in xt.values {
            fig.line([Point(px(v), bottom), Point(px(v), bottom + 5)], color: .gray, width: 1)
            fig.text(format(v, decimals: xt.decimals), px(v), bottom + 18, size: tickSize, anchor: .middle)
        }
        fig.rect(left, top, right - left, bottom - top, stroke: .gray, strokeWidth: 1)
        fig.text(chart.xLabel, (left + right) / 2, bottom + 38, size: labelSize, anchor: .middle)
        fig.text(chart.yLabel, ox + 18, (top + bottom) / 2, size: labelSize, anchor: .middle, rotated: true)

        // Points beyond the axes (a value past ±1e300) are held at the plot's border.
        let clip = { (p: Point) in Point(min(max(px(p.x), left), right), min(max(py(p.y), top), bottom)) }
        for s in chart.series {
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite }.map(clip)
            if s.markers { for p in pts { fig.add(.circle(x: p.x, y: p.y, radius: s.width, fill: s.color)) } }
            else if pts.count == 1 { fig.add(.circle(x: pts[0].x, y: pts[0].y, radius: s.width + 1.5, fill: s.color)) }
            else if !pts.isEmpty { fig.line(pts, color: s.color, width: s.width, opacity: s.opacity) }
        }

        // Legend, right of the plot area.
        if !legend.isEmpty {
            let lx = right + 12, ly = top
            let rowH = 18.0
            fig.rect(lx, ly, legendWidth, Double(legend.count) * rowH + 8, fill: .white, stroke: .lightGray)
            for (k, entry) in legend.enumerated() {
                let cy = ly + 4 + rowH * (Double(k) + 0.5)
                if entry.2 { fig.add(.circle(x: lx + 18, y: cy, radius: 4, fill: entry.1)) }
                else { fig.line([Point(lx + 8, cy), Point(lx + 28, cy)], color: entry.1, width: 2.5) }
                fig.text(entry.0, lx + 34, cy + legendSize * 0.35, size: legendSize)
            }
        }
    }

    // MARK: Confusion matrix

    /// A heat map of `matrix[true][predicted]` coloured by row-normalised share, with counts
    /// and row percentages in the cells, class names on both axes and a colour bar.
    public static func confusion(_ matrix: [[Int]], classes: [String], title: String = "Confusion matrix (pooled)",
                                 measure: TextMeasure = EstimatedTextMeasure()) -> Figure {
        let n = max(1, matrix.count)
        let names = (0..<n).map { $0 < classes.count ? classes[$0] : "\($0 + 1)" }
        let cell = Double(max(56, min(96, 560 / n)))
        let nameWidth = names.map { measure.width($0, size: labelSize, bold: false) }.max() ?? 30
        let horizontal = nameWidth <= cell - 6
        let left = 36 + nameWidth + 10
        let top = 52.0
        let grid = cell * Double(n)
        let xLabelsHeight = horizontal ? 22 : nameWidth + 12
        let bottom = top + grid
        let barX = left + grid + 28, barWidth = 18.0
        let tickWidth = measure.width("100%", size: tickSize, bold: false)
        let width = Int(ceil(barX + barWidth + 8 + tickWidth + 16))
        let height = Int(ceil(bottom + xLabelsHeight + 40))
        var fig = Figure(width: max(width, Int(measure.width(title, size: 16, bold: true)) + 40), height: height, title: title)
        fig.text(title, Double(fig.width) / 2, 30, size: 16, anchor: .middle, bold: true)

        for t in 0..<n {
            let row = t < matrix.count ? matrix[t] : []
            let total = row.reduce(0, +)
            for p in 0..<n {
                let count = p < row.count ? row[p] : 0
                let share = total > 0 ? Double(count) / Double(total) : 0
                let fill = Raster.sample(blues, share)
                let x = left + Double(p) * cell, y = top + Double(t) * cell
                fig.rect(x, y, cell, cell, fill: fill)
                let ink: RGBColor = fill.luma < 0.5 ? .white : .text
                let showShare = cell >= 56
                fig.text("\(count)", x + cell / 2, y + cell / 2 + (showShare ? -1 : 5), size: 15, color: ink, anchor: .middle, bold: true)
                if showShare {
                    fig.text(total > 0 ? String(format: "%.1f%%", share * 100) : "–", x + cell / 2, y + cell / 2 + 16,
                             size: tickSize, color: ink, anchor: .middle)
                }
            }
        }
        // Cell borders and the frame.
        for k in 0...n {
            let d = Double(k) * cell
            fig.line([Point(left + d, top), Point(left + d, bottom)], color: .white, width: 1)
            fig.line([Point(left, top + d), Point(left + grid, top + d)], color: .white, width: 1)
        }
        fig.rect(left, top, grid, grid, stroke: .gray, strokeWidth: 1)

        for (k, name) in names.enumerated() {
            let c = Double(k) * cell + cell / 2
            fig.text(name, left - 8, top + c + labelSize * 0.35, size: labelSize, anchor: .end)
            if horizontal {
                fig.text(name, left + c, bottom + 18, size: labelSize, anchor: .middle)
            } else {
                fig.text(name, left + c + labelSize * 0.35, bottom + 8, size: labelSize, anchor: .end, rotated: true)
            }
        }
        fig.text("Predicted class", left + grid / 2, bottom + xLabelsHeight + 26, size: labelSize, anchor: .middle, bold: true)
        fig.text("True class", 20, top + grid / 2, size: labelSize, anchor: .middle, rotated: true, bold: true)

        // Colour bar: 100 % at the top.
        fig.add(.verticalGradient(x: barX, y: top, width: barWidth, height: grid, colors: blues.reversed()))
        fig.rect(barX, top, barWidth, grid, stroke: .gray, strokeWidth: 1)
        for k in 0...4 {
            let y = top + grid * Double(4 - k) / 4
            fig.line([Point(barX + barWidth, y), Point(barX + barWidth + 4, y)], color: .gray, width: 1)
            fig.text("\(k * 25)%", barX + barWidth + 7, y + tickSize * 0.35, size: tickSize)
        }
        return fig
    }
}
