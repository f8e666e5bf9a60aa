import XCTest
import Dispatch
import MERTensor
import MERVision

final class SyntheticTests: XCTestCase {
    typealias Sample = (onset: Tensor, apex: Tensor, label: Int, subject: String, id: String)

    func sample(_ s: Int, _ k: Int, _ o: SyntheticOptions) throws -> Sample {
        try SyntheticMicroExpressions.sample(subject: s, index: k, options: o)
    }

    func meanAbsDiff(_ a: Tensor, _ b: Tensor) -> Float {
        let x = a.toArray(), y = b.toArray()
        var s: Float = 0
        for i in x.indices { s += abs(x[i] - y[i]) }
        return s / Float(x.count)
    }

    /// Options whose onset and apex differ only by the expression (no head motion, noise or
    /// illumination change).
    func expressionOnly(size: Int = 112, seed: UInt64 = 3) -> SyntheticOptions {
        var o = SyntheticOptions(subjects: 6, perClass: 3, size: size, seed: seed)
        o.headMotion = 0; o.noise = 0; o.illumination = 0
        return o
    }

    /// Sum of |apex − onset| over the rows [lo, hi) (fractions of the height).
    func rowEnergy(_ s: Sample, _ lo: Float, _ hi: Float) -> Float {
        let n = s.onset.shape[2]
        let a = s.apex.toArray(), b = s.onset.toArray()
        var e: Float = 0
        for j in Int(lo * Float(n))..<Int(hi * Float(n)) { for i in 0..<n { e += abs(a[j * n + i] - b[j * n + i]) } }
        return e
    }

    /// Sum of (apex − onset)² over a box (u0, u1, v0, v1 as fractions of the frame).
    func boxSquaredEnergy(_ s: Sample, _ box: (Float, Float, Float, Float)) -> Float {
        let n = s.onset.shape[2]
        let a = s.apex.toArray(), b = s.onset.toArray()
        var e: Float = 0
        for j in Int(box.2 * Float(n))..<Int(box.3 * Float(n)) {
            for i in Int(box.0 * Float(n))..<Int(box.1 * Float(n)) { let d = a[j * n + i] - b[j * n + i]; e += d * d }
        }
        return e
    }

    // MARK: Determinism

    func testSameSeedIsBitIdenticalInAnyOrderAndThread() throws {
        let o = SyntheticOptions(subjects: 3, perClass: 2, size: 64, seed: 11)
        let n = SyntheticMicroExpressions.count(o)
        let first = try (0..<n).map { try SyntheticMicroExpressions.sample(at: $0, options: o) }
        // Reverse order, and concurrently.
        for i in (0..<n).reversed() {
            let r = try SyntheticMicroExpressions.sample(at: i, options: o)
            XCTAssertEqual(r.onset.toArray(), first[i].onset.toArray())
            XCTAssertEqual(r.apex.toArray(), first[i].apex.toArray())
            XCTAssertEqual(r.id, first[i].id)
        }
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: n)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let box = SynthUncheckedBox(results)
        DispatchQueue.concurrentPerform(iterations: n) { i in
            box.value[i] = (try? SyntheticMicroExpressions.sample(at: i, options: o).apex.toArray()) ?? []
        }
        for i in 0..<n { XCTAssertEqual(results[i], first[i].apex.toArray(), "sample \(i) differs on another thread") }
    }

    func testDifferentSeedGivesDifferentSamples() throws {
        var o = SyntheticOptions(subjects: 2, perClass: 1, size: 64, seed: 1)
        let a = try sample(0, 0, o)
        o.seed = 2
        let b = try sample(0, 0, o)
        XCTAssertGreaterThan(meanAbsDiff(a.onset, b.onset), 0.01)
        XCTAssertEqual(a.id, b.id)
    }

    // MARK: Layout

    func testCountsLabelsAndIds() throws {
        let o = SyntheticOptions(subjects: 3, perClass: 2, size: 32, seed: 0)
        XCTAssertEqual(SyntheticMicroExpressions.count(o), 3 * 5 * 2)
        XCTAssertEqual(SyntheticMicroExpressions.classNames, ["happiness", "disgust", "repression", "surprise", "others"])
        var perClass = [Int](repeating: 0, count: 5), ids = Set<String>()
        for i in 0..<SyntheticMicroExpressions.count(o) {
            let r = try SyntheticMicroExpressions.sample(at: i, options: o)
            perClass[r.label] += 1
            ids.insert(r.id)
            XCTAssertTrue(r.id.hasPrefix(r.subject + "_" + SyntheticMicroExpressions.classNames[r.label] + "_"))
        }
        XCTAssertEqual(perClass, [6, 6, 6, 6, 6])
        XCTAssertEqual(ids.count, 30)
        let r = try sample(0, 3, o)
        XCTAssertEqual(r.subject, "s01")
        XCTAssertEqual(r.label, 1)
        XCTAssertEqual(r.id, "s01_disgust_02")
        XCTAssertEqual(try sample(2, 9, o).id, "s03_others_02")
    }

    func testSizesAndValueRange() throws {
        for size in [64, 112] {
            let o = SyntheticOptions(subjects: 2, perClass: 1, size: size, seed: 5)
            for k in 0..<5 {
                let r = try sample(1, k, o)
                XCTAssertEqual(r.onset.shape, [1, size, size])
                XCTAssertEqual(r.apex.shape, [1, size, size])
                for v in r.onset.toArray() + r.apex.toArray() { XCTAssert(v >= 0 && v <= 1, "value \(v) outside [0, 1]") }
                // A face is there: a good spread of grey levels.
                let x = r.onset.toArray()
                XCTAssertGreaterThan(x.max()! - x.min()!, 0.4)
            }
        }
    }

    func testIdentitiesDifferBetweenSubjects() throws {
        let faces = try (0..<6).map { try SyntheticFace(subject: $0, seed: 0).renderNeutral(size: 64) }
        for a in 0..<6 { for b in (a + 1)..<6 {
            XCTAssertGreaterThan(meanAbsDiff(faces[a], faces[b]), 0.02, "subjects \(a) and \(b) look alike")
        } }
        // Same subject, same seed: the same face.
        XCTAssertEqual(try SyntheticFace(subject: 4, seed: 0).renderNeutral(size: 64).toArray(), faces[4].toArray())
    }

    // MARK: Subtle, local expressions

    func testApexDiffersSubtlyAndMoreThanNoise() throws {
        let o = SyntheticOptions(subjects: 4, perClass: 2, size: 112, seed: 9)
        // Pure sensor noise: same options without expression, head motion or illumination change.
        var still = o
        still.intensity = 0...0; still.headMotion = 0; still.illumination = 0
        // Noise plus expression (no head motion): isolates the expression against the noise.
        var expressive = still
        expressive.intensity = o.intensity
        // Class regions (u0, u1, v0, v1 as fractions of the frame) where the expression must beat noise.
        let regions: [(Float, Float, Float, Float)] = [(0.2, 0.8, 0.5, 0.85), (0.3, 0.7, 0.3, 0.7),
                                                       (0.3, 0.7, 0.62, 0.9), (0.2, 0.8, 0.25, 0.5),
                                                       (0.2, 0.8, 0.3, 0.9)]
        var inRegion = [Float](repeating: 0, count: 5), noiseInRegion = inRegion
        var total: Float = 0, noiseTotal: Float = 0
        for s in 0..<4 { for k in 0..<10 {
            let a = try sample(s, k, o), b = try sample(s, k, still), c = try sample(s, k, expressive)
            let m = meanAbsDiff(a.apex, a.onset)
            XCTAssertGreaterThan(m, 0, a.id)
            XCTAssertLessThan(m, 0.05, "\(a.id): apex too different from onset for a micro-expression")
            total += m; noiseTotal += meanAbsDiff(b.apex, b.onset)
            let r = regions[a.label]
            inRegion[a.label] += boxSquaredEnergy(c, r); noiseInRegion[a.label] += boxSquaredEnergy(b, r)
        } }
        XCTAssertGreaterThan(total, noiseTotal * 1.2, "apex − onset should exceed pure noise")
        print("class-region energy / noise energy:", zip(inRegion, noiseInRegion).map { $0 / $1 })
        // Achieved 3.67, 15.6, 2.71, 10.1 (2026-11-29); each class must keep at least half.
        let achieved: [Float] = [3.67, 15.6, 2.71, 10.1]
        for l in 0..<4 {
            XCTAssertGreaterThan(inRegion[l], 0.5 * achieved[l] * noiseInRegion[l],
                                 "\(SyntheticMicroExpressions.classNames[l]): expression lost in the noise")
        }
        // The expression alone is small but clearly non-zero.
        let e = expressionOnly()
        var expr: Float = 0
        for s in 0..<4 { for k in 0..<15 { let r = try sample(s, k, e); expr += meanAbsDiff(r.apex, r.onset) } }
        expr /= 60
        print("mean |apex − onset| of the expression alone:", expr, "total with motion/noise:", total / 40,
              "noise only:", noiseTotal / 40)
        // Achieved 0.00199 (expression alone), 0.0199 with motion and noise, 0.0113 noise only.
        XCTAssertGreaterThan(expr, 0.001)
        XCTAssertLessThan(expr, 0.004)
    }

    func testExpressionsAreLocalToTheirFacialRegion() throws {
        let o = expressionOnly()
        // Upper face: forehead and brows; lower face: below the nose tip.
        var upper = [Float](repeating: 0, count: 5), lower = upper
        for s in 0..<6 { for k in 0..<15 {
            let r = try sample(s, k, o)
            upper[r.label] += rowEnergy(r, 0.0, 0.45)
            lower[r.label] += rowEnergy(r, 0.58, 1.0)
        } }
        print("region energy upper/lower:", zip(upper, lower).map { ($0 / max($1, 1e-9)) })
        // Achieved upper/lower: happiness 0.039, disgust 1.21, repression 0, surprise 21.8.
        XCTAssertGreaterThan(lower[0], 12 * upper[0], "happiness should act mostly on the lower face")
        XCTAssertGreaterThan(upper[3], 10 * lower[3], "surprise should act mostly on the upper face")
        XCTAssertGreaterThan(lower[2], 0, "repression should act on the mouth and chin")
        XCTAssertEqual(upper[2], 0, "repression should leave the upper face alone")
        XCTAssertGreaterThan(upper[1], 0.6 * lower[1], "disgust lowers the brows")
        XCTAssertLessThan(upper[1], 2.4 * lower[1], "disgust wrinkles the nose too")
    }

    // MARK: Errors

    func testInvalidArgumentsThrow() {
        func message(_ body: () throws -> Void) -> String {
            do { try body(); return "" } catch { return "\(error)" }
        }
        let o = SyntheticOptions(subjects: 2, perClass: 1, size: 32)
        XCTAssert(message { _ = try self.sample(2, 0, o) }.contains("synthetic.sample: subject 2 out of range"))
        XCTAssert(message { _ = try self.sample(0, 5, o) }.contains("index 5 out of range"))
        XCTAssert(message { _ = try SyntheticMicroExpressions.sample(at: 10, options: o) }.contains("index 10"))
        var bad = o; bad.size = 8
        XCTAssert(message { _ = try self.sample(0, 0, bad) }.contains("size must be in 16...4096, got 8"))
        bad = o; bad.perClass = 0
        XCTAssert(message { _ = try self.sample(0, 0, bad) }.contains("perClass must be at least 1"))
        bad = o; bad.intensity = -1...2
        XCTAssert(message { _ = try self.sample(0, 0, bad) }.contains("intensity"))
        bad = o; bad.noise = .nan
        XCTAssert(message { _ = try self.sample(0, 0, bad) }.contains("noise must be finite"))
    }
}

struct SynthUncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// The synthetic set is learnable across subjects by the simplest classifier there is:
/// nearest centroid on |apex − onset| pooled to 16 × 16, 4 folds of held-out subjects.
final class SyntheticLearnabilityTests: XCTestCase {
    func testNearestCentroidBeatsChanceOnHeldOutSubjects() throws {
        let o = SyntheticOptions(subjects: 20, perClass: 8, size: 112, seed: 7)
        let pool = 16, n = o.size, b = n / pool
        var x: [[Float]] = [], y: [Int] = [], subj: [Int] = []
        for s in 0..<o.subjects { for k in 0..<(5 * o.perClass) {
            let r = try SyntheticMicroExpressions.sample(subject: s, index: k, options: o)
            let a = r.apex.toArray(), on = r.onset.toArray()
            var f = [Float](repeating: 0, count: pool * pool)
            for j in 0..<(pool * b) { for i in 0..<(pool * b) { f[(j / b) * pool + i / b] += abs(a[j * n + i] - on[j * n + i]) } }
            let t = f.reduce(0, +)
            x.append(f.map { $0 / t }); y.append(r.label); subj.append(s)
        } }
        var accs: [Float] = []
        for fold in 0..<4 {
            let test = Set((fold * 5)..<(fold * 5 + 5))
            var c = [[Float]](repeating: [Float](repeating: 0, count: pool * pool), count: 5)
            var cnt = [Float](repeating: 0, count: 5)
            for i in x.indices where !test.contains(subj[i]) {
                for k in 0..<(pool * pool) { c[y[i]][k] += x[i][k] }
                cnt[y[i]] += 1
            }
            var ok = 0, total = 0
            for i in x.indices where test.contains(subj[i]) {
                let d = (0..<5).map { l in (0..<(pool * pool)).reduce(Float(0)) { $0 + pow(x[i][$1] - c[l][$1] / cnt[l], 2) } }
                if d.firstIndex(of: d.min()!)! == y[i] { ok += 1 }
                total += 1
            }
            accs.append(Float(ok) / Float(total))
        }
        let mean = accs.reduce(0, +) / 4
        print("synthetic learnability: nearest-centroid held-out-subject accuracy \(mean) (folds \(accs); chance 0.2)")
        // Achieved 0.478 (folds 0.475, 0.485, 0.5, 0.45; seed 7). Every fold well above
        // chance, the mean near what it achieves: the renderer must keep its signal.
        for a in accs { XCTAssertGreaterThan(a, 0.35, "a fold fell towards chance (0.2): \(accs)") }
        XCTAssertEqual(mean, 0.478, accuracy: 0.08)
    }
}
