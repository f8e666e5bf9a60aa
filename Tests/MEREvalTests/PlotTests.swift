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
