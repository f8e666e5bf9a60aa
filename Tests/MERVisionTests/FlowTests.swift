import Foundation
import MERKernels
import MERTensor
import MERVision
import XCTest

/// A smooth analytic texture (a sum of oriented sinusoids with seeded random frequencies,
/// orientations and phases, values in about [0.1, 0.9]) that can be rendered at any
/// coordinates, so shifted/warped images have exact ground-truth flow.
private struct Texture {
    var waves: [(kx: Double, ky: Double, phase: Double, amp: Double)] = []

    init(seed: UInt64, count: Int = 7) {
        let g = Generator(seed: seed)
        for _ in 0..<count {
            let period = 7 + 17 * Double(g.uniform())          // 7…24 px
            let angle = Double.pi * Double(g.uniform())
            let k = 2 * Double.pi / period
            waves.append((k * cos(angle), k * sin(angle), 2 * Double.pi * Double(g.uniform()),
                          0.4 / Double(count) * (0.6 + 0.8 * Double(g.uniform()))))
        }
    }

    func value(_ x: Double, _ y: Double) -> Double {
        var s = 0.5
        for wv in waves { s += wv.amp * sin(wv.kx * x + wv.ky * y + wv.phase) }
        return s
    }

    /// An (1, h, w) image whose pixel (y, x) is the texture at `map(x, y)`.
    func render(_ h: Int, _ w: Int, _ map: (Double, Double) -> (Double, Double) = { ($0, $1) }) -> Tensor {
        var px = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            for x in 0..<w {
                let (sx, sy) = map(Double(x), Double(y))
                px[y * w + x] = Float(value(sx, sy))
            }
        }
        return try! Tensor.from(px, shape: [1, h, w])
    }
}

final class FlowTests: XCTestCase {
    let size = 112
    let border = 8

    /// Mean end-point error over the interior against a ground-truth flow `truth(x, y)`.
    private func epe(_ u: Tensor, _ v: Tensor, _ truth: (Double, Double) -> (Double, Double)) -> Double {
        let h = u.shape[1], w = u.shape[2]
        let uu = u.toArray(), vv = v.toArray()
        var sum = 0.0, n = 0
        for y in border..<(h - border) {
            for x in border..<(w - border) {
                let (tu, tv) = truth(Double(x), Double(y))
                let du = Double(uu[y * w + x]) - tu, dv = Double(vv[y * w + x]) - tv
                sum += (du * du + dv * dv).squareRoot(); n += 1
            }
        }
        return sum / Double(n)
    }

    /// b is a translated by (tx, ty): b(y, x) = a(y − ty, x − tx), so a(y, x) = b(y + ty, x + tx).
    private func translationEPE(_ tx: Double, _ ty: Double, seed: UInt64 = 7) throws -> Double {
        let tex = Texture(seed: seed)
        let a = tex.render(size, size)
        let b = tex.render(size, size) { ($0 - tx, $1 - ty) }
        let (u, v) = try OpticalFlow.tvl1(a, b)
        return epe(u, v) { _, _ in (tx, ty) }
    }

    func testIntegerTranslation() throws {
        let e = try translationEPE(2, -1)
        print("FlowTests: EPE integer translation (2, -1): \(String(format: "%.4f", e)) px")
        // Achieved 0.0031 px (2026-11-29); the bound is 2.5× that, so a regression shows.
        XCTAssertLessThan(e, 0.008)
    }

    func testSubpixelTranslation() throws {
        let e = try translationEPE(0.5, 0.25)
        print("FlowTests: EPE sub-pixel translation (0.5, 0.25): \(String(format: "%.4f", e)) px")
        // Achieved 0.0045 px; bound 2.5×.
        XCTAssertLessThan(e, 0.012)
    }

    func testConventionSign() throws {
        // b is a moved 2 px to the right: a(y, x) = b(y, x + 2), so u ≈ +2, v ≈ 0.
        let tex = Texture(seed: 11)
        let a = tex.render(size, size)
        let b = tex.render(size, size) { ($0 - 2, $1) }
        let (u, v) = try OpticalFlow.tvl1(a, b)
        let c = size / 2
        XCTAssertEqual(try u.value(at: [0, c, c]), 2, accuracy: 0.1)
        XCTAssertEqual(try v.value(at: [0, c, c]), 0, accuracy: 0.1)
        // And downwards by 3 px: v ≈ +3.
        let d = tex.render(size, size) { ($0, $1 - 3) }
        let (u2, v2) = try OpticalFlow.tvl1(a, d)
        XCTAssertEqual(try u2.value(at: [0, c, c]), 0, accuracy: 0.1)
        XCTAssertEqual(try v2.value(at: [0, c, c]), 3, accuracy: 0.1)
        XCTAssertEqual(u.shape, [1, size, size])
    }

    func testRotation() throws {
        // b is a rotated by +2° about the centre: b(p) = a(R⁻¹(p − c) + c), so the flow at p
        // is R(p − c) + c − p.
        let tex = Texture(seed: 3)
        let c = Double(size - 1) / 2, th = 2 * Double.pi / 180
        let a = tex.render(size, size)
        let b = tex.render(size, size) { x, y in
            let dx = x - c, dy = y - c
            return (c + cos(th) * dx + sin(th) * dy, c - sin(th) * dx + cos(th) * dy)
        }
        let (u, v) = try OpticalFlow.tvl1(a, b)
        let e = epe(u, v) { x, y in
            let dx = x - c, dy = y - c
            return (c + cos(th) * dx - sin(th) * dy - x, c + sin(th) * dx + cos(th) * dy - y)
        }
        print("FlowTests: EPE rotation 2° (max displacement ~\(String(format: "%.2f", th * c * 1.414)) px): \(String(format: "%.4f", e)) px")
        // Achieved 0.0051 px; bound 2.5×.
        XCTAssertLessThan(e, 0.013)
    }

    func testSmoothWarp() throws {
        // Flow w(p) = (A sin(2πy/L), A sin(2πx/L)); b(p + w(p)) = a(p), rendered exactly by
        // inverting q = p + w(p) with a fixed-point iteration (a contraction: |∇w| ≈ 0.11).
        let tex = Texture(seed: 5)
        let amp = 1.0, period = 56.0
        func flow(_ x: Double, _ y: Double) -> (Double, Double) {
            (amp * sin(2 * Double.pi * y / period), amp * sin(2 * Double.pi * x / period))
        }
        let a = tex.render(size, size)
        let b = tex.render(size, size) { qx, qy in
            var px = qx, py = qy
            for _ in 0..<40 { let (fu, fv) = flow(px, py); px = qx - fu; py = qy - fv }
            return (px, py)
        }
        let (u, v) = try OpticalFlow.tvl1(a, b)
        let e = epe(u, v, flow)
        print("FlowTests: EPE sinusoidal warp (amplitude 1 px, period 56 px): \(String(format: "%.4f", e)) px")
        // Achieved 0.130 px (TV regularisation rounds the warp's crests); bound 1.5×.
        XCTAssertLessThan(e, 0.2)
    }

    func testZeroFlowForIdenticalImages() throws {
        let a = Texture(seed: 9).render(size, size)
        let (u, v) = try OpticalFlow.tvl1(a, a)
        let m = zip(u.toArray(), v.toArray()).map { max(abs($0), abs($1)) }.max()!
        XCTAssertLessThan(m, 1e-4)
    }

    func testRankTwoAndRangeConvention() throws {
        // (H, W) input works; 0…255 input gives the same flow as 0…1 input.
        let tex = Texture(seed: 13)
        let a = tex.render(48, 64), b = tex.render(48, 64) { ($0 - 1, $1 - 0.5) }
        let a2 = try Tensor.from(a.toArray(), shape: [48, 64]), b2 = try Tensor.from(b.toArray(), shape: [48, 64])
        let a255 = try Tensor.from(a.toArray().map { $0 * 255 }, shape: [48, 64])
        let b255 = try Tensor.from(b.toArray().map { $0 * 255 }, shape: [48, 64])
        let r1 = try OpticalFlow.tvl1(a2, b2), r2 = try OpticalFlow.tvl1(a255, b255)
        XCTAssertEqual(r1.u.shape, [1, 48, 64])
        let d = zip(r1.u.toArray(), r2.u.toArray()).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(d, 1e-3)
        XCTAssertEqual(try r1.u.value(at: [0, 24, 32]), 1, accuracy: 0.1)
    }

    func testSmallAndOddSizes() throws {
        // Below 16 px only one level is used; 1×1 and thin images must not crash.
        for (h, w) in [(1, 1), (1, 7), (5, 3), (15, 17), (17, 33)] {
            let tex = Texture(seed: 21)
            let (u, v) = try OpticalFlow.tvl1(tex.render(h, w), tex.render(h, w) { ($0 - 0.3, $1) })
            XCTAssertEqual(u.shape, [1, h, w]); XCTAssertEqual(v.shape, [1, h, w])
            XCTAssertTrue(u.toArray().allSatisfy(\.isFinite) && v.toArray().allSatisfy(\.isFinite))
        }
    }

    func testDeterminismLarge() throws {
        // Big enough (≥ 40 000 px) for the iterations to be split over threads too.
        let tex = Texture(seed: 29)
        let a = tex.render(208, 224), b = tex.render(208, 224) { ($0 + 1.3, $1 - 0.4) }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        let r1 = try OpticalFlow.tvl1(a, b)
        Parallel.threads = 1
        let r2 = try OpticalFlow.tvl1(a, b)
        XCTAssertEqual(r1.u.toArray(), r2.u.toArray())
        XCTAssertEqual(r1.v.toArray(), r2.v.toArray())
        XCTAssertEqual(try r1.u.value(at: [0, 104, 112]), -1.3, accuracy: 0.1)
    }

    func testDeterminism() throws {
        let tex = Texture(seed: 17)
        let a = tex.render(size, size), b = tex.render(size, size) { ($0 - 0.7, $1 + 1.2) }
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = 2
        let r1 = try OpticalFlow.tvl1(a, b), r2 = try OpticalFlow.tvl1(a, b)
        XCTAssertEqual(r1.u.toArray(), r2.u.toArray())
        XCTAssertEqual(r1.v.toArray(), r2.v.toArray())
        // Splits are static and every reduction runs row by row, so the thread count does not matter either.
        Parallel.threads = 1
        let r3 = try OpticalFlow.tvl1(a, b)
        XCTAssertEqual(r1.u.toArray(), r3.u.toArray())
        XCTAssertEqual(r1.v.toArray(), r3.v.toArray())
    }

    func testMedianFilterOptions() throws {
        let tex = Texture(seed: 19)
        let a = tex.render(64, 64), b = tex.render(64, 64) { ($0 - 1, $1 - 1) }
        for m in [0, 1, 3] {
            let (u, v) = try OpticalFlow.tvl1(a, b, options: .init(medianFiltering: m))
            XCTAssertEqual(try u.value(at: [0, 32, 32]), 1, accuracy: 0.1, "median \(m)")
            XCTAssertEqual(try v.value(at: [0, 32, 32]), 1, accuracy: 0.1, "median \(m)")
        }
    }

    func testBadInputs() {
        let a = Texture(seed: 1).render(20, 20)
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        typealias O = OpticalFlow.TVL1Options
        XCTAssertEqual(message { try OpticalFlow.tvl1(a, a, options: O(lambda: -1)) },
                       "flow: option lambda must be positive, got -1")
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(tau: 0)) }.contains("option tau must be positive"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(tau: 0.3)) }.contains("option tau must be at most 0.25"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(theta: 0)) }.contains("option theta must be positive"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(lambda: .nan)) }.contains("option lambda must be positive, got nan"))
        XCTAssertEqual(message { try OpticalFlow.tvl1(a, a, options: O(scales: 0)) },
                       "flow: option scales must be at least 1, got 0")
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(warps: 0)) }.contains("option warps must be at least 1"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(innerIterations: 0)) }.contains("option innerIterations"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(outerIterations: 0)) }.contains("option outerIterations"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(scaleStep: 1)) }.contains("option scaleStep must be in (0, 1), got 1"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(epsilon: -1)) }.contains("option epsilon"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(medianFiltering: 4)) }.contains("option medianFiltering"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, a, options: O(intensityScale: 0)) }.contains("option intensityScale"))
        // Images.
        let small = Texture(seed: 1).render(20, 21)
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, small) }.contains("flow: images differ in size"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(a, Tensor(zeros: [1, 0, 20])) }.contains("image b is empty"))
        XCTAssertTrue(message { try OpticalFlow.tvl1(Tensor(zeros: [3, 20, 20]), a) }.contains("image a must be a (1, H, W) or (H, W) grayscale image"))
        var px = a.toArray(); px[3 * 20 + 5] = .nan
        let bad = try! Tensor.from(px, shape: [1, 20, 20])
        XCTAssertEqual(message { try OpticalFlow.tvl1(a, bad) }, "flow: image b has a NaN pixel at (y 3, x 5)")
        XCTAssertEqual(message { try OpticalFlow.tvl1(bad, a) }, "flow: image a has a NaN pixel at (y 3, x 5)")
        XCTAssertTrue(message { try OpticalFlow.strain(u: a, v: small) }.contains("strain: u and v differ in size"))
        XCTAssertTrue(message { try OpticalFlow.strain(u: bad, v: a) }.contains("strain: u has a NaN pixel"))
        XCTAssertTrue(message { try OpticalFlow.colorize(u: a, v: small) }.contains("colorize: u and v differ in size"))
        XCTAssertTrue(message { try OpticalFlow.colorize(u: a, v: a, maxMagnitude: 0) }.contains("maxMagnitude must be positive"))
    }

    // MARK: Strain

    func testStrainOfLinearFlow() throws {
        let (h, w) = (9, 13)
        let (a, b, c, d): (Float, Float, Float, Float) = (0.03, -0.02, 0.05, 0.01)
        var uu = [Float](), vv = [Float]()
        for y in 0..<h {
            for x in 0..<w { uu.append(a * Float(x) + b * Float(y)); vv.append(c * Float(x) + d * Float(y)) }
        }
        let s = try OpticalFlow.strain(u: try Tensor.from(uu, shape: [1, h, w]), v: try Tensor.from(vv, shape: [1, h, w]))
        XCTAssertEqual(s.shape, [1, h, w])
        let exy = 0.5 * (b + c)
        let expected = (a * a + d * d + 2 * exy * exy).squareRoot()
        for value in s.toArray() { XCTAssertEqual(value, expected, accuracy: 1e-5) }
        // Zero flow, zero strain; a 1-pixel field has no derivatives.
        XCTAssertEqual(try OpticalFlow.strain(u: Tensor(zeros: [4, 4]), v: Tensor(zeros: [4, 4])).toArray(), [Float](repeating: 0, count: 16))
        XCTAssertEqual(try OpticalFlow.strain(u: Tensor(zeros: [1, 1]), v: Tensor(zeros: [1, 1])).toArray(), [0])
    }

    func testStrainOfEstimatedFlowIsSmallForTranslation() throws {
        let tex = Texture(seed: 7)
        let (u, v) = try OpticalFlow.tvl1(tex.render(size, size), tex.render(size, size) { ($0 - 1, $1) })
        let s = try OpticalFlow.strain(u: u, v: v).toArray()
        var m: Float = 0
        for y in border..<(size - border) { for x in border..<(size - border) { m += s[y * size + x] } }
        m /= Float((size - 2 * border) * (size - 2 * border))
        XCTAssertLessThan(m, 0.02)
    }

    // MARK: Colour

    func testColorize() throws {
        // Right: red-ish, saturated at max magnitude; zero: white; NaN: black.
        let u = try Tensor.from([1, 0, -1, .nan, 0, 2], shape: [1, 1, 6])
        let v = try Tensor.from([0, 0, 0, 0, 1, 0], shape: [1, 1, 6])
        let img = try OpticalFlow.colorize(u: u, v: v, maxMagnitude: 1)
        XCTAssertEqual(img.shape, [3, 1, 6])
        let p = img.toArray()
        func rgb(_ i: Int) -> [Float] { [p[i], p[6 + i], p[12 + i]] }
        XCTAssertEqual(rgb(0)[0], 1, accuracy: 1e-6)            // right → red
        XCTAssertLessThan(rgb(0)[1], 0.05)
        XCTAssertEqual(rgb(1), [1, 1, 1])                        // zero → white
        XCTAssertEqual(rgb(2)[0], 0, accuracy: 0.05)             // left → cyan
        XCTAssertGreaterThan(rgb(2)[1], 0.75); XCTAssertGreaterThan(rgb(2)[2], 0.95)
        XCTAssertEqual(rgb(3), [0, 0, 0])                        // NaN → black
        XCTAssertEqual(rgb(5)[0], 0.75, accuracy: 1e-6)         // beyond max → darkened
        XCTAssertTrue(p.allSatisfy { $0 >= 0 && $0 <= 1 })
        // Automatic scale: the largest vector is saturated.
        let auto = try OpticalFlow.colorize(u: Tensor.from([0, 3], shape: [1, 2]), v: Tensor.from([0, 0], shape: [1, 2]))
        XCTAssertEqual(auto.shape, [3, 1, 2])
        XCTAssertEqual(auto.toArray()[1], 1, accuracy: 1e-6)
    }
}
