import Foundation
import MEREval
import MERTensor
import MERVision
import XCTest

/// Image shapes, image grids and bar charts: drawn to pixels by Raster (nearest pixel,
/// sharp) and embedded in SVG as PNG data URIs.
final class PlotGalleryTests: XCTestCase {
    /// A 2×2 picture: red, green / blue, white.
    let checker = RGBImage(width: 2, height: 2, pixels: [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1])

    func testImageShapeScalesByNearestPixel() {
        var fig = Figure(width: 20, height: 20, title: "")
        fig.add(.image(x: 0, y: 0, width: 20, height: 20, pixels: checker))
        let r = Raster.render(fig, font: nil)
        func rgb(_ x: Int, _ y: Int) -> [Float] { Array(r.pixels[3 * (y * 20 + x)..<3 * (y * 20 + x) + 3]) }
        XCTAssertEqual(rgb(0, 0), [1, 0, 0]); XCTAssertEqual(rgb(9, 9), [1, 0, 0])
        XCTAssertEqual(rgb(10, 0), [0, 1, 0]); XCTAssertEqual(rgb(0, 10), [0, 0, 1]); XCTAssertEqual(rgb(19, 19), [1, 1, 1])
    }

    func testSVGEmbedsTheImageAsPNG() throws {
        var fig = Figure(width: 40, height: 40, title: "")
        fig.add(.image(x: 4, y: 4, width: 32, height: 32, pixels: checker))
        let svg = SVG.render(fig)
        let start = try XCTUnwrap(svg.range(of: "href=\"data:image/png;base64,"))
        let b64 = svg[start.upperBound...].prefix { $0 != "\"" }
        let png = try XCTUnwrap(Data(base64Encoded: String(b64)))
        let t = try PNGCodec.decode(png)
        XCTAssertEqual(t.shape, [3, 2, 2])
        XCTAssertEqual(t.toArray(), [1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1])
    }

    func testImageGridLaysOutCellsWithTitles() {
        let fig = Plot.images([checker, checker, checker], titles: ["a", "b", "c"], columns: 2, cell: 32, title: "grid")
        XCTAssertEqual(fig.width, 2 * (32 + 8) + 8)
        XCTAssertEqual(fig.height, 32 + 2 * (32 + 18 + 8) + 8)
        XCTAssertEqual(fig.texts, ["grid", "a", "b", "c"])
        let images = fig.shapes.filter { if case .image = $0 { return true } else { return false } }
        XCTAssertEqual(images.count, 3)
    }

    func testBarsAreProportionalAndLabelled() {
        let fig = Plot.bars([1, 2, -1], names: ["x", "y", "z"], title: "t", yLabel: "v", width: 300, height: 200)
        let bars = fig.shapes.compactMap { shape -> (Double, Double)? in
            if case let .rect(_, y, _, h, fill?, nil, _) = shape, fill != .white { return (y, h) }
            return nil
        }
        XCTAssertEqual(bars.count, 3)
        XCTAssertEqual(bars[1].1 / bars[0].1, 2, accuracy: 1e-9)
        XCTAssertEqual(bars[2].1 / bars[0].1, 1, accuracy: 1e-9)
        XCTAssertEqual(bars[0].0 + bars[0].1, bars[2].0, accuracy: 1e-9, "positive bars end and negative bars start at zero")
        for label in ["x", "y", "z", "1.000", "2.000", "-1.000", "t", "v"] { XCTAssertTrue(fig.texts.contains(label), label) }
    }
}
