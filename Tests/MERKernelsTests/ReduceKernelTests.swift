import XCTest
import MERKernels
import MERTestSupport

final class ReduceKernelTests: XCTestCase {
    /// `Reduce.extreme`'s 16-column vectors and its split over column blocks give the
    /// reference loop's values and indices bit for bit: on random (outer, n, inner) blocks
    /// with repeated values (the first position must win), NaNs (the first NaN wins, and a
    /// NaN in row 0 stays), infinities, both directions, on 1 and 2 threads; and the same for
    /// the row-vector path of inner-1 blocks (rows of 16 … 100 positions).
    func testVectorisedExtremeMatchesTheReference() {
        var rng = SplitMix64(seed: 41)
        func below(_ k: Int) -> Int { Int(rng.next() % UInt64(k)) }
        var vectorCases = 0, rowCases = 0
        for trial in 0..<300 {
            // Every fourth block has inner 1 and long rows (the row-vector path, n ≥ 16).
            let rowsCase = trial % 4 == 0
            let outer = 1 + below(3), n = rowsCase ? 1 + below(100) : 1 + below(40), inner = rowsCase ? 1 : 1 + below(90)
            let count = outer * n * inner
            var x = [Float](repeating: 0, count: count)
            for k in 0..<count {
                switch below(20) {
                case 0: x[k] = .nan
                case 1: x[k] = below(2) == 0 ? .infinity : -.infinity
                default: x[k] = Float(below(7)) - 3   // few distinct values: many ties
                }
            }
            if inner >= 16 || (inner == 1 && n >= 16) { vectorCases += 1 }
            if inner == 1 && n >= 16 { rowCases += 1 }
            for largest in [true, false] {
                var refValues = [Float](repeating: 0, count: outer * inner), refIndices = [Int32](repeating: -1, count: outer * inner)
                Reduce.extremeReference(largest: largest, outer: outer, n: n, inner: inner, input: x,
                                        values: &refValues, indices: &refIndices)
                for threads in [1, 2] {
                    var values = [Float](repeating: 7, count: outer * inner), indices = [Int32](repeating: -1, count: outer * inner)
                    withThreads(threads) {
                        Reduce.extreme(largest: largest, outer: outer, n: n, inner: inner, input: x, values: &values, indices: &indices)
                    }
                    let tag = "trial \(trial) (\(outer), \(n), \(inner)) largest \(largest) threads \(threads)"
                    assertBitIdentical(values, refValues, tag)
                    XCTAssertEqual(indices, refIndices, tag)
                }
            }
        }
        XCTAssertGreaterThan(vectorCases, 200, "enough blocks take the vector path")
        XCTAssertGreaterThan(rowCases, 50, "enough blocks take the row-vector path")
        // By hand: column 0 has its max twice (first wins), column 1 a NaN after a larger value.
        let x: [Float] = [1, 5] + [Float](repeating: 0, count: 14)
            + [3, .nan] + [Float](repeating: 0, count: 14)
            + [3, 9] + [Float](repeating: 0, count: 14)
        var values = [Float](repeating: 0, count: 16), indices = [Int32](repeating: 0, count: 16)
        Reduce.extreme(largest: true, outer: 1, n: 3, inner: 16, input: x, values: &values, indices: &indices)
        XCTAssertEqual(values[0], 3)
        XCTAssertEqual(indices[0], 1)
        XCTAssertTrue(values[1].isNaN)
        XCTAssertEqual(indices[1], 1)
        XCTAssertEqual(Array(indices[2...]), [Int32](repeating: 0, count: 14))
    }
}
