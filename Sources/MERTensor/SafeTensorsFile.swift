import Foundation
import MERFiles
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Safetensors files on disk: whole-file and header-only reads, and atomic writes
/// (temporary file, fsync, rename) so a failed save never leaves half a file.
extension SafeTensors {
    /// Reads every tensor of the file at `path`, converting F32, F16, BF16, F64, I64, I32, I16,
    /// I8, U64, U32, U16, U8 and BOOL to float32 (PyTorch's integer `num_batches_tracked`
    /// buffers are I64). Entries come in the order of their data in the file.
    public static func read(path: String) throws -> [SafeTensorsEntry] {
        try read(data: try loadFile(path), source: path)
    }

    /// The `__metadata__` strings of the file at `path` (empty if it has none). Only the
    /// header is read, and it is validated as fully as by `read`.
    public static func metadata(path: String) throws -> [String: String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TensorError("safetensors: cannot read \(path): \(errnoString())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw TensorError("safetensors: cannot stat \(path): \(errnoString())") }
        let fileSize = Int(st.st_size)
        var prefix = [UInt8](repeating: 0, count: 8)
        let got = try readFully(fd, into: &prefix, count: min(8, max(fileSize, 0)), path: path)
        // Read the length word first, then exactly the header (bounded by the checks in `parse`).
        var headerLen = 0
        if got == 8 {
            let n = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            if n <= UInt64(maxHeaderBytes) && Int(n) <= fileSize - 8 { headerLen = Int(n) }
        }
        var bytes = [UInt8](repeating: 0, count: got + headerLen)
        bytes.replaceSubrange(0..<got, with: prefix[0..<got])
        if headerLen > 0 {
            var rest = [UInt8](repeating: 0, count: headerLen)
            let r = try readFully(fd, into: &rest, count: headerLen, path: path)
            guard r == headerLen else { throw TensorError("safetensors: \(path): file shrank while reading its header") }
            bytes.replaceSubrange(8..<(8 + headerLen), with: rest)
        }
        return try bytes.withUnsafeBytes { raw in
            try parse(raw, source: path, totalSize: fileSize).metadata
        }
    }

    /// Writes F32 tensors in the order given (non-contiguous views are written as their
    /// contiguous values) with optional string metadata.
    ///
    /// Atomic: the file is written as `<path>.tmp-<pid>-<random>` in the same directory,
    /// fsynced and renamed over `path`; on any failure the temporary file is removed and an
    /// existing `path` is untouched.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String]? = nil,
                             to path: String) throws {
        func fail(_ message: String) -> TensorError { TensorError("safetensors: \(path): \(message)") }
        var seen = Set<String>()
        for (name, _) in tensors {
            guard !name.isEmpty else { throw fail("cannot write a tensor with an empty name") }
            guard name != "__metadata__" else { throw fail("\"__metadata__\" is reserved and cannot name a tensor") }
            guard seen.insert(name).inserted else { throw fail("duplicate tensor name \"\(name)\"") }
        }
        let header = headerBytes(tensors.map { ($0.name, $0.tensor.shape) }, metadata: metadata)

        let tmp = path + ".tmp-\(getpid())-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("cannot create temporary file \(tmp): \(errnoString())") }
        var closed = false
        let writeFailed = { (reason: String) in fail("cannot write \(tmp): \(reason)") }
        do {
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try writeFully(fd, $0, writeFailed) }
            try header.withUnsafeBytes { try writeFully(fd, $0, writeFailed) }
            for (_, tensor) in tensors {
                let t = try tensor.contiguousData()
                let n = t.count
                if n == 0 { continue }
                try withExtendedLifetime(t) {
                    if UInt32(littleEndian: 1) == 1 {
                        try writeFully(fd, UnsafeRawBufferPointer(start: t.pointer, count: n * 4), writeFailed)
                    } else {
                        let le = (0..<n).map { t.pointer[$0].bitPattern.littleEndian }
                        try le.withUnsafeBytes { try writeFully(fd, $0, writeFailed) }
                    }
                }
            }
            guard fsync(fd) == 0 else { throw fail("cannot sync \(tmp): \(errnoString())") }
            closed = true
            guard close(fd) == 0 else { throw fail("cannot close \(tmp): \(errnoString())") }
            guard rename(tmp, path) == 0 else { throw fail("cannot rename \(tmp) to \(path): \(errnoString())") }
        } catch {
            if !closed { close(fd) }
            unlink(tmp)
            throw error
        }
        // Make the rename itself durable (best effort: some file systems refuse fsync on directories).
        let dfd = open(directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    // MARK: POSIX helpers

    /// The folder holding `path` ("." for a bare file name). Not NSString's
    /// deletingLastPathComponent, which traps on one-character names ("a") in
    /// swift-corelibs-foundation 6.3.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func errnoString() -> String { String(cString: strerror(errno)) }

    /// The whole file, if it is a regular file no larger than half the machine's memory:
    /// a FIFO or device under a checkpoint's name is refused without blocking, and a file
    /// too large to hold is an error, not an abort in the allocator.
    static func loadFile(_ path: String) throws -> Data {
        let limit = Int(clamping: ProcessInfo.processInfo.physicalMemory / 2)
        do { return try SafeFile.read(path, maxBytes: limit) }
        catch let e as FileError { throw TensorError("safetensors: \(e.description)") }
    }

    static func writeFully(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ fail: (String) -> TensorError) throws {
        var done = 0
        while done < buffer.count {
            let r = Glibc.write(fd, buffer.baseAddress! + done, Swift.min(buffer.count - done, 1 << 30))
            if r < 0 {
                if errno == EINTR { continue }
                throw fail(errnoString())
            }
            done += r
        }
    }

    static func readFully(_ fd: Int32, into buffer: inout [UInt8], count: Int, path: String) throws -> Int {
        var done = 0
        try buffer.withUnsafeMutableBytes { b in
            while done < count {
                let r = Glibc.read(fd, b.baseAddress! + done, count - done)
                if r < 0 {
                    if errno == EINTR { continue }
                    throw TensorError("safetensors: cannot read \(path): \(errnoString())")
                }
                if r == 0 { break }
                done += r
            }
        }
        return done
    }
}

extension Tensor {
    /// Loads a tensor from a safetensors file (`tensor.load(path)` in Lua): the file's only
    /// tensor, or the one called `name`. The error lists the available names otherwise.
    public static func load(path: String, name: String? = nil) throws -> Tensor {
        let entries = try SafeTensors.read(path: path)
        let names = entries.map { "\"\($0.name)\"" }.joined(separator: ", ")
        if let name {
            guard let e = entries.first(where: { $0.name == name }) else {
                throw TensorError("safetensors: \(path): no tensor named \"\(name)\"; available: \(entries.isEmpty ? "none" : names)")
            }
            return e.tensor
        }
        guard entries.count == 1 else {
            throw TensorError(entries.isEmpty
                ? "safetensors: \(path): the file holds no tensors"
                : "safetensors: \(path): the file holds \(entries.count) tensors (\(names)); pass the name of one")
        }
        return entries[0].tensor
    }

    /// Saves this tensor alone to a safetensors file (`t:save(path)` in Lua).
    public func save(path: String, name: String = "tensor") throws {
        try SafeTensors.write([(name: name, tensor: self)], to: path)
    }
}
