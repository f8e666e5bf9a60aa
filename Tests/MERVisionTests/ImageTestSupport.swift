import Foundation
import MERTensor
import XCTest

enum Fixtures {
    static let images = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/images")

    static func path(_ name: String) -> String { images.appendingPathComponent(name).path }
    static func data(_ name: String) throws -> Data { try Data(contentsOf: images.appendingPathComponent(name)) }

    // The formulas of make_images.py.
    static func v8(_ x: Int, _ y: Int, _ c: Int) -> Int { (37 * x + 71 * y + 101 * c + 13) % 256 }
    static func v16(_ x: Int, _ y: Int, _ c: Int) -> Int { (9973 * x + 30011 * y + 12345 * c + 7) % 65536 }
    static func vb(_ x: Int, _ y: Int, _ b: Int) -> Int { (x + 3 * y) % (1 << b) }
    static func palEntry(_ i: Int) -> [Int] { [(17 * i) % 256, (53 * i + 7) % 256, (255 - 13 * i) % 256] }
    static func palAlpha(_ i: Int) -> Int { i < 5 ? (40 * i + 15) % 256 : 255 }
}

/// A (C, H, W) tensor from a per-pixel function.
func image(c: Int, h: Int, w: Int, _ f: (Int, Int, Int) throws -> Float) throws -> Tensor {
    let t = try Tensor(zeros: [c, h, w])
    for ch in 0..<c { for y in 0..<h { for x in 0..<w { t.pointer[(ch * h + y) * w + x] = try f(ch, y, x) } } }
    return t
}

func maxAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
    zip(a.toArray(), b.toArray()).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func assertClose(_ a: Tensor, _ b: Tensor, tol: Float, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "shape " + message, file: file, line: line)
    guard a.shape == b.shape else { return }
    let d = maxAbsDiff(a, b)
    XCTAssertLessThanOrEqual(d, tol, "max |diff| \(d) > \(tol) " + message, file: file, line: line)
}

/// The TensorError message of `body`, failing the test when it does not throw one.
func errorMessage(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
        return ""
    } catch let e as TensorError {
        return e.message
    } catch {
        XCTFail("expected a TensorError, got \(error)", file: file, line: line)
        return ""
    }
}
