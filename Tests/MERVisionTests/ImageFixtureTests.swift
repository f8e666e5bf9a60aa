import Foundation
import MERTensor
import MERVision
import XCTest

/// Decoding files written by other encoders (Pillow, and a hand-built PNG writer for what
/// Pillow cannot write; Tests/Fixtures/images/make_images.py) against known pixel values.
final class ImageFixtureTests: XCTestCase {
    typealias F = Fixtures

    func check(_ name: String, c: Int, h: Int = 4, w: Int = 5, tol: Float = 1e-6,
               file: StaticString = #filePath, line: UInt = #line, _ value: (Int, Int, Int) -> Float) throws {
        let t = try ImageIO.load(path: F.path(name))
        XCTAssertEqual(t.shape, [c, h, w], name, file: file, line: line)
        guard t.shape == [c, h, w] else { return }
        assertClose(t, try image(c: c, h: h, w: w) { ch, y, x in value(ch, y, x) }, tol: tol, name, file: file, line: line)
    }

    func testEightBitColourTypes() throws {
        try check("gray8.png", c: 1) { _, y, x in Float(F.v8(x, y, 0)) / 255 }
        try check("gray_alpha8.png", c: 2) { c, y, x in Float(F.v8(x, y, c)) / 255 }
        try check("rgb8.png", c: 3) { c, y, x in Float(F.v8(x, y, c)) / 255 }
        try check("rgba8.png", c: 4) { c, y, x in Float(F.v8(x, y, c)) / 255 }
    }

    func testLowBitGray() throws {
        try check("gray1.png", c: 1) { _, y, x in Float(F.vb(x, y, 1)) }
        try check("gray2.png", c: 1) { _, y, x in Float(F.vb(x, y, 2)) / 3 }
        try check("gray4.png", c: 1) { _, y, x in Float(F.vb(x, y, 4)) / 15 }
    }

    func testSixteenBit() throws {
        try check("gray16.png", c: 1) { _, y, x in Float(F.v16(x, y, 0)) / 65535 }
        try check("gray_alpha16.png", c: 2) { c, y, x in Float(F.v16(x, y, c)) / 65535 }
        try check("rgb16.png", c: 3) { c, y, x in Float(F.v16(x, y, c)) / 65535 }
        try check("rgba16.png", c: 4) { c, y, x in Float(F.v16(x, y, c)) / 65535 }
    }

    func testPaletteAndTransparency() throws {
        try check("palette4_trns.png", c: 4) { c, y, x in
            let i = (x + 2 * y) % 12
            return Float(c < 3 ? F.palEntry(i)[c] : F.palAlpha(i)) / 255
        }
        try check("palette8.png", c: 3) { c, y, x in Float(F.palEntry((x + 2 * y) % 200)[c]) / 255 }
        // Colour-key tRNS: the key colour becomes transparent, everything else opaque.
        try check("gray8_trns.png", c: 2) { c, y, x in
            c == 0 ? Float(F.v8(x, y, 0)) / 255 : (F.v8(x, y, 0) == F.v8(2, 1, 0) ? 0 : 1)
        }
        try check("rgb8_trns.png", c: 4) { c, y, x in
            if c < 3 { return Float(F.v8(x, y, c)) / 255 }
            return (0..<3).allSatisfy { F.v8(x, y, $0) == F.v8(3, 2, $0) } ? 0 : 1
        }
    }

    func testInterlaced() throws {
        try check("interlaced_gray8.png", c: 1, h: 9, w: 11) { _, y, x in Float(F.v8(x, y, 0)) / 255 }
        try check("interlaced_gray1.png", c: 1, h: 9, w: 11) { _, y, x in Float(F.vb(x, y, 1)) }
        try check("interlaced_rgb8.png", c: 3, h: 9, w: 11) { c, y, x in Float(F.v8(x, y, c)) / 255 }
        try check("interlaced_rgba16.png", c: 4, h: 9, w: 11) { c, y, x in Float(F.v16(x, y, c)) / 65535 }
        try check("interlaced_palette4_trns.png", c: 4, h: 9, w: 11) { c, y, x in
            let i = (x + 2 * y) % 12
            return Float(c < 3 ? F.palEntry(i)[c] : F.palAlpha(i)) / 255
        }
    }

    /// JPEGs by Pillow: our decode equals Pillow's (stored losslessly) within one level,
    /// and is near the source pixels.
    func testJPEGAgainstPillow() throws {
        let gray: (Int, Int, Int) -> Float = { _, y, x in Float(20 + 10 * x + 5 * y) / 255 }
        let rgb: (Int, Int, Int) -> Float = { c, y, x in
            Float([40 + 8 * x, 60 + 8 * y, 128 + 4 * (x - y)][c]) / 255
        }
        let cases: [(String, Int, (Int, Int, Int) -> Float, Float)] = [
            ("gray_q95", 1, gray, 3), ("rgb444_q95", 3, rgb, 4),
            ("rgb420_q90", 3, rgb, 8), ("rgb_progressive_q90", 3, rgb, 8),
        ]
        for (name, c, f, levels) in cases {
            let ours = try ImageIO.load(path: F.path(name + ".jpg"))
            let pillow = try ImageIO.load(path: F.path(name + ".decoded.png"))
            assertClose(ours, pillow, tol: 1.001 / 255, name + " vs Pillow")
            assertClose(ours, try image(c: c, h: 16, w: 16, f), tol: levels / 255, name + " vs source")
        }
    }

    func testCMYKJPEGBecomesRGB() throws {
        let cyan = try ImageIO.load(path: F.path("cmyk_cyan.jpg"))
        XCTAssertEqual(cyan.shape, [3, 8, 8])
        assertClose(cyan, try image(c: 3, h: 8, w: 8) { c, _, _ in c == 0 ? 0 : 1 }, tol: 2 / 255, "cyan")
        let grey = try ImageIO.load(path: F.path("cmyk_gray50.jpg"))
        assertClose(grey, try image(c: 3, h: 8, w: 8) { _, _, _ in 127 / 255 }, tol: 2 / 255, "50% black")
    }

    func testFormatComesFromMagicBytesNotName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mer-vision-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let misnamed = dir.appendingPathComponent("actually_png.jpg")
        try F.data("rgb8.png").write(to: misnamed)
        let a = try ImageIO.load(path: misnamed.path)
        let b = try ImageIO.load(path: F.path("rgb8.png"))
        XCTAssertEqual(a.toArray(), b.toArray())
    }
}
