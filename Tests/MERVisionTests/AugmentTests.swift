import XCTest
import MERTensor
import MERVision

final class AugmentTests: XCTestCase {
    func t(_ v: [Float], _ shape: [Int]) -> Tensor { try! Tensor.from(v, shape: shape) }

    func assertClose(_ a: Tensor, _ b: Tensor, tol: Float = 1e-5, _ msg: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, msg, file: file, line: line)
        let x = a.toArray(), y = b.toArray()
        var worst: Float = 0
        for i in x.indices { worst = max(worst, abs(x[i] - y[i])) }
        XCTAssertLessThanOrEqual(worst, tol, "max |diff| \(worst) \(msg)", file: file, line: line)
    }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    /// A smooth random image (C,H,W).
    func image(_ c: Int, _ h: Int, _ w: Int, seed: UInt64) -> Tensor {
        let g = Generator(seed: seed)
        var v = [Float](repeating: 0, count: c * h * w)
        let a = g.uniform(), b = g.uniform()
        for k in 0..<c { for j in 0..<h { for i in 0..<w {
            v[(k * h + j) * w + i] = 0.5 + 0.3 * sinf(Float(i) * 0.3 * (a + 0.5) + Float(k)) * cosf(Float(j) * 0.2 * (b + 0.5)) + 0.1 * g.uniform()
        } } }
        return t(v, [c, h, w])
    }

    // MARK: Hand cases

    func testHFlipOf2x3() throws {
        let x = t([1, 2, 3, 4, 5, 6], [1, 2, 3])
        XCTAssertEqual(try Augment.hflip(x).toArray(), [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(try Augment.vflip(x).toArray(), [4, 5, 6, 1, 2, 3])
        // (N,C,H,W) and non-contiguous input.
        let y = t([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2])
        XCTAssertEqual(try Augment.hflip(y).toArray(), [2, 1, 4, 3, 6, 5, 8, 7])
        let nc = try t([1, 2, 3, 4, 5, 6], [1, 3, 2]).transpose(1, 2)   // (1,2,3) view
        XCTAssertEqual(try Augment.hflip(nc).toArray(), [5, 3, 1, 6, 4, 2])
    }

    func testRotate90IsFlipThenTranspose() throws {
        let x = image(2, 7, 7, seed: 1)
        let r = try Augment.rotate(x, degrees: 90)
        // Counter-clockwise on screen: out[r][c] = in[c][n-1-r] (torch.rot90(x, 1, [-2, -1])).
        let expected = try Augment.hflip(x).transpose(1, 2).contiguous()
        assertClose(r, expected, tol: 1e-6)
        // Four quarter turns and ±180 agree.
        var y = x
        for _ in 0..<4 { y = try Augment.rotate(y, degrees: 90) }
        assertClose(y, x, tol: 0)
        assertClose(try Augment.rotate(x, degrees: 180), try Augment.rotate(x, degrees: -180), tol: 0)
        // Even size: the centre is between pixels, still exact.
        let e = image(1, 6, 6, seed: 2)
        assertClose(try Augment.rotate(e, degrees: -90), try Augment.hflip(try e.transpose(1, 2).contiguous()), tol: 1e-6)
    }

    func testAffineIdentityAndTranslation() throws {
        let x = image(3, 9, 11, seed: 3)
        assertClose(try Augment.affine(x), x, tol: 0)
        assertClose(try Augment.affine(x, angle: 0, translate: (0, 0), scale: 1, shear: (0, 0), fill: 0.7), x, tol: 0)
        // Integer translation: content moves right by 2 and down by 1, the rest is fill.
        let m = try Augment.affine(x, translate: (2, 1), fill: -1)
        let a = m.toArray(), b = x.toArray()
        for c in 0..<3 { for j in 0..<9 { for i in 0..<11 {
            let expected: Float = (i >= 2 && j >= 1) ? b[(c * 9 + j - 1) * 11 + i - 2] : -1
            XCTAssertEqual(a[(c * 9 + j) * 11 + i], expected)
        } } }
        // Half-pixel translation is the average of neighbours.
        let h = try Augment.affine(t([0, 1, 2, 3], [1, 1, 4]), translate: (0.5, 0))
        XCTAssertEqual(h.toArray(), [0, 0.5, 1.5, 2.5])
        // Scale 2 about the centre of a 1×5 row: x' = 2 + 2(x − 2) ⇒ source = 2 + (x' − 2)/2.
        let s = try Augment.affine(t([0, 1, 2, 3, 4], [1, 1, 5]), scale: 2)
        XCTAssertEqual(s.toArray(), [1, 1.5, 2, 2.5, 3])
    }

    func testAdjustValues() throws {
        let x = t([0.2, 0.4, 0.6, 0.8], [1, 2, 2])         // mean 0.5
        assertClose(try Augment.adjust(x, brightness: 0.1), t([0.3, 0.5, 0.7, 0.9], [1, 2, 2]))
        assertClose(try Augment.adjust(x, contrast: 2), t([0, 0.3, 0.7, 1], [1, 2, 2]))   // clamped
        assertClose(try Augment.adjust(x, contrast: 0), t([0.5, 0.5, 0.5, 0.5], [1, 2, 2]))
        assertClose(try Augment.adjust(x, gamma: 2), t([0.04, 0.16, 0.36, 0.64], [1, 2, 2]))
        assertClose(try Augment.adjust(x, brightness: 0.5), t([0.7, 0.9, 1, 1], [1, 2, 2]))
        // Means are per plane: a constant plane stays put under any contrast.
        let two = t([0.2, 0.4, 0.6, 0.8, 0.3, 0.3, 0.3, 0.3], [2, 2, 2])
        XCTAssertEqual(Array(try Augment.adjust(two, contrast: 3).toArray()[4...]), [0.3, 0.3, 0.3, 0.3])
    }

    func testResizedCropAndRandomResizedCrop() throws {
        let x = t((0..<16).map(Float.init), [1, 4, 4])
        // Identity box and size: unchanged.
        assertClose(try Augment.resizedCrop(x, box: Augment.CropBox(top: 0, left: 0, height: 4, width: 4), size: (4, 4)), x, tol: 0)
        // Same-size crop of the centre 2×2.
        XCTAssertEqual(try Augment.resizedCrop(x, box: Augment.CropBox(top: 1, left: 1, height: 2, width: 2), size: (2, 2)).toArray(),
                       [5, 6, 9, 10])
        // Downscale by 2 with half-pixel centres: averages of 2×2 blocks.
        XCTAssertEqual(try Augment.resizedCrop(x, box: Augment.CropBox(top: 0, left: 0, height: 4, width: 4), size: (2, 2)).toArray(),
                       [2.5, 4.5, 10.5, 12.5])
        // Random boxes respect the scale and ratio ranges.
        let g = Generator(seed: 4)
        for _ in 0..<200 {
            let b = try RandomAugment.cropBox(height: 100, width: 120, scale: 0.5...0.9, ratio: 0.75...(4.0 / 3.0), generator: g)
            XCTAssert(b.top >= 0 && b.left >= 0 && b.top + b.height <= 100 && b.left + b.width <= 120)
            let area = Float(b.height * b.width) / 12000, ratio = Float(b.width) / Float(b.height)
            XCTAssert(area > 0.47 && area < 0.93, "area \(area)")
            XCTAssert(ratio > 0.72 && ratio < 1.37, "ratio \(ratio)")
        }
        // Impossible ratio: falls back to a centre crop clamped to the ratio.
        let f = try RandomAugment.cropBox(height: 10, width: 100, scale: 0.99...1, ratio: 1...1, generator: g)
        XCTAssertEqual(f, Augment.CropBox(top: 0, left: 45, height: 10, width: 10))
        let out = try Augment.randomResizedCrop(image(2, 30, 40, seed: 5), size: 16, generator: Generator(seed: 6))
        XCTAssertEqual(out.shape, [2, 16, 16])
    }

    // MARK: Reproducibility and pairing

    func testSameGeneratorSeedReproduces() throws {
        let x = image(2, 16, 16, seed: 7)
        func run(_ seed: UInt64) throws -> [Float] {
            let g = Generator(seed: seed)
            var y = try RandomAugment.randomAffine([x], maxAngle: 10, maxTranslate: 3, scale: 0.9...1.1, maxShear: 5, generator: g)
            y = try RandomAugment.randomHFlip(y, generator: g)
            y = try RandomAugment.randomAdjust(y, maxBrightness: 0.1, contrast: 0.8...1.2, gamma: 0.8...1.25, generator: g)
            y = try Augment.randomResizedCrop(y, size: 12, generator: g)
            y = try Augment.noise(y, std: 0.05, generator: g)
            return y[0].toArray()
        }
        XCTAssertEqual(try run(1), try run(1))
        XCTAssertNotEqual(try run(1), try run(2))
    }

    func testPairTransformEqualsSameParametersOnEachFrame() throws {
        let onset = image(1, 20, 24, seed: 8), apex = image(1, 20, 24, seed: 9)
        let stacked = try Tensor.cat([onset, apex], dim: 0)          // (2,H,W): frames as channels
        for seed in 0..<10 as Range<UInt64> {
            // Affine: array, channels, and parameters applied to each frame separately.
            let pair = try RandomAugment.randomAffine([onset, apex], maxAngle: 15, maxTranslate: 4, scale: 0.8...1.2,
                                                      maxShear: 10, fill: 0.25, generator: Generator(seed: seed))
            let p = try RandomAugment.randomAffine(maxAngle: 15, maxTranslate: 4, scale: 0.8...1.2, maxShear: 10,
                                                   generator: Generator(seed: seed))
            XCTAssertEqual(pair[0].toArray(), try p.apply(to: onset, fill: 0.25).toArray())
            XCTAssertEqual(pair[1].toArray(), try p.apply(to: apex, fill: 0.25).toArray())
            XCTAssertEqual(try p.apply(to: stacked, fill: 0.25).toArray(), pair[0].toArray() + pair[1].toArray())
            // Crop: one box for both frames.
            let crops = try Augment.randomResizedCrop([onset, apex], size: 16, scale: 0.5...1, generator: Generator(seed: seed))
            let box = try RandomAugment.cropBox(height: 20, width: 24, scale: 0.5...1, generator: Generator(seed: seed))
            XCTAssertEqual(crops[1].toArray(), try Augment.resizedCrop(apex, box: box, size: (16, 16)).toArray())
            XCTAssertEqual(try Augment.randomResizedCrop(stacked, size: 16, scale: 0.5...1, generator: Generator(seed: seed)).toArray(),
                           crops[0].toArray() + crops[1].toArray())
            // Photometric and flip.
            let adj = try RandomAugment.randomAdjust([onset, apex], maxBrightness: 0.2, contrast: 0.5...1.5, gamma: 0.7...1.4,
                                                     generator: Generator(seed: seed))
            let a = try RandomAugment.adjustment(maxBrightness: 0.2, contrast: 0.5...1.5, gamma: 0.7...1.4, generator: Generator(seed: seed))
            XCTAssertEqual(adj[1].toArray(), try a.apply(to: apex).toArray())
            XCTAssertEqual(try a.apply(to: stacked).toArray(), adj[0].toArray() + adj[1].toArray())
            let flips = try RandomAugment.randomHFlip([onset, apex], generator: Generator(seed: seed))
            let flipped = try RandomAugment.flip(generator: Generator(seed: seed))
            XCTAssertEqual(flips[1].toArray(), flipped ? try Augment.hflip(apex).toArray() : apex.toArray())
            // Noise: drawn frame after frame from one generator, the same as channels.
            let nz = try Augment.noise([onset, apex], std: 0.1, generator: Generator(seed: seed))
            XCTAssertEqual(try Augment.noise(stacked, std: 0.1, generator: Generator(seed: seed)).toArray(),
                           nz[0].toArray() + nz[1].toArray())
            XCTAssertNotEqual(nz[0].toArray().map { $0 }, try Augment.noise(onset, std: 0.1, generator: Generator(seed: seed + 100)).toArray())
        }
    }

    func testGeometricTransformsCommuteWithTheDifference() throws {
        // T(apex) − T(onset) = T(apex − onset) for the linear (geometric) transforms, fill 0.
        let g = Generator(seed: 12)
        for trial in 0..<20 {
            let onset = image(1, 17, 21, seed: UInt64(100 + trial)), apex = image(1, 17, 21, seed: UInt64(200 + trial))
            let diff = try apex - onset
            let p = try RandomAugment.randomAffine(maxAngle: 30, maxTranslate: 5, scale: 0.7...1.3, maxShear: 15, generator: g)
            let ta = try p.apply(to: apex), to = try p.apply(to: onset)
            assertClose(try ta - to, try p.apply(to: diff), tol: 1e-5, "affine \(p)")
            let box = try RandomAugment.cropBox(height: 17, width: 21, scale: 0.3...1, generator: g)
            let ca = try Augment.resizedCrop(apex, box: box, size: (13, 11)), co = try Augment.resizedCrop(onset, box: box, size: (13, 11))
            assertClose(try ca - co, try Augment.resizedCrop(diff, box: box, size: (13, 11)), tol: 1e-5, "crop \(box)")
            assertClose(try Augment.hflip(apex) - Augment.hflip(onset), try Augment.hflip(diff), tol: 0)
        }
    }

    // MARK: Errors

    func testArgumentsAreValidated() throws {
        let x = image(1, 4, 4, seed: 1)
        let g = Generator(seed: 0)
        XCTAssertEqual(message { _ = try Augment.noise(x, std: -1, generator: g) }, "augment.noise: std must be non-negative, got -1")
        XCTAssert(message { _ = try Augment.noise(x, std: .nan, generator: g) }.contains("augment.noise: std must be finite"))
        XCTAssert(message { _ = try Augment.hflip(Tensor(zeros: [1, 0, 4])) }.contains("augment.hflip: input is empty"))
        XCTAssert(message { _ = try Augment.hflip(Tensor(zeros: [4, 4])) }.contains("augment.hflip: input must have shape (C,H,W) or (N,C,H,W)"))
        let nan = t([0, .nan, 0, 0], [1, 2, 2])
        XCTAssert(message { _ = try Augment.rotate(nan, degrees: 3) }.contains("augment.rotate: input has a non-finite pixel (nan) at element 1"))
        XCTAssert(message { _ = try Augment.rotate(x, degrees: .infinity) }.contains("augment.rotate: degrees must be finite"))
        XCTAssert(message { _ = try Augment.affine(x, scale: 0) }.contains("augment.affine: scale must be positive and finite, got 0"))
        XCTAssert(message { _ = try Augment.affine(x, shear: (90, 0)) }.contains("augment.affine: shear must be finite"))
        XCTAssert(message { _ = try Augment.affine(x, shear: (45, 45)) }.contains("singular"))
        XCTAssert(message { _ = try Augment.adjust(x, contrast: -0.5) }.contains("augment.adjust: contrast must be non-negative and finite, got -0.5"))
        XCTAssert(message { _ = try Augment.adjust(x, gamma: 0) }.contains("augment.adjust: gamma must be positive"))
        XCTAssert(message { _ = try Augment.randomResizedCrop(x, size: 2, scale: 0...1, generator: g) }.contains("augment.randomResizedCrop: scale must be positive"))
        XCTAssert(message { _ = try Augment.randomResizedCrop(x, size: 2, scale: 0.5...1.5, generator: g) }.contains("scale must be within (0, 1]"))
        XCTAssert(message { _ = try Augment.randomResizedCrop(x, size: 0, generator: g) }.contains("augment.randomResizedCrop: size must be positive"))
        XCTAssert(message { _ = try Augment.resizedCrop(x, box: Augment.CropBox(top: 2, left: 0, height: 3, width: 2), size: (2, 2)) }.contains("augment.resizedCrop: box"))
        XCTAssert(message { _ = try RandomAugment.randomAffine(maxAngle: -1, generator: g) }.contains("augment.randomAffine: maxAngle must be in 0...180 degrees, got -1"))
        XCTAssert(message { _ = try RandomAugment.randomAffine(maxAngle: 1, scale: -1...1, generator: g) }.contains("augment.randomAffine: scale must be positive"))
        XCTAssert(message { _ = try RandomAugment.flip(p: 2, generator: g) }.contains("p must be in 0...1, got 2"))
        XCTAssert(message { _ = try Augment.hflip([x, self.image(1, 5, 4, seed: 2)]) }.contains("augment.hflip: input[1] is 5×4 but input[0] is 4×4"))
        XCTAssert(message { _ = try Augment.hflip([]) }.contains("augment.hflip: no tensors given"))
    }
}
