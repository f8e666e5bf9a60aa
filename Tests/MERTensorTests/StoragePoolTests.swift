import XCTest
import MERTensor

/// The tensor buffer cache: size classes, reuse of a freed block by the next request of its
/// class, the capacity bound, emptying, and that the budget counts tensors, not the cache.
final class StoragePoolTests: XCTestCase {
    var savedCapacity = 0, savedLimit = 0
    override func setUp() { savedCapacity = StoragePool.capacityBytes; savedLimit = MemoryBudget.limitBytes }
    override func tearDown() {
        MemoryBudget.limitBytes = savedLimit
        StoragePool.capacityBytes = savedCapacity
        StoragePool.shrink(to: 0)
    }

    func testClassesRoundUpByAtMostAnEighth() {
        XCTAssertEqual(StoragePool.classBytes(100), 100, "small blocks are malloc's")
        XCTAssertEqual(StoragePool.classBytes(StoragePool.minimumBytes), StoragePool.minimumBytes)
        XCTAssertEqual(StoragePool.classBytes(1 << 26), 1 << 26)
        XCTAssertEqual(StoragePool.classBytes((1 << 26) + 1), (1 << 26) + (1 << 23))
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
        var a: Tensor? = try Tensor.zeros([3000, 3000])
        let first = a!.storage.data
        XCTAssertEqual(MemoryBudget.liveBytes - budget, 36_000_000)
        a = nil
        XCTAssertGreaterThanOrEqual(StoragePool.cachedBytes, 36_000_000, "the block is cached")
        XCTAssertEqual(MemoryBudget.liveBytes, budget, "a cached block is not a tensor")
        let b = try Tensor.zeros([2990, 3010])   // 35,995,600 bytes: the same class
        XCTAssertEqual(b.storage.data, first, "the same block again")
        XCTAssertTrue(b.toArray().allSatisfy { $0 == 0 }, "zeros are zeros on a reused block")
        XCTAssertEqual(StoragePool.cachedBytes, 0)
    }

    /// An idle block up to twice the request's class serves it, and goes back to its own class;
    /// a request less than half its size gets a block of its own.
    func testALargerIdleBlockServesUpToTwiceItsRequest() throws {
        StoragePool.shrink(to: 0)
        var a: Tensor? = try Tensor.zeros([1 << 24])                 // 64 MiB
        let big = a!.storage.data
        a = nil
        let live = MemoryBudget.liveBytes
        var b: Tensor? = try Tensor.zeros([10 << 20])                 // 40 MiB: served by the 64 MiB block
        XCTAssertEqual(b!.storage.data, big, "the idle 64 MiB block serves a 40 MiB request")
        XCTAssertEqual(MemoryBudget.liveBytes - live, 1 << 26, "the tensor budget counts the whole block it holds")
        XCTAssertTrue(b!.toArray().allSatisfy { $0 == 0 }, "zeros are zeros on a larger reused block")
        XCTAssertEqual(StoragePool.cachedBytes, 0)
        b = nil
        XCTAssertEqual(StoragePool.cachedBytes, 1 << 26, "the block returns as 64 MiB, its own class")
        XCTAssertEqual(MemoryBudget.liveBytes, live, "and its excess is released with it")
        let c = try Tensor.zeros([5 << 20])                           // 20 MiB: 64 is more than twice that
        XCTAssertNotEqual(c.storage.data, big)
        XCTAssertEqual(StoragePool.cachedBytes, 1 << 26, "the 64 MiB block stays cached")
        let d = try Tensor.zeros([1 << 24])                           // the 64 MiB request finds its block
        XCTAssertEqual(d.storage.data, big)
    }

    /// Under `mer.max_memory`, a larger idle block serves only if its excess fits too.
    func testALargerBlockWhoseExcessPassesTheBudgetIsNotUsed() throws {
        StoragePool.shrink(to: 0)
        var a: Tensor? = try Tensor.zeros([1 << 24])                 // 64 MiB, then cached
        let big = a!.storage.data
        a = nil
        MemoryBudget.limitBytes = MemoryBudget.liveBytes + (48 << 20)
        let live = MemoryBudget.liveBytes
        var b: Tensor? = try Tensor.zeros([10 << 20])                 // 40 MiB: 64 would pass 48
        XCTAssertNotEqual(b!.storage.data, big, "a block of its own class instead")
        XCTAssertEqual(MemoryBudget.liveBytes - live, 40 << 20, "no excess counted: a block of its own class")
        XCTAssertEqual(StoragePool.cachedBytes, 1 << 26, "the 64 MiB block stays cached, untouched")
        MemoryBudget.limitBytes = savedLimit   // room to cache b's block when it is freed
        b = nil
        XCTAssertEqual(StoragePool.cachedBytes, (1 << 26) + (40 << 20), "the block b held returns as a 40 MiB block")
    }

    func testTheCacheKeepsNoMoreThanItsCapacity() throws {
        StoragePool.shrink(to: 0)
        StoragePool.capacityBytes = 3 << 25
        var ts: [Tensor] = try (0..<4).map { _ in try Tensor.zeros([1 << 23]) }   // 32 MiB each, all pooled
        ts.removeAll()
        XCTAssertEqual(StoragePool.cachedBytes, 3 << 25, "three of the four blocks fit")
        StoragePool.capacityBytes = 1 << 25
        XCTAssertEqual(StoragePool.cachedBytes, 1 << 25, "lowering the capacity frees the excess")
        StoragePool.shrink(to: 0)
        XCTAssertEqual(StoragePool.cachedBytes, 0)
    }

    /// Under `mer.max_memory`, live tensors and the cache together stay within the budget.
    func testTheCacheStaysWithinTheTensorBudget() throws {
        StoragePool.shrink(to: 0)
        MemoryBudget.limitBytes = MemoryBudget.liveBytes + (5 << 24)   // 80 MiB: two 32 MiB tensors and 16 to spare
        var a: Tensor? = try Tensor.zeros([1 << 23]), b: Tensor? = try Tensor.zeros([1 << 23])
        XCTAssertNotNil(a); XCTAssertNotNil(b)
        a = nil
        XCTAssertEqual(StoragePool.cachedBytes, 0, "64 MiB live + 32 cached would pass 80: freed instead")
        b = nil
        XCTAssertEqual(StoragePool.cachedBytes, 1 << 25, "32 MiB live + 32 cached fit")
    }
}
