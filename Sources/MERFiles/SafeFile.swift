import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file operation that failed; the message names the path and the reason.
public struct FileError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

/// File access for files other people made (run directories, checkpoints, sheets): every
/// write goes to an exclusive temporary file (never an existing name, never through a
/// symbolic link) renamed over the target; appends and reads refuse symbolic links where
/// they matter and anything that is not a regular file, and open without blocking, so a
/// FIFO planted under a checkpoint's name is an error, not a hang. No shell anywhere.
public enum SafeFile {
    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    static func reason(_ code: Int32 = errno) -> String {
        code == ELOOP ? "is a symbolic link (not followed)" : String(cString: strerror(code))
    }

    /// Writes `data` to `path` atomically: a reader sees the old file or the new one.
    public static func write(_ data: Data, to path: String) throws {
        let n: Int = lock.withLock { counter += 1; return counter }
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(name).tmp-\(getpid())-\(n)-\(UInt32.random(in: 0...UInt32.max))"
        // O_EXCL with O_CREAT never opens an existing name, a symbolic link included.
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("cannot write \(path): \(reason())") }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        try data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let w = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if w < 0 { if errno == EINTR { continue }; let e = errno; close(fd); throw FileError("cannot write \(path): \(reason(e))") }
                done += w
            }
        }
        if fsync(fd) != 0 { let e = errno; close(fd); throw FileError("cannot write \(path): \(reason(e))") }
        close(fd)
        // rename(2) replaces the name itself: a symbolic link at `path` is replaced, its
        // target left alone.
        guard rename(tmp, path) == 0 else { throw FileError("cannot write \(path): \(reason())") }
        ok = true
    }

    public static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }

    /// Appends to a regular file (created if missing); a symbolic link or a FIFO is refused.
    public static func append(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("cannot append to \(path): \(reason())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw FileError("cannot append to \(path): not a regular file")
        }
        try data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let w = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if w < 0 { if errno == EINTR { continue }; throw FileError("cannot append to \(path): \(reason())") }
                done += w
            }
        }
    }

    /// The bytes of a regular file of at most `maxBytes`, checked before reading. A FIFO,
    /// a device or a directory is refused without blocking.
    public static func read(_ path: String, maxBytes: Int) throws -> Data {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("cannot read \(path): \(reason())") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError("cannot read \(path): \(reason())") }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw FileError("cannot read \(path): it is a directory") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError("cannot read \(path): not a regular file") }
        let size = Int(st.st_size)
        guard size <= maxBytes else {
            throw FileError("cannot read \(path): \(size) bytes, more than the \(maxBytes) this file may have")
        }
        var data = Data(count: size)
        var done = 0
        try data.withUnsafeMutableBytes { (b: UnsafeMutableRawBufferPointer) in
            while done < b.count {
                let r = Glibc.read(fd, b.baseAddress! + done, b.count - done)
                if r < 0 { if errno == EINTR || errno == EAGAIN { continue }; throw FileError("cannot read \(path): \(reason())") }
                if r == 0 { break }
                done += r
            }
        }
        if done < size { data.removeSubrange(done...) }   // it shrank meanwhile
        return data
    }

    /// Makes `path` and its missing parents (like `mkdir -p`); an existing directory is fine.
    public static func makeDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        catch { throw FileError("cannot make directory \(path): \(isDirectory(path) ? "exists" : (error as NSError).localizedDescription)") }
        guard isDirectory(path) else { throw FileError("cannot make directory \(path): a file of that name exists") }
    }

    /// The names in a directory, sorted (no `.` or `..`).
    public static func list(_ path: String) throws -> [String] {
        guard isDirectory(path) else { throw FileError("cannot list \(path): not a directory") }
        do { return try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
        catch { throw FileError("cannot list \(path): \((error as NSError).localizedDescription)") }
    }

    /// Whether something exists at `path` (a symbolic link counts, even a dangling one).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Removes a file, a symbolic link (not its target) or an empty directory.
    public static func remove(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw FileError("cannot remove \(path): \(reason())") }
        let r = (st.st_mode & S_IFMT) == S_IFDIR ? rmdir(path) : unlink(path)
        guard r == 0 else { throw FileError("cannot remove \(path): \(errno == ENOTEMPTY ? "directory not empty" : reason())") }
    }
}
