import MEREval
import XCTest

final class MetricsTests: XCTestCase {
    func testThreeClassHandCase() throws {
        // target 0 0 0 1 1 2, pred 0 0 1 1 2 2 → confusion[true][pred]:
        //   t0: [2 1 0]   t1: [0 1 1]   t2: [0 0 1]
        // accuracy = (2 + 1 + 1) / 6 = 0.666667
        // class 0: TP 2 FP 0 FN 1 → F1 = 4/5 = 0.8,   recall 2/3, precision 1
        // class 1: TP 1 FP 1 FN 1 → F1 = 2/4 = 0.5,   recall 1/2, precision 1/2
        // class 2: TP 1 FP 1 FN 0 → F1 = 2/3,         recall 1,   precision 1/2
        // UF1 = (0.8 + 0.5 + 0.666667) / 3 = 0.655556; UAR = (2/3 + 1/2 + 1) / 3 = 0.722222
        let m = try Metrics.compute(pred: [0, 0, 1, 1, 2, 2], target: [0, 0, 0, 1, 1, 2], classes: 3)
        XCTAssertEqual(m.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
        XCTAssertEqual(m.accuracy, 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(m.uf1, (0.8 + 0.5 + 2.0 / 3) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.uar, (2.0 / 3 + 0.5 + 1) / 3, accuracy: 1e-12)
        XCTAssertEqual(m.perClass.map(\.support), [3, 2, 1])
        XCTAssertEqual(m.perClass[1].precision, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.perClass[2].precision, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.perClass[0].recall, 2.0 / 3, accuracy: 1e-12)

        // A fourth class absent from both: TP+FP+FN = 0 → left out of UF1 and UAR.
        let m4 = try Metrics.compute(pred: [0, 0, 1, 1, 2, 2], target: [0, 0, 0, 1, 1, 2], classes: 4)
        XCTAssertEqual(m4.uf1, m.uf1, accuracy: 1e-12)
        XCTAssertEqual(m4.uar, m.uar, accuracy: 1e-12)
    }

    func testPredictedButAbsentClassCountsInUF1Only() throws {
        // target 0 0, pred 0 1: class 0 TP 1 FN 1 → F1 2/3; class 1 TP 0 FP 1 → F1 0 (present).
        // UF1 = (2/3 + 0) / 2 = 1/3; UAR over supported classes only = recall(0) = 1/2.
        let m = try Metrics.compute(pred: [0, 1], target: [0, 0], classes: 2)
        XCTAssertEqual(m.uf1, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.uar, 0.5, accuracy: 1e-12)
        XCTAssertEqual(m.perClass[1].support, 0)
    }

    func testPooledAgainstPerFoldMean() throws {
        // fold A: t 0 1, p 0 0; fold B: t 1 1, p 1 1.
        // pooled t 0 1 1 1, p 0 0 1 1: class 0 TP1 FP1 FN0 → 2/3; class 1 TP2 FP0 FN1 → 4/5
        //   UF1 = (2/3 + 4/5)/2 = 0.733333; UAR = (1 + 2/3)/2 = 0.833333; acc 3/4
        // fold A: acc 1/2, UF1 = (2/3 + 0)/2 = 1/3, UAR = (1 + 0)/2 = 1/2
        // fold B: acc 1, UF1 = 1 (class 0 absent, skipped), UAR = 1
        // mean: acc 0.75, UF1 2/3, UAR 0.75
        let folds: [(pred: [Int], target: [Int])] = [([0, 0], [0, 1]), ([1, 1], [1, 1])]
        let p = try Metrics.pooled(folds: folds, classes: 2)
        XCTAssertEqual(p.accuracy, 0.75, accuracy: 1e-12)
        XCTAssertEqual(p.uf1, (2.0 / 3 + 0.8) / 2, accuracy: 1e-12)
        XCTAssertEqual(p.uar, (1 + 2.0 / 3) / 2, accuracy: 1e-12)
        let f = try Metrics.perFoldMean(folds: folds, classes: 2)
        XCTAssertEqual(f.accuracy, 0.75, accuracy: 1e-12)
        XCTAssertEqual(f.uf1, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(f.uar, 0.75, accuracy: 1e-12)
        XCTAssertEqual(f.folds.map(\.count), [2, 2])
    }

    func testBadInput() {
        XCTAssertThrowsError(try Metrics.compute(pred: [0], target: [0, 1], classes: 2)) {
            XCTAssertTrue("\($0)".contains("1 predictions but 2 targets"), "\($0)")
        }
        XCTAssertThrowsError(try Metrics.compute(pred: [2], target: [0], classes: 2)) {
            XCTAssertTrue("\($0)".contains("prediction 1 is class 3, outside 1..2"), "\($0)")
        }
        XCTAssertEqual(try Metrics.compute(pred: [], target: [], classes: 3).accuracy, 0)
    }
}
