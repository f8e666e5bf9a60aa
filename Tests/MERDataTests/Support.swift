import Foundation
import XCTest
import MERData
import MERTensor

enum Fixtures {
    static var datasets: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Datasets/fixtures").path
    }
    static var casme2: String { datasets + "/casme2" }
    static var samm: String { datasets + "/samm" }

    /// A temporary copy of a fixture tree (for tests that touch files or write caches).
    static func copy(_ path: String) throws -> String {
        let dst = NSTemporaryDirectory() + "merdata-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: path, toPath: dst)
        return dst
    }

    static func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "merdata-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }
}

/// Stands in for the codec in tests that do not need pixels: a (1,20,24) frame whose
/// value is (frame number)/255 taken from the file name's trailing digits; counts calls.
final class FakeFrames {
    private let lock = NSLock()
    private(set) var loads = 0
    var paths: [String] = []

    func load(_ path: String) throws -> Tensor {
        lock.lock(); loads += 1; paths.append(path); lock.unlock()
        let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let digits = String(stem.reversed().prefix(while: { $0.isNumber }).reversed())
        let n = Float(Int(digits) ?? 0)
        let t = try Tensor.zeros([1, 20, 24])
        for i in 0..<t.count { t.pointer[i] = n / 255 }
        return t
    }

    var loader: (String) throws -> Tensor { { try self.load($0) } }
}

func casme2(_ root: String = Fixtures.casme2, classes: Int = 5, input: [String] = ["onset", "apex"], size: Int = 8,
            crop: CropMode = .none, cacheFile: Bool = false, skipBad: Bool = false,
            frames: FakeFrames? = FakeFrames()) throws -> CASME2Dataset {
    try CASME2Dataset(root: root, options: MEOptions(classes: classes, input: input, size: size, crop: crop,
                                                     cacheFile: cacheFile, skipBad: skipBad, printWarnings: false,
                                                     frameLoader: frames?.loader))
}

/// A tiny in-memory dataset: `perSubject` samples for each of `subjects` subjects.
final class ToyDataset: Dataset {
    let n: Int, subjects_: Int
    var failing: Set<Int> = []
    /// Called with the index of every sample as it is loaded (on the loading thread).
    var onLoad: ((Int) -> Void)?
    init(subjects: Int, perSubject: Int) { n = subjects * perSubject; subjects_ = subjects }
    var count: Int { n }
    var classNames: [String] { ["a", "b", "c"] }
    func subject(at i: Int) -> String { "s\(i % subjects_ + 1)" }
    func label(at i: Int) -> Int { i % 3 }
    func id(at i: Int) -> String { "toy\(i)" }
    func sample(at i: Int) throws -> Sample {
        onLoad?(i)
        if failing.contains(i) { throw DataError("/data/toy/frame\(i).jpg: cannot decode") }
        return Sample(x: try Tensor.full([1, 2, 2], Float(i)), label: label(at: i), subject: subject(at: i), id: id(at: i))
    }
}
