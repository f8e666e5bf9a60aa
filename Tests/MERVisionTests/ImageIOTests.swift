import Foundation
import MERTensor
import MERVision
import XCTest

/// Round trips through our own encoders, saving (atomic, format by extension) and the
/// errors of load/save.
final class ImageIOTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mer-vision-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Values on the 8- or 16-bit grid, so a lossless round trip is exact.
    func quantised(c: Int, h: Int, w: Int, levels: Int) throws -> Tensor {
        try image(c: c, h: h, w: w) { ch, y, x in Float((x * 37 + y * 71 + ch * 101 + 13 + x * y * 7) % (levels + 1)) / Float(levels) }
    }

    func testPNGRoundTripEveryChannelCountAndDepth() throws {
        for c in 1...4 {
            for depth in [8, 16] {
                for interlaced in [false, true] {
                    let t = try quantised(c: c, h: 13, w: 17, levels: depth == 8 ? 255 : 65535)
                    let data = try PNGCodec.encode(t, bitDepth: depth, interlaced: interlaced)
                    XCTAssertEqual(data[28], interlaced ? 1 : 0, "IHDR interlace byte")
                    XCTAssertEqual(Int(data[24]), depth, "IHDR bit depth")
                    let back = try ImageIO.decode(data: data, source: "mem")
                    XCTAssertEqual(back.shape, [c, 13, 17])
                    XCTAssertEqual(back.toArray(), t.toArray(), "c=\(c) depth=\(depth) interlaced=\(interlaced)")
                }
            }
        }
    }

    func testSaveLoadPNGClampsAndRounds() throws {
        let t = try Tensor.from([-0.5, 0.2, 0.5, 1.7, Float.nan, 0.998], shape: [1, 2, 3])
        try ImageIO.save(t, path: path("a.png"))
        let back = try ImageIO.load(path: path("a.png"))
        let want: [Float] = [0, 51, 128, 255, 0, 254].map { $0 / 255 }
        XCTAssertEqual(back.toArray(), want)
        try ImageIO.save(t, path: path("a16.PNG"), bitDepth: 16)
        let back16 = try ImageIO.load(path: path("a16.PNG"))
        XCTAssertEqual(back16.toArray(), [0, 13107, 32768, 65535, 0, 65404].map { Float($0) / 65535 })
    }

    func testJPEGRoundTripQuality95() throws {
        // Smooth content: JPEG at quality 95 stays within a few levels.
        let rgb = try image(c: 3, h: 48, w: 64) { c, y, x in
            0.5 + 0.35 * sin(Float(x) / 9 + Float(c)) * cos(Float(y) / 7)
        }
        try ImageIO.save(rgb, path: path("rgb.jpg"))
        let back = try ImageIO.load(path: path("rgb.jpg"))
        assertClose(back, rgb, tol: 6 / 255, "RGB q95 (4:4:4)")
        let gray = try image(c: 1, h: 40, w: 30) { _, y, x in Float(x + y) / 70 }
        try ImageIO.save(gray, path: path("gray.jpeg"), quality: 95)
        let backGray = try ImageIO.load(path: path("gray.jpeg"))
        XCTAssertEqual(backGray.shape, [1, 40, 30])
        assertClose(backGray, gray, tol: 3 / 255, "gray q95")
        // Lower quality still decodes, further off; file gets smaller.
        try ImageIO.save(rgb, path: path("low.jpg"), quality: 30)
        let low = try ImageIO.load(path: path("low.jpg"))
        assertClose(low, rgb, tol: 30 / 255, "RGB q30")
        let sizes = try ["rgb.jpg", "low.jpg"].map { try FileManager.default.attributesOfItem(atPath: path($0))[.size] as! Int }
        XCTAssertLessThan(sizes[1], sizes[0])
        // Luma-only decode equals our gray of the RGB decode within rounding.
        let data = try Data(contentsOf: dir.appendingPathComponent("rgb.jpg"))
        let y = try JPEGCodec.decode(data, grayscale: true)
        assertClose(y, try ImageOps.gray(back), tol: 2.5 / 255, "Y plane vs BT.601 of RGB")
    }

    func testSaveIsAtomicAndOverwrites() throws {
        let p = path("frame.png")
        try ImageIO.save(quantised(c: 3, h: 4, w: 4, levels: 255), path: p)
        try ImageIO.save(quantised(c: 1, h: 2, w: 2, levels: 255), path: p)
        XCTAssertEqual(try ImageIO.load(path: p).shape, [1, 2, 2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["frame.png"], "no temp files left")
        // A failing save leaves the old file alone and no temp file behind.
        XCTAssertTrue(errorMessage { try ImageIO.save(Tensor(zeros: [4, 2, 2]), path: p.replacingOccurrences(of: ".png", with: ".jpg")) }
            .contains("JPEG needs 1 (gray) or 3 (RGB) channels, got 4"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["frame.png"])
    }

    func testSaveErrors() throws {
        let t = try Tensor(zeros: [3, 2, 2])
        XCTAssertEqual(errorMessage { try ImageIO.save(t, path: self.path("x.gif")) },
                       "image.save: \(path("x.gif")): unknown image format (extension '.gif'); use .png, .jpg or .jpeg")
        XCTAssertTrue(errorMessage { try ImageIO.save(Tensor(zeros: [5, 2, 2]), path: self.path("x.png")) }
            .hasSuffix("PNG needs 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA) channels, got 5"))
        XCTAssertTrue(errorMessage { try ImageIO.save(t, path: self.path("x.png"), bitDepth: 12) }.hasSuffix("PNG bit depth must be 8 or 16, got 12"))
        XCTAssertTrue(errorMessage { try ImageIO.save(t, path: self.path("x.jpg"), quality: 0) }.hasSuffix("JPEG quality must be 1...100, got 0"))
        XCTAssertTrue(errorMessage { try ImageIO.save(t, path: self.path("x.jpg"), bitDepth: 16) }.hasSuffix("JPEG is 8-bit only, got bitDepth 16"))
        XCTAssertTrue(errorMessage { try ImageIO.save(Tensor(zeros: [2, 3, 2, 2]), path: self.path("x.png")) }
            .hasSuffix("expected a (C, H, W) image tensor, got shape [2, 3, 2, 2]"))
        XCTAssertTrue(errorMessage { try ImageIO.save(Tensor(zeros: [3, 0, 2]), path: self.path("x.png")) }.contains("no pixels"))
        XCTAssertTrue(errorMessage { try ImageIO.save(t, path: self.path("missing/x.png")) }.contains("does not exist"))
    }

    func testLoadErrors() throws {
        XCTAssertEqual(errorMessage { try ImageIO.load(path: self.path("nope.png")) }, "image.load: \(path("nope.png")): no such file")
        XCTAssertEqual(errorMessage { try ImageIO.load(path: self.dir.path) }, "image.load: \(dir.path): is a directory")
        _ = FileManager.default.createFile(atPath: path("empty.jpg"), contents: Data())
        XCTAssertEqual(errorMessage { try ImageIO.load(path: self.path("empty.jpg")) }, "image.load: \(path("empty.jpg")): empty file")
        _ = FileManager.default.createFile(atPath: path("img12.jpg"), contents: Data("GIF89a\u{1}\u{0}".utf8))
        XCTAssertEqual(errorMessage { try ImageIO.load(path: self.path("img12.jpg")) },
                       "image.load: \(path("img12.jpg")): not a PNG or JPEG file (starts with 47 49 46 38)")
        let jpeg = try Fixtures.data("rgb444_q95.jpg")
        try jpeg.prefix(jpeg.count / 2).write(to: dir.appendingPathComponent("half.jpg"))
        XCTAssertEqual(errorMessage { try ImageIO.load(path: self.path("half.jpg")) }, "image.load: \(path("half.jpg")): truncated JPEG data")
        let png = try Fixtures.data("rgb8.png")
        try png.prefix(png.count - 20).write(to: dir.appendingPathComponent("cut.png"))
        XCTAssertEqual(errorMessage { try ImageIO.load(path: self.path("cut.png")) }, "image.load: \(path("cut.png")): truncated PNG data")
        XCTAssertEqual(errorMessage { try ImageIO.decode(data: png.prefix(5), source: "f.png") }, "image.decode: f.png: truncated PNG data")
        var bad = png
        bad[20] ^= 0xFF // inside IHDR: CRC mismatch
        XCTAssertTrue(errorMessage { try ImageIO.decode(data: bad, source: "b.png") }.hasPrefix("image.decode: b.png: corrupt PNG data ("))
    }

    /// A FIFO named as a frame is refused at once (it used to block forever waiting for a writer).
    func testAFIFOIsRefusedWithoutBlocking() throws {
        let fifo = path("img1.jpg")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertEqual(errorMessage { try ImageIO.load(path: fifo) }, "image.load: \(fifo): not a regular file")
    }
}
