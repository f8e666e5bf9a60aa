import MEREval
import MERTensor
import MERVision
import XCTest

final class PlotTests: XCTestCase {
    var dir: String!
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mer-eval-plot-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func chart() -> LineChart {
        LineChart(title: "loss", xLabel: "epoch", yLabel: "loss", series: [
            Series(name: "fold 1", points: (1...10).map { Point(Double($0), 2 / Double($0)) }, color: Plot.palette[0]),
            Series(name: "fold 2", points: (1...10).map { Point(Double($0), 1.5 / Double($0)) }, color: Plot.palette[1]),
        ])
    }

    func testTicksAreNice() {
        let t = Plot.ticks(0.13, 1.97)
        XCTAssertEqual(t.values.first, 0); XCTAssertEqual(t.values.last!, 2, accuracy: 1e-9)
        XCTAssertEqual(t.decimals, 1)
        let e = Plot.ticks(1, 30, target: 6, integer: true)
        XCTAssertEqual(e.values, [0, 5, 10, 15, 20, 25, 30])
        XCTAssertEqual(Plot.ticks(3, 3).values.count > 1, true, "a flat range is padded")
    }

    /// Ranges a log.csv can hold: each gives a few finite, increasing ticks (once ±1e308
    /// trapped and 1e17 + 16 looped forever).
    func testTicksOfExtremeRangesAreFewAndFinite() {
        let ranges: [(Double, Double)] = [(-1e308, 1e308), (0, 1e308), (1e17, 1e17 + 16), (-1e300, -1e300),
                                          (.nan, 1), (-.infinity, .infinity), (1e-300, 2e-300), (5e-324, 1e-323),
                                          (.greatestFiniteMagnitude, .greatestFiniteMagnitude), (3, -3)]
        for (lo, hi) in ranges {
            let t = Plot.ticks(lo, hi)
            XCTAssertTrue((2...60).contains(t.values.count), "\(lo)...\(hi): \(t.values.count) ticks")
            XCTAssertTrue(t.values.allSatisfy(\.isFinite) && t.lo.isFinite && t.hi.isFinite && t.lo < t.hi, "\(lo)...\(hi): \(t)")
            XCTAssertEqual(t.values, t.values.sorted(), "\(lo)...\(hi)")
            XCTAssertTrue(Set(t.values).count == t.values.count, "\(lo)...\(hi): repeated ticks \(t.values)")
        }
    }

    func rows(_ text: String) -> (rows: [[String: LogValue]], columns: [String]) {
        let lines = text.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        let columns = lines[0]
        let rows = lines.dropFirst().map { cells in
            Dictionary(uniqueKeysWithValues: zip(columns, cells).map { ($0, Double($1).map(LogValue.number) ?? .text($1)) })
        }
        return (rows, columns)
    }

    func testCurvePanelsSayWhatTheyShow() {
        let log = rows("fold,epoch,loss,acc,lr,val_loss,val_acc\n1,1,1.6,0.2,0.001,1.7,0.1\n1,2,1.2,0.5,0.0005,1.5,0.3\n2,1,1.5,0.3,0.001,1.6,0.2\n2,2,1.1,0.6,0.0005,1.4,0.4")
        let titles = Curves.charts(rows: log.rows, columns: log.columns).map(\.title)
        // Validation beside training (two columns: training left, validation right); the rate last.
        XCTAssertEqual(titles, ["training loss", "validation loss", "training accuracy", "validation accuracy", "learning rate"])
        let constant = rows("fold,epoch,acc,lr,test_acc\n1,1,0.2,0.001,0.1\n1,2,0.4,0.001,0.3")
        XCTAssertEqual(Curves.charts(rows: constant.rows, columns: constant.columns).map(\.title),
                       ["training accuracy", "held-out test-subject accuracy (shown, never used to choose)"],
                       "a constant learning rate gets no panel")
    }

    /// Whatever the logged values, drawing the curves ends and gives a picture.
    func testChartsOfExtremeValuesRender() throws {
        let values: [Double] = [1e308, -1e308, 1e17, 1e17 + 16, .nan, .infinity, -.infinity, 5e-324, 0]
        var points: [Point] = []
        for (k, v) in values.enumerated() { points.append(Point(Double(k + 1), v)) }
        let chart = LineChart(title: "loss", xLabel: "epoch", yLabel: "loss", series: [
            Series(name: "all", points: points, color: Plot.palette[0]),
            Series(name: "huge", points: [Point(1, 1e17), Point(2, 1e17 + 16)], color: Plot.palette[1]),
            Series(name: "x extreme", points: [Point(-1e308, 1), Point(1e308, 2)], color: Plot.palette[2]),
        ])
        let fig = Plot.charts([chart], columns: 1, panelWidth: 560, panelHeight: 340)
        let r = Raster.render(fig, font: nil)
        XCTAssertEqual(r.width, 560)
        XCTAssertGreaterThan(inked(r, x: 0, y: 0, w: 560, h: 340), 100)
        _ = SVG.render(fig)
    }

    /// A damaged log.csv (epochs that are NaN, infinite or repeated) still gives curves: the
    /// rows without a usable x are left out (a NaN epoch trapped the merge of such a run).
    func testCurvesOfALogWithNonFiniteEpochs() {
        let log = rows("fold,epoch,loss\n1,nan,1.6\n1,2,1.2\n1,inf,1.0\n1,2,1.4\n2,-inf,1.5\n2,1,1.1")
        let charts = Curves.charts(rows: log.rows, columns: log.columns)
        XCTAssertEqual(charts.map(\.title), ["training loss"])
        let series = charts[0].series
        XCTAssertEqual(series.map(\.name), ["fold 1", "fold 2", "mean of 2 folds"])
        XCTAssertEqual(series[0].points.map(\.x), [2], "the two rows of epoch 2 averaged, the others left out")
        XCTAssertEqual(series[0].points[0].y, 1.3, accuracy: 1e-12)
        XCTAssertEqual(series[1].points.map(\.x), [1])
    }

    /// Any non-white pixel inside the box?
    func inked(_ r: Raster, x: Int, y: Int, w: Int, h: Int) -> Int {
        var n = 0
        for py in max(0, y)..<min(r.height, y + h) {
            for px in max(0, x)..<min(r.width, x + w) {
                let i = 3 * (py * r.width + px)
                if r.pixels[i] < 0.7 || r.pixels[i + 1] < 0.7 || r.pixels[i + 2] < 0.7 { n += 1 }
            }
        }
        return n
    }

    func testLineChartPNGHasTextInTheLabelAreas() throws {
        let font = try FontRenderer.loadDefault()
        let fig = Plot.charts([chart()], columns: 1, panelWidth: 560, panelHeight: 340, measure: font)
        XCTAssertEqual(fig.width, 560); XCTAssertEqual(fig.height, 340)
        let r = Raster.render(fig, font: font)
        let path = dir + "/curves.png"
        try r.savePNG(path)
        let back = try ImageIO.load(path: path)
        XCTAssertEqual(back.shape, [3, 340, 560])
        // The title band (top 30 px, middle), the x label band (bottom 16 px) and the y label strip (left 22 px).
        XCTAssertGreaterThan(inked(r, x: 180, y: 8, w: 200, h: 22), 20, "title")
        XCTAssertGreaterThan(inked(r, x: 100, y: 340 - 22, w: 300, h: 20), 20, "x label")
        XCTAssertGreaterThan(inked(r, x: 4, y: 100, w: 20, h: 140), 20, "rotated y label")
        // Without a font: the same PNG without text (the documented fallback).
        let bare = Raster.render(fig, font: nil)
        XCTAssertEqual(inked(bare, x: 180, y: 8, w: 200, h: 22), 0)
        XCTAssertGreaterThan(inked(bare, x: 60, y: 40, w: 400, h: 240), 100, "lines are still drawn")
    }

    func testConfusionFigureAndSVG() throws {
        let font = try FontRenderer.loadDefault()
        let classes = ["negative", "positive", "surprise"]
        let fig = Plot.confusion([[10, 2, 1], [3, 8, 0], [0, 1, 9]], classes: classes, measure: font)
        for c in classes { XCTAssertEqual(fig.texts.filter { $0 == c }.count, 2, "\(c) on both axes") }
        XCTAssertTrue(fig.texts.contains("76.9%"), "10 of 13 in row 1")
        XCTAssertTrue(fig.texts.contains("Predicted class") && fig.texts.contains("True class"))
        let svg = SVG.render(fig)
        XCTAssertTrue(svg.hasPrefix("<svg "))
        for c in classes + ["Predicted class", "True class", "100%"] { XCTAssertTrue(svg.contains(">\(c)</text>"), c) }
        let r = Raster.render(fig, font: font)
        try r.savePNG(dir + "/confusion.png")
        XCTAssertEqual(try ImageIO.load(path: dir + "/confusion.png").shape, [3, fig.height, fig.width])
    }

    func testChartSVGHasAxisLabels() {
        let svg = SVG.render(Plot.charts([chart()]))
        for s in [">epoch</text>", ">loss</text>", ">fold 1</text>", "rotate(-90"] { XCTAssertTrue(svg.contains(s), s) }
        XCTAssertEqual(SVG.escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;")
    }

    func testMissingFontIsAClearError() {
        XCTAssertThrowsError(try FontRenderer(path: "/nonexistent/DejaVuSans.ttf")) {
            XCTAssertTrue("\($0)".contains("/nonexistent/DejaVuSans.ttf: no such file (install fonts-dejavu-core"), "\($0)")
        }
    }
}
