import Foundation
import XCTest
import MERData
import MERTensor

final class DataLoaderTests: XCTestCase {
    func collect(_ loader: DataLoader, epoch: Int? = nil) throws -> [Batch] {
        let it = loader.epoch(epoch)
        var out: [Batch] = []
        while let b = try it.next() { out.append(b) }
        return out
    }

    func testBatchingShapesAndDropLast() throws {
        let ds = ToyDataset(subjects: 2, perSubject: 5)
        let loader = try DataLoader(dataset: ds, batchSize: 4)
        let batches = try collect(loader)
        XCTAssertEqual(loader.batchCount, 3)
        XCTAssertEqual(batches.map(\.y.count), [4, 4, 2])
        XCTAssertEqual(batches[0].x.shape, [4, 1, 2, 2])
        XCTAssertEqual(batches[0].indices, [0, 1, 2, 3])
        XCTAssertEqual(batches[0].ids, ["toy0", "toy1", "toy2", "toy3"])
        XCTAssertEqual(batches[0].y, [0, 1, 2, 0])
        XCTAssertEqual(try batches[0].labels.toArray(), [0, 1, 2, 0])
        XCTAssertEqual(batches[0].subjects, ["s1", "s2", "s1", "s2"])
        XCTAssertEqual(batches[2].x.toArray(), [8, 8, 8, 8, 9, 9, 9, 9])
        let dropping = try DataLoader(dataset: ds, batchSize: 4, dropLast: true)
        XCTAssertEqual(try collect(dropping).map(\.y.count), [4, 4])
        XCTAssertEqual(dropping.batchCount, 2)
    }

    func testSeededShuffleIsDeterministicPerEpochAndIndependentOfPrefetch() throws {
        let ds = ToyDataset(subjects: 3, perSubject: 7)
        let a = try DataLoader(dataset: ds, batchSize: 5, shuffle: true, seed: 11, prefetch: 3)
        let b = try DataLoader(dataset: ds, batchSize: 5, shuffle: true, seed: 11, prefetch: 0)
        let a0 = try collect(a).flatMap(\.indices), a1 = try collect(a).flatMap(\.indices)
        let b0 = try collect(b).flatMap(\.indices), b1 = try collect(b).flatMap(\.indices)
        XCTAssertEqual(a0, b0)
        XCTAssertEqual(a1, b1)
        XCTAssertNotEqual(a0, a1)                       // epoch 1 uses seed + 1
        XCTAssertEqual(a0.sorted(), Array(0..<21))     // a permutation
        XCTAssertEqual(try collect(a, epoch: 1).flatMap(\.indices), a1)
        XCTAssertEqual(a.order(epoch: 0), Generator(seed: 11).permutation(21))
        let c = try DataLoader(dataset: ds, batchSize: 5, shuffle: true, seed: 12)
        XCTAssertNotEqual(try collect(c).flatMap(\.indices), a0)
        // Batch contents follow the indices.
        for batch in try collect(a, epoch: 3) {
            XCTAssertEqual(batch.x.toArray(), batch.indices.flatMap { [Float](repeating: Float($0), count: 4) })
        }
    }

    /// Which samples have been loaded, shared between the loading thread and the test.
    final class LoadLog: @unchecked Sendable {
        private let cond = NSCondition()
        private var loaded = Set<Int>()
        func record(_ i: Int) { cond.lock(); loaded.insert(i); cond.broadcast(); cond.unlock() }
        var snapshot: Set<Int> { cond.lock(); defer { cond.unlock() }; return loaded }
        /// Waits until sample `i` has been loaded; false if it never is (a liveness bound,
        /// not a timing assertion: with working prefetch it happens at once).
        func waitFor(_ i: Int, seconds: Double = 30) -> Bool {
            cond.lock(); defer { cond.unlock() }
            let deadline = Date().addingTimeInterval(seconds)
            while !loaded.contains(i) { if !cond.wait(until: deadline) { return loaded.contains(i) } }
            return true
        }
    }

    /// Overlap proved by order, not by time: while the consumer holds batch b and does not
    /// call `next`, the worker loads batches b+1 and b+2 (depth 2) — and nothing beyond.
    func testPrefetchLoadsAheadWhileTheConsumerHoldsABatchAndNoFurther() throws {
        let ds = ToyDataset(subjects: 1, perSubject: 24)     // 6 batches of 4, in order
        let log = LoadLog()
        ds.onLoad = { log.record($0) }
        let it = try DataLoader(dataset: ds, batchSize: 4, prefetch: 2).epoch()
        var b = 0
        while let batch = try it.next() {
            XCTAssertEqual(batch.indices, Array((4 * b)..<(4 * b + 4)))
            let ahead = min(b + 2, 5)
            XCTAssertTrue(log.waitFor(4 * ahead + 3), "batch \(ahead) was not loaded while the consumer held batch \(b)")
            // The queue is full now (b+1, b+2): the worker waits instead of loading b+3.
            XCTAssertEqual(log.snapshot, Set(0..<(4 * ahead + 4)), "holding batch \(b)")
            b += 1
        }
        XCTAssertEqual(b, 6)
    }

    func testWithoutPrefetchNothingIsLoadedAhead() throws {
        let ds = ToyDataset(subjects: 1, perSubject: 24)
        let log = LoadLog()
        ds.onLoad = { log.record($0) }
        let it = try DataLoader(dataset: ds, batchSize: 4, prefetch: 0).epoch()
        var b = 0
        while try it.next() != nil {
            XCTAssertEqual(log.snapshot, Set(0..<(4 * b + 4)), "holding batch \(b)")
            b += 1
        }
        XCTAssertEqual(b, 6)
    }

    func testBadSampleErrorNamesTheSampleAndSkipBadCountsIt() throws {
        let ds = ToyDataset(subjects: 2, perSubject: 5)
        ds.failing = [5]
        for prefetch in [0, 2] {
            let loader = try DataLoader(dataset: ds, batchSize: 4, prefetch: prefetch)
            let it = loader.epoch()
            XCTAssertNotNil(try it.next())
            XCTAssertThrowsError(try it.next()) {
                XCTAssertEqual("\($0)", "loader: sample toy5 (index 5): /data/toy/frame5.jpg: cannot decode")
            }
            XCTAssertNil(try it.next())
        }
        let skipping = try DataLoader(dataset: ds, batchSize: 4, skipBad: true)
        skipping.printWarnings = false
        let batches = try collect(skipping)
        XCTAssertEqual(batches.map(\.y.count), [4, 3, 2])
        XCTAssertEqual(batches[1].indices, [4, 6, 7])
        XCTAssertEqual(skipping.skipped, 1)
        XCTAssertEqual(skipping.warnings.count, 1)
        XCTAssertTrue(skipping.warnings[0].contains("toy5"))
    }

    func testTransformRunsOnTheConsumerThread() throws {
        let ds = ToyDataset(subjects: 2, perSubject: 6)
        let consumer = pthread_self()
        var calls = 0, offThread = 0
        let loader = try DataLoader(dataset: ds, batchSize: 5, prefetch: 2) { s in
            calls += 1
            if pthread_equal(pthread_self(), consumer) == 0 { offThread += 1 }
            var t = s
            t.x = try s.x * 2
            return t
        }
        let batches = try collect(loader)
        XCTAssertEqual(calls, 12)
        XCTAssertEqual(offThread, 0)
        XCTAssertEqual(batches[0].x.toArray()[4], 2)

        // A MappedDataset's transform is split off the same way (Lua's ds:map(fn)).
        var mappedOff = 0
        let mapped = MappedDataset(ds) { s in
            if pthread_equal(pthread_self(), consumer) == 0 { mappedOff += 1 }
            var t = s; t.label = 0; return t
        }
        let mb = try collect(try DataLoader(dataset: mapped, batchSize: 4, prefetch: 2))
        XCTAssertEqual(mb.flatMap(\.y), [Int](repeating: 0, count: 12))
        XCTAssertEqual(mappedOff, 0)
        XCTAssertEqual(try mapped.sample(at: 1).label, 0)

        let failing = try DataLoader(dataset: ds, batchSize: 4) { s in
            if s.id == "toy2" { throw DataError("bad pixel") }
            return s
        }
        XCTAssertThrowsError(try collect(failing)) { XCTAssertEqual("\($0)", "loader: sample toy2 (index 2): transform: bad pixel") }
    }

    func testLoaderOverACASME2FoldWithTheSampleCache() throws {
        let frames = FakeFrames()
        let ds = try casme2(size: 6, frames: frames)
        let fold = loso(ds)[1]
        let loader = try DataLoader(dataset: try ds.subset(fold.train), batchSize: 3, shuffle: true, seed: 1)
        let b = try collect(loader)
        XCTAssertEqual(b.map(\.y.count), [3, 3, 1])
        XCTAssertEqual(b[0].x.shape, [3, 2, 6, 6])
        XCTAssertFalse(b.flatMap(\.subjects).contains("sub02"))
        XCTAssertEqual(frames.loads, 14)
        _ = try collect(loader)
        XCTAssertEqual(frames.loads, 14)   // second epoch from memory
    }
}

final class SampleCacheTests: XCTestCase {
    func testCacheFileIsWrittenReusedAndInvalidatedByATouchedFrame() throws {
        let root = try Fixtures.copy(Fixtures.casme2)
        let f1 = FakeFrames()
        let ds1 = try casme2(root, cacheFile: true, frames: f1)
        XCTAssertEqual(ds1.cacheFileState, "missing")
        try ds1.preload()
        XCTAssertEqual(f1.loads, 20)
        XCTAssertEqual(ds1.cacheWrites, 1)
        let path = try XCTUnwrap(ds1.cacheFilePath)
        XCTAssertTrue((path as NSString).lastPathComponent.hasPrefix(".mer-cache-"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))

        let f2 = FakeFrames()
        let ds2 = try casme2(root, cacheFile: true, frames: f2)
        XCTAssertEqual(ds2.cacheFileState, "loaded")
        XCTAssertEqual(try ds2.sample(at: 3).x.toArray(), try ds1.sample(at: 3).x.toArray())
        XCTAssertEqual(f2.loads, 0)

        // Touch one referenced frame: the fingerprint changes, the file is rebuilt.
        let frame = ds2.entries[4].apexPath
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 3600)], ofItemAtPath: frame)
        let f3 = FakeFrames()
        let ds3 = try casme2(root, cacheFile: true, frames: f3)
        XCTAssertEqual(ds3.cacheFileState, "stale")
        try ds3.preload()
        XCTAssertEqual(f3.loads, 20)
        XCTAssertEqual(ds3.cacheWrites, 1)
        XCTAssertEqual(try casme2(root, cacheFile: true, frames: FakeFrames()).cacheFileState, "loaded")

        // Another configuration uses another file.
        let other = try casme2(root, size: 5, cacheFile: true)
        XCTAssertNotEqual(other.cacheFilePath, path)
    }

    func testCorruptCacheFileIsIgnoredWithAWarningAndRebuilt() throws {
        let root = try Fixtures.copy(Fixtures.casme2)
        let ds1 = try casme2(root, cacheFile: true)
        try ds1.preload()
        let path = ds1.cacheFilePath!
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes.removeLast(7)
        try bytes.write(to: URL(fileURLWithPath: path))
        let f = FakeFrames()
        let ds2 = try casme2(root, cacheFile: true, frames: f)
        XCTAssertEqual(ds2.cacheFileState, "corrupt")
        XCTAssertEqual(ds2.warnings.filter { $0.contains("cache file") && $0.contains("corrupt") }.count, 1)
        try ds2.preload()
        XCTAssertEqual(f.loads, 20)
        XCTAssertEqual(try casme2(root, cacheFile: true).cacheFileState, "loaded")
        try "garbage".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try casme2(root, cacheFile: true).cacheFileState, "corrupt")
    }
}

final class ImageFolderTests: XCTestCase {
    func makeFolder() throws -> String {
        let root = try Fixtures.tempDir()
        for (c, files) in [("b", ["2.png", "10.jpg", "notes.txt"]), ("a", ["x.JPEG"]), ("B", ["y.png"]), (".hidden", ["z.png"])] {
            try FileManager.default.createDirectory(atPath: root + "/" + c, withIntermediateDirectories: true)
            for f in files { FileManager.default.createFile(atPath: root + "/\(c)/\(f)", contents: Data([1])) }
        }
        return root
    }

    func testClassesAndFilesSortedLikeTorchvision() throws {
        let root = try makeFolder()
        let fake = FakeFrames()
        let ds = try ImageFolderDataset(root: root, size: 10, loader: fake.loader)
        XCTAssertEqual(ds.classNames, ["B", "a", "b"])
        XCTAssertEqual((0..<ds.count).map(ds.id(at:)), ["B/y.png", "a/x.JPEG", "b/10.jpg", "b/2.png"])
        XCTAssertEqual((0..<ds.count).map(ds.label(at:)), [0, 1, 2, 2])
        XCTAssertEqual(ds.subject(at: 3), "2")
        XCTAssertEqual(try ds.sample(at: 2).x.shape, [3, 10, 10])   // 1-channel replicated
        let g = try ImageFolderDataset(root: root, size: 10, gray: true, loader: fake.loader)
        XCTAssertEqual(try g.sample(at: 2).x.shape, [1, 10, 10])
        XCTAssertThrowsError(try ImageFolderDataset(root: root + "/nope"))
    }
}
