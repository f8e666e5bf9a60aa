import XCTest
import MERKernels
import MERTestSupport

/// The draws kernel tests make from the shared deterministic generator.
extension SplitMix64 {
    /// Uniform in [-1, 1).
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    /// Uniform integer in `range`.
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(0...(xs.count - 1))] }
    mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in uniform() } }
    /// Distinct values (a shuffled 0.1-spaced ramp): no ties, and ±1e-2 nudges never reorder them.
    mutating func distinct(_ count: Int) -> [Float] {
        var v = (0..<count).map { Float($0) * 0.1 - Float(count) * 0.05 }
        for i in stride(from: count - 1, to: 0, by: -1) { v.swapAt(i, int(0...i)) }
        return v
    }
}

/// Runs `body` with `Parallel.threads` set to `threads`, restoring the previous value.
func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    let saved = Parallel.threads
    Parallel.threads = threads
    defer { Parallel.threads = saved }
    return try body()
}

/// |actual − expected| ≤ tol·max(1, max|expected|) elementwise.
func assertClose(_ actual: [Float], _ expected: [Float], tol: Float, _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, message(), file: file, line: line)
    let scale = max(1, expected.map { abs($0) }.max() ?? 0)
    var worst: Float = 0, at = -1
    for i in 0..<min(actual.count, expected.count) {
        let e = abs(actual[i] - expected[i])
        if !(e <= worst) { worst = e; at = i }   // also catches NaN
    }
    if at >= 0 && !(worst <= tol * scale) {
        XCTFail("\(message()): max error \(worst) at \(at) (got \(actual[at]), want \(expected[at])), tol \(tol * scale)",
                file: file, line: line)
    }
}

/// Bit-identical comparison (NaN == NaN when the bits agree).
func assertBitIdentical(_ a: [Float], _ b: [Float], _ message: @autoclosure () -> String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), message(), file: file, line: line)
}

/// L = Σ weights ⊙ f, in Double so the finite differences see little rounding noise.
func weightedSum(_ f: [Float], _ weights: [Float]) -> Double {
    zip(f, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

/// Central differences (L(x + ε) − L(x − ε)) / 2ε for every element of `x`.
func numericGradient(_ x: [Float], eps: Float = 1e-2, _ loss: ([Float]) -> Double) -> [Float] {
    var x = x
    var g = [Float](repeating: 0, count: x.count)
    for i in 0..<x.count {
        let v = x[i]
        x[i] = v + eps; let lp = loss(x)
        x[i] = v - eps; let lm = loss(x)
        x[i] = v
        g[i] = Float((lp - lm) / (2 * Double(eps)))
    }
    return g
}

/// Analytic vs numeric gradient: |a − n| ≤ rel·max(|a|, |n|) + abs.
func assertGradClose(_ analytic: [Float], _ numeric: [Float], rel: Float = 2e-2, abs absTol: Float = 2e-3,
                     _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(analytic.count, numeric.count, message(), file: file, line: line)
    for i in 0..<min(analytic.count, numeric.count) {
        let a = analytic[i], n = numeric[i]
        if !(abs(a - n) <= rel * max(abs(a), abs(n)) + absTol) {
            XCTFail("\(message()): gradient[\(i)] analytic \(a) numeric \(n)", file: file, line: line)
            return
        }
    }
}
