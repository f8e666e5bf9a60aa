import Foundation
import MERFiles
import MERTensor

/// Decoded, preprocessed inputs kept in memory, optionally persisted to a cache file.
///
/// The file (`<root>/.mer-cache-<hash>.bin`, the hash of the dataset's configuration)
/// stores a fingerprint of the sources: the sheet's and every referenced frame's path,
/// size and modification time. A file whose fingerprint differs (a frame was replaced or
/// touched, the sheet edited) is ignored and rebuilt; a corrupt or truncated file is
/// ignored with a warning and rebuilt. The file is written atomically (temporary file +
/// rename) once every sample has been decoded (after one full pass or `preload()`).
final class SampleCache {
    enum FileState: String { case none, loaded, stale, corrupt, missing }

    private let lock = NSLock()
    private var tensors: [Tensor?]
    private var filled = 0
    let enabled: Bool
    let filePath: String?
    let fingerprint: UInt64
    private(set) var fileState: FileState = .none
    private(set) var writes = 0
    private var wroteCurrent = false
    private let warn: (String) -> Void

    static let magic: [UInt8] = Array("MERCACHE".utf8)
    static let version: UInt32 = 1

    init(count: Int, enabled: Bool, filePath: String?, fingerprint: UInt64, warn: @escaping (String) -> Void) {
        tensors = [Tensor?](repeating: nil, count: count)
        self.enabled = enabled || filePath != nil
        self.filePath = filePath
        self.fingerprint = fingerprint
        self.warn = warn
        if let p = filePath { load(p) }
    }

    var isComplete: Bool { lock.lock(); defer { lock.unlock() }; return filled == tensors.count }

    func get(_ i: Int) -> Tensor? {
        guard enabled else { return nil }
        lock.lock(); defer { lock.unlock() }
        return tensors[i]
    }

    func put(_ i: Int, _ t: Tensor) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        if tensors[i] == nil { filled += 1 }
        tensors[i] = t
        if filled == tensors.count, let p = filePath, !wroteCurrent {
            wroteCurrent = true
            write(p)
        }
    }

    // MARK: File

    private func load(_ path: String) {
        guard let data = FileManager.default.contents(atPath: path) else { fileState = .missing; return }
        var r = Reader(bytes: [UInt8](data))
        guard r.take(8) == SampleCache.magic, r.u32() == SampleCache.version else {
            return corrupt(path, "bad header")
        }
        guard let fp = r.u64(), let n = r.u32() else { return corrupt(path, "truncated header") }
        if fp != fingerprint { fileState = .stale; return }
        guard Int(n) == tensors.count else { return corrupt(path, "holds \(n) samples, expected \(tensors.count)") }
        var loaded: [Tensor] = []
        for k in 0..<Int(n) {
            guard let rank = r.u32(), rank <= 8 else { return corrupt(path, "sample \(k): bad rank") }
            var shape: [Int] = []
            for _ in 0..<rank { guard let d = r.u32() else { return corrupt(path, "sample \(k): truncated") }; shape.append(Int(d)) }
            let count = shape.reduce(1, *)
            guard count < 1 << 28, let floats = r.floats(count) else { return corrupt(path, "sample \(k): truncated") }
            guard let t = try? Tensor.from(floats, shape: shape) else { return corrupt(path, "sample \(k): bad shape") }
            loaded.append(t)
        }
        guard r.atEnd else { return corrupt(path, "trailing bytes") }
        for (k, t) in loaded.enumerated() { tensors[k] = t }
        filled = loaded.count
        wroteCurrent = true
        fileState = .loaded
    }

    private func corrupt(_ path: String, _ why: String) {
        fileState = .corrupt
        warn("cache file \(path) is corrupt (\(why)); ignoring it and rebuilding")
    }

    private func write(_ path: String) {
        var out = Data()
        out.append(contentsOf: SampleCache.magic)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u32(SampleCache.version)
        withUnsafeBytes(of: fingerprint.littleEndian) { out.append(contentsOf: $0) }
        u32(UInt32(tensors.count))
        for t in tensors {
            let t = t!
            u32(UInt32(t.rank))
            for d in t.shape { u32(UInt32(d)) }
            t.toArray().withUnsafeBufferPointer { out.append($0) }
        }
        do {
            try SafeFile.write(out, to: path)
            writes += 1
        } catch {
            warn("cannot write cache file \(path): \(error)")
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var pos = 0
        init(bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { pos == bytes.count }
        mutating func take(_ n: Int) -> [UInt8]? {
            guard n >= 0, bytes.count - pos >= n else { return nil }
            defer { pos += n }
            return Array(bytes[pos..<(pos + n)])
        }
        mutating func u32() -> UInt32? {
            guard let b = take(4) else { return nil }
            return b.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        }
        mutating func u64() -> UInt64? {
            guard let b = take(8) else { return nil }
            return b.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        mutating func floats(_ n: Int) -> [Float]? {
            guard bytes.count - pos >= 4 * n else { return nil }
            var out = [Float](repeating: 0, count: n)
            out.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[pos..<(pos + 4 * n)]))
                }
            }
            pos += 4 * n
            return out
        }
    }
}

/// FNV-1a 64-bit, for cache names and source fingerprints.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    mutating func add(_ s: String) {
        for b in s.utf8 { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        value = (value ^ 0xFF) &* 0x0000_0100_0000_01B3  // separator
    }
    /// Adds the file's path, size and modification time (nanoseconds), or "missing".
    mutating func addFileStamp(_ path: String) {
        add(path)
        if let a = try? FileManager.default.attributesOfItem(atPath: path) {
            add(String((a[.size] as? NSNumber)?.int64Value ?? -1))
            let m = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            add(String(Int64((m * 1e9).rounded())))
        } else {
            add("missing")
        }
    }
    var hex: String { String(format: "%016llx", value) }
}
