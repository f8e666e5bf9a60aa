import XCTest
import MERTensor

/// The tensor buffer cache: size classes, reuse of a freed block by the next request of its
/// class, the capacity bound, emptying, and that the budget counts tensors, not the cache.
final class StoragePoolTests: XCTestCase {
    override func tearDown() {
        StoragePool.capacityBytes = 1 << 30
        StoragePool.shrink(to: 0)
    }

    func testClassesRoundUpByAtMostAnEighth() {
        XCTAssertEqual(StoragePool.classBytes(100), 100, "small blocks are malloc's")
        XCTAssertEqual(StoragePool.classBytes(StoragePool.minimumBytes), StoragePool.minimumBytes)
        XCTAssertEqual(StoragePool.classBytes(1 << 20), 1 << 20)
        XCTAssertEqual(StoragePool.classBytes((1 << 20) + 1), (1 << 20) + (1 << 17))
        XCTAssertNil(StoragePool.classBytes(Int.max), "an overflowing class is refused, not wrapped")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let b = Int.random(in: StoragePool.minimumBytes...(1 << 34), using: &rng)
            let c = StoragePool.classBytes(b)!
            XCTAssertGreaterThanOrEqual(c, b)
            XCTAssertLessThanOrEqual(Double(c - b), Double(b) / 8)
        }
    }

    func testAFreedBufferServesTheNextRequestOfItsClass() throws {
        StoragePool.shrink(to: 0)
        let budget = MemoryBudget.liveBytes
        var a: Tensor? = try Tensor.zeros([1000, 1000])
        let first = a!.storage.data
        XCTAssertEqual(MemoryBudget.liveBytes - budget, 4_000_000)
        a = nil
        XCTAssertGreaterThanOrEqual(StoragePool.cachedBytes, 4_000_000, "the block is cached")
        XCTAssertEqual(MemoryBudget.liveBytes, budget, "a cached block is not a tensor")
        let b = try Tensor.zeros([990, 1010])   // 3,999,600 bytes: the same class
        XCTAssertEqual(b.storage.data, first, "the same block again")
        XCTAssertTrue(b.toArray().allSatisfy { $0 == 0 }, "zeros are zeros on a reused block")
        XCTAssertEqual(StoragePool.cachedBytes, 0)
    }

    func testTheCacheKeepsNoMoreThanItsCapacity() throws {
        StoragePool.shrink(to: 0)
        StoragePool.capacityBytes = 6 << 20
        var ts: [Tensor] = try (0..<4).map { _ in try Tensor.zeros([1 << 19]) }   // 2 MiB each
        ts.removeAll()
        XCTAssertEqual(StoragePool.cachedBytes, 6 << 20, "three of the four blocks fit")
        StoragePool.capacityBytes = 2 << 20
        XCTAssertEqual(StoragePool.cachedBytes, 2 << 20, "lowering the capacity frees the excess")
        StoragePool.shrink(to: 0)
        XCTAssertEqual(StoragePool.cachedBytes, 0)
    }
}
