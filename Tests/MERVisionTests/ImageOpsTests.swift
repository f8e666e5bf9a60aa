import MERKernels
import MERTensor
import MERVision
import XCTest

/// gray, resize, crop and grid on small hand-computed cases.
final class ImageOpsTests: XCTestCase {
    func t(_ v: [Float], _ shape: [Int]) -> Tensor { try! Tensor.from(v, shape: shape) }

    func testGrayBT601() throws {
        let rgb = t([1, 0, 0.5, /* G */ 0, 1, 0.5, /* B */ 0, 0, 0.5], [3, 1, 3])
        assertClose(try ImageOps.gray(rgb), t([0.299, 0.587, 0.5], [1, 1, 3]), tol: 1e-6)
        let rgba = t([1, 0, 0, 1, 0, 0, 0.25, 0.25], [4, 1, 2]) // alpha ignored
        assertClose(try ImageOps.gray(rgba), t([0.299, 0.587], [1, 1, 2]), tol: 1e-6)
        let ga = t([0.2, 0.4, 1, 1], [2, 1, 2])
        XCTAssertEqual(try ImageOps.gray(ga).toArray(), [0.2, 0.4])
        let batch = t([1, 0, 0, 1, 0, 0, /* image 2 */ 0, 0, 1, 1, 1, 0], [2, 3, 1, 2])
        let g = try ImageOps.gray(batch)
        XCTAssertEqual(g.shape, [2, 1, 1, 2])
        assertClose(g, t([0.299, 0.587, 0.701, 0.587], [2, 1, 1, 2]), tol: 1e-6)
        XCTAssertTrue(errorMessage { try ImageOps.gray(Tensor(zeros: [5, 2, 2])) }.contains("1 to 4 channels"))
        XCTAssertTrue(errorMessage { try ImageOps.gray(Tensor(zeros: [2, 2])) }.contains("(C, H, W)"))
    }

    func testBilinearUpscale2x2To4x4() throws {
        // OpenCV INTER_LINEAR / PyTorch align_corners=False: source x = (d + 0.5)/2 - 0.5,
        // clamped at 0 → weights per axis: d0: [1, 0], d1: [0.75, 0.25], d2: [0.25, 0.75], d3: [0, 1].
        let src = t([0, 1, 2, 3], [1, 2, 2])
        let out = try ImageOps.resize(src, height: 4, width: 4, mode: .bilinear)
        let row0: [Float] = [0, 0.25, 0.75, 1]
        let row3: [Float] = [2, 2.25, 2.75, 3]
        let expected = row0 + zip(row0, row3).map { 0.75 * $0 + 0.25 * $1 } + zip(row0, row3).map { 0.25 * $0 + 0.75 * $1 } + row3
        assertClose(out, t(expected, [1, 4, 4]), tol: 1e-6)
        // .auto picks bilinear when growing.
        assertClose(try ImageOps.resize(src, height: 4, width: 4), out, tol: 0)
    }

    func testBilinearDownscaleAndOddRatio() throws {
        // 1-D 4 → 3: src x = (d + 0.5)·4/3 − 0.5 = 1/6, 3/2, 17/6.
        let src = t([0, 10, 20, 30], [1, 1, 4])
        let out = try ImageOps.resize(src, height: 1, width: 3, mode: .bilinear)
        assertClose(out, t([10.0 / 6, 15, 170.0 / 6], [1, 1, 3]), tol: 1e-4)
        // 4 → 2 bilinear samples between pixel pairs: x = 0.5, 2.5.
        assertClose(try ImageOps.resize(src, height: 1, width: 2, mode: .bilinear), t([5, 25], [1, 1, 2]), tol: 1e-5)
    }

    func testAreaIntegerRatioIsBlockMean() throws {
        let src = t((0..<16).map(Float.init), [1, 4, 4])
        let out = try ImageOps.resize(src, height: 2, width: 2, mode: .area)
        assertClose(out, t([2.5, 4.5, 10.5, 12.5], [1, 2, 2]), tol: 1e-5)
        assertClose(try ImageOps.resize(src, height: 2, width: 2), out, tol: 0, ".auto = area when shrinking")
    }

    func testAreaFractionalRatio5To3() throws {
        // Each output covers 5/3 source pixels: weights [0.6, 0.4], [0.2, 0.6, 0.2], [0.4, 0.6].
        let src = t([0, 10, 20, 30, 40], [1, 1, 5])
        let out = try ImageOps.resize(src, height: 1, width: 3, mode: .area)
        assertClose(out, t([4, 20, 36], [1, 1, 3]), tol: 1e-4)
        // 2-D: the weights multiply.
        let s2 = t((0..<25).map(Float.init), [1, 5, 5])
        let o2 = try ImageOps.resize(s2, height: 3, width: 3, mode: .area)
        let w: [[(Int, Float)]] = [[(0, 0.6), (1, 0.4)], [(1, 0.2), (2, 0.6), (3, 0.2)], [(3, 0.4), (4, 0.6)]]
        var expected: [Float] = []
        for wy in w { for wx in w {
            var s: Float = 0
            for (y, a) in wy { for (x, b) in wx { s += a * b * Float(y * 5 + x) } }
            expected.append(s)
        } }
        assertClose(o2, t(expected, [1, 3, 3]), tol: 1e-4)
        // Area keeps the mean of a constant image and of the whole image at ratio 1/n.
        let mean = try ImageOps.resize(s2, height: 1, width: 1, mode: .area)
        XCTAssertEqual(try mean.item(), 12, accuracy: 1e-4)
    }

    func testResizeIdentityBatchAndErrors() throws {
        let src = try Tensor.rand([2, 3, 7, 9], generator: Generator(seed: 3))
        let same = try ImageOps.resize(src, height: 7, width: 9)
        XCTAssertEqual(same.toArray(), src.toArray())
        XCTAssertFalse(same === src)
        // A batch resizes like its images one by one.
        let b = try ImageOps.resize(src, height: 4, width: 5)
        XCTAssertEqual(b.shape, [2, 3, 4, 5])
        let one = try ImageOps.resize(try ImageOps.crop(src, x: 0, y: 0, width: 9, height: 7), height: 4, width: 5)
        XCTAssertEqual(one.toArray(), b.toArray())
        // Only one axis changes: the other is copied exactly.
        let wide = try ImageOps.resize(src, height: 7, width: 18, mode: .bilinear)
        XCTAssertEqual(wide.shape, [2, 3, 7, 18])
        XCTAssertTrue(errorMessage { try ImageOps.resize(src, height: 0, width: 3) }.contains("at least 1x1"))
        XCTAssertTrue(errorMessage { try ImageOps.resize(Tensor(zeros: [4]), height: 2, width: 3) }.contains("expected an image"))
    }

    func testResizeLargeParallelMatchesSingleThread() throws {
        let src = try Tensor.rand([3, 240, 320], generator: Generator(seed: 9))
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for mode in ResizeMode.allCases {
            Parallel.threads = 1
            let a = try ImageOps.resize(src, height: 112, width: 150, mode: mode)
            Parallel.threads = 2
            let b = try ImageOps.resize(src, height: 112, width: 150, mode: mode)
            XCTAssertEqual(a.toArray(), b.toArray(), "\(mode)")
        }
        // Area of a constant image is that constant.
        let c = try ImageOps.resize(Tensor.full([1, 480, 640], 0.25), height: 112, width: 112, mode: .area)
        XCTAssertLessThan(maxAbsDiff(c, try Tensor.full([1, 112, 112], 0.25)), 1e-6)
    }

    func testCropAndCenterCrop() throws {
        let src = t((0..<24).map(Float.init), [2, 3, 4])
        let c = try ImageOps.crop(src, x: 1, y: 1, width: 2, height: 2)
        XCTAssertEqual(c.toArray(), [5, 6, 9, 10, 17, 18, 21, 22])
        XCTAssertEqual(try ImageOps.crop(src, x: 0, y: 0, width: 4, height: 3).toArray(), src.toArray())
        XCTAssertTrue(errorMessage { try ImageOps.crop(src, x: 3, y: 0, width: 2, height: 1) }.contains("does not lie inside the 4x3 image"))
        XCTAssertTrue(errorMessage { try ImageOps.crop(src, x: -1, y: 0, width: 1, height: 1) }.contains("does not lie inside"))
        XCTAssertTrue(errorMessage { try ImageOps.crop(src, x: 0, y: 0, width: 0, height: 1) }.contains("at least 1x1"))
        let cc = try ImageOps.centerCrop(src, height: 1, width: 2)
        XCTAssertEqual(cc.toArray(), [5, 6, 17, 18])
        XCTAssertTrue(errorMessage { try ImageOps.centerCrop(src, height: 4, width: 2) }.contains("does not fit"))
        // Batches crop every image.
        let batch = try ImageOps.crop(Tensor(zeros: [5, 3, 10, 10]), x: 2, y: 3, width: 4, height: 5)
        XCTAssertEqual(batch.shape, [5, 3, 5, 4])
    }

    func testGrid() throws {
        let a = t([0, 0, 0, 0], [1, 2, 2])
        let b = t([0.5, 0.5, 0.5, 0.5], [1, 2, 2])
        let g = try ImageOps.grid([a, b, a], columns: 2, padding: 1, padValue: 1)
        XCTAssertEqual(g.shape, [1, 7, 7]) // 2 rows × (2 + 1) + 1, 2 cols × (2 + 1) + 1
        let v = g.toArray()
        XCTAssertEqual(v[1 * 7 + 1], 0)      // a at (1, 1)
        XCTAssertEqual(v[1 * 7 + 4], 0.5)    // b at (1, 4)
        XCTAssertEqual(v[4 * 7 + 1], 0)      // a at (4, 1)
        XCTAssertEqual(v[4 * 7 + 4], 1)      // empty cell: padValue
        XCTAssertEqual(v[0], 1)
        XCTAssertEqual(v[3 * 7 + 2], 1)      // padding row between
        // Gray + RGB → RGB, gray repeated; default columns ⌈√N⌉; default padding 2.
        let rgb = try image(c: 3, h: 2, w: 2) { c, _, _ in Float(c) / 4 }
        let mixed = try ImageOps.grid([b, rgb])
        XCTAssertEqual(mixed.shape, [3, 6, 10])
        for c in 0..<3 {
            XCTAssertEqual(try mixed.value(at: [c, 2, 2]), 0.5)
            XCTAssertEqual(try mixed.value(at: [c, 2, 6]), Float(c) / 4)
        }
        // From a batch tensor, same as from its images.
        let batch = try Tensor.rand([5, 3, 4, 3], generator: Generator(seed: 1))
        let fromBatch = try ImageOps.grid(batch, columns: 3, padding: 0)
        XCTAssertEqual(fromBatch.shape, [3, 8, 9])
        XCTAssertEqual(try fromBatch.value(at: [1, 5, 4]), try batch.value(at: [4, 1, 1, 1]))
        XCTAssertTrue(errorMessage { try ImageOps.grid([Tensor]()) }.contains("no images"))
    }
}
