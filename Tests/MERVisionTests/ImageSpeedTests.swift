import Foundation
import MERKernels
import MERTensor
import MERVision
import MERTestSupport
import XCTest

/// The video-frame path, timed (printed, not asserted): JPEG decode + gray + resize to
/// 112×112 (area) of a 640×480 frame with a camera-like texture.
final class ImageSpeedTests: XCTestCase {
    /// 640×480 RGB: smooth shading, a face-sized blob, fine sinusoidal texture and seeded noise.
    static func frame() -> Tensor {
        var rng = SplitMix64(seed: 42)
        return image(c: 3, h: 480, w: 640) { c, y, x in
            let fx = Float(x) / 640, fy = Float(y) / 480
            let shade = 0.35 + 0.3 * fx * (1 - fy)
            let dx = fx - 0.5, dy = fy - 0.45
            let blob = 0.25 * exp(-(dx * dx + dy * dy) * 18)
            let texture = 0.05 * sin(Float(x) * 0.9 + Float(y) * 0.35) * cos(Float(y) * 0.6)
            let noise = Float(rng.next() % 1000) / 1000 * 0.08 - 0.04
            let tint: Float = [0.06, 0, -0.05][c]
            return shade + blob + texture + noise + tint
        }
    }

    func testFramePipelineTiming() throws {
        let jpeg = try JPEGCodec.encode(Self.frame(), quality: 85) // 4:2:0, like camera frames
        let n = 60
        func timed(_ body: () throws -> Tensor) rethrows -> Double {
            _ = try body() // warm-up
            let t0 = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<n { _ = try body() }
            return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 / Double(n)
        }
        let decode = try timed { try ImageIO.decode(data: jpeg, source: "frame") }
        let rgb = try ImageIO.decode(data: jpeg, source: "frame")
        let gray = try timed { try ImageOps.gray(rgb) }
        let g = try ImageOps.gray(rgb)
        let resize = try timed { try ImageOps.resize(g, height: 112, width: 112, mode: .area) }
        let full = try timed { try ImageOps.resize(ImageOps.gray(ImageIO.decode(data: jpeg, source: "f")), height: 112, width: 112, mode: .area) }
        let lumaOnly = try timed { try ImageOps.resize(JPEGCodec.decode(jpeg, grayscale: true), height: 112, width: 112, mode: .area) }
        let out = try ImageOps.resize(g, height: 112, width: 112, mode: .area)
        XCTAssertEqual(out.shape, [1, 112, 112])
        print(String(format: "image speed (640x480 JPEG q85 4:2:0, %d bytes, %d threads): decode %.2f ms, gray %.2f ms, resize→112x112 area %.2f ms; pipeline %.2f ms/frame; luma-only decode + resize %.2f ms/frame",
                     jpeg.count, Parallel.threads, decode, gray, resize, full, lumaOnly))
    }
}
