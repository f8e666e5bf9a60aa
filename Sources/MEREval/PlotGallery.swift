import Foundation

/// Figures for scripts' own plots beside the run report's: bar charts and grids of images
/// (line and scatter charts are `LineChart`s drawn by `Plot.charts`).
extension Plot {
    /// One bar per value, named under the axis, its value printed above it (below for negatives).
    public static func bars(_ values: [Double], names: [String], title: String = "", yLabel: String = "",
                            width: Int = 640, height: Int = 400, measure: TextMeasure = EstimatedTextMeasure()) -> Figure {
        var fig = Figure(width: width, height: height, title: title)
        let finite = values.filter(\.isFinite)
        // A margin of a tenth of the range leaves room for the value printed past each bar's end.
        let lo = min(0, finite.min() ?? 0), hi = max(0, finite.max() ?? 1), margin = (hi - lo) * 0.1
        let yt = ticks(lo < 0 ? lo - margin : 0, hi > 0 ? hi + margin : 0, target: 5)
        let yTickWidth = yt.values.map { measure.width(format($0, decimals: yt.decimals), size: tickSize, bold: false) }.max() ?? 20
        let left = 28 + yTickWidth + 10, right = Double(width) - 16
        let top = title.isEmpty ? 20.0 : 44.0, bottom = Double(height) - 44
        let py = { (v: Double) in bottom - (min(max(v, yt.lo), yt.hi) - yt.lo) / (yt.hi - yt.lo) * (bottom - top) }
        if !title.isEmpty { fig.text(title, (left + right) / 2, 28, size: titleSize, anchor: .middle, bold: true) }
        for v in yt.values {
            fig.line([Point(left, py(v)), Point(right, py(v))], color: .lightGray, width: 1)
            fig.text(format(v, decimals: yt.decimals), left - 7, py(v) + tickSize * 0.35, size: tickSize, anchor: .end)
        }
        fig.text(yLabel, 18, (top + bottom) / 2, size: labelSize, anchor: .middle, rotated: true)
        let slot = (right - left) / Double(max(1, values.count))
        let labelSize = min(Plot.labelSize, max(8, slot / 5))
        for (k, v) in values.enumerated() {
            let x = left + slot * Double(k)
            let y0 = py(0), y1 = py(v.isFinite ? v : 0)
            fig.rect(x + slot * 0.15, min(y0, y1), slot * 0.7, abs(y1 - y0), fill: palette[k % palette.count])
            let shown = v.isFinite ? String(format: abs(v) >= 1e5 || (abs(v) < 1e-2 && v != 0) ? "%.3g" : "%.3f", v) : "\(v)"
            if slot >= 28 { fig.text(shown, x + slot / 2, v < 0 ? y1 + 14 : y1 - 5, size: tickSize, anchor: .middle) }
            let name = k < names.count ? names[k] : "\(k + 1)"
            fig.text(name, x + slot / 2, bottom + 18, size: labelSize, anchor: .middle)
        }
        fig.line([Point(left, py(0)), Point(right, py(0))], color: .gray, width: 1)
        fig.rect(left, top, right - left, bottom - top, stroke: .gray, strokeWidth: 1)
        return fig
    }

    /// Images in a grid of `columns`, each scaled to fit a `cell`-pixel square (aspect kept),
    /// with its title above it and the figure's title on top.
    public static func images(_ images: [RGBImage], titles: [String], columns: Int? = nil, cell: Int = 128,
                              title: String = "") -> Figure {
        let n = max(1, images.count)
        let cols = max(1, min(columns ?? min(n, 8), n))
        let rows = (n + cols - 1) / cols
        let hasTitles = titles.contains { !$0.isEmpty }
        let caption = hasTitles ? 18 : 0, header = title.isEmpty ? 0 : 32, gap = 8
        var fig = Figure(width: cols * (cell + gap) + gap, height: header + rows * (cell + caption + gap) + gap, title: title)
        if !title.isEmpty { fig.text(title, Double(fig.width) / 2, 22, size: titleSize, anchor: .middle, bold: true) }
        for (k, image) in images.enumerated() {
            let col = k % cols, row = k / cols
            let scale = Double(cell) / Double(max(image.width, image.height, 1))
            let w = Double(image.width) * scale, h = Double(image.height) * scale
            let cx = Double(gap + col * (cell + gap)), cy = Double(header + gap + row * (cell + caption + gap) + caption)
            if hasTitles, k < titles.count {
                fig.text(titles[k], cx + Double(cell) / 2, cy - 5, size: tickSize, anchor: .middle)
            }
            fig.add(.image(x: cx + (Double(cell) - w) / 2, y: cy + (Double(cell) - h) / 2, width: w, height: h, pixels: image))
        }
        return fig
    }
}
