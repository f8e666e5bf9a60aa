import XCTest
import MERKernels

final class ParallelTests: XCTestCase {
    func testForRangesCoversEveryIndexOnceWithGranuleAlignedBounds() {
        for threads in [1, 2, 3, 7] {
            for count in [0, 1, 5, 31, 32, 33, 1000] {
                var hits = [Int](repeating: 0, count: count)
                let lock = NSLock()
                Parallel.forRanges(count, granule: 4, threads: threads) { r in
                    XCTAssertEqual(r.lowerBound % 4, 0)
                    lock.lock(); for i in r { hits[i] += 1 }; lock.unlock()
                }
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), "threads \(threads) count \(count)")
            }
        }
    }

    func testRunWithMorePartsThanThreadsRunsEachPartOnce() {
        var hits = [Int](repeating: 0, count: 17)
        let lock = NSLock()
        Parallel.run(parts: 17, threads: 2) { p in lock.lock(); hits[p] += 1; lock.unlock() }
        XCTAssertEqual(hits, [Int](repeating: 1, count: 17))
    }
}
