import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file operation that failed: what was done, to which path, and why (as data, so a
/// caller can word it its own way); the message names all three.
public struct FileError: Error, CustomStringConvertible, LocalizedError {
    public enum Problem: Equatable {
        case system(Int32)                       // errno
        case directory, notRegular, notDirectory, notEmpty, exists
        case tooLarge(size: Int, limit: Int)
    }
    public let operation: String
    public let path: String
    public let problem: Problem

    public init(_ operation: String, _ path: String, _ problem: Problem) {
        self.operation = operation; self.path = path; self.problem = problem
    }

    public var reason: String {
        switch problem {
        case .system(let e): return e == ELOOP ? "is a symbolic link (not followed)" : String(cString: strerror(e))
        case .directory: return "it is a directory"
        case .notRegular: return "not a regular file"
        case .notDirectory: return "not a directory"
        case .notEmpty: return "directory not empty"
        case .exists: return "a file of that name exists"
        case .tooLarge(let size, let limit): return "\(size) bytes, more than the \(limit) this file may have"
        }
    }
    public var description: String { "cannot \(operation) \(path): \(reason)" }
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

    /// The folder holding `path` ("." for a bare name). Not NSString's
    /// deletingLastPathComponent: it traps on one-character names ("a") in
    /// swift-corelibs-foundation 6.3.
    public static func directory(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "." }
        return slash == p.startIndex ? "/" : String(p[..<slash])
    }

    /// Writes `data` to `path` atomically: a reader sees the old file or the new one.
    public static func write(_ data: Data, to path: String) throws {
        let n: Int = lock.withLock { counter += 1; return counter }
        let dir = directory(of: path)
        let name = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
        let tmp = dir + "/.\(name).tmp-\(getpid())-\(n)-\(UInt32.random(in: 0...UInt32.max))"
        // O_EXCL with O_CREAT never opens an existing name, a symbolic link included.
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("write", path, .system(errno)) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        try data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let w = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if w < 0 { if errno == EINTR { continue }; let e = errno; close(fd); throw FileError("write", path, .system(e)) }
                done += w
            }
        }
        if fsync(fd) != 0 { let e = errno; close(fd); throw FileError("write", path, .system(e)) }
        close(fd)
        // rename(2) replaces the name itself: a symbolic link at `path` is replaced, its
        // target left alone.
        guard rename(tmp, path) == 0 else { throw FileError("write", path, .system(errno)) }
        ok = true
    }

    public static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }

    /// A descriptor open for appending to the regular file `path` (created if missing); a
    /// symbolic link, a FIFO or a device is refused without blocking. The caller closes it.
    public static func openForAppending(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError("append to", path, .system(errno)) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw FileError("append to", path, .notRegular)
        }
        return fd
    }

    /// Appends to a regular file (created if missing); a symbolic link or a FIFO is refused.
    public static func append(_ data: Data, to path: String) throws {
        let fd = try openForAppending(path)
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let w = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if w < 0 { if errno == EINTR { continue }; throw FileError("append to", path, .system(errno)) }
                done += w
            }
        }
    }

    /// The bytes of a regular file of at most `maxBytes`, checked before reading. A FIFO,
    /// a device or a directory is refused without blocking.
    public static func read(_ path: String, maxBytes: Int) throws -> Data {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw FileError("read", path, .system(errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError("read", path, .system(errno)) }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw FileError("read", path, .directory) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileError("read", path, .notRegular) }
        let size = Int(st.st_size)
        guard size <= maxBytes else {
            throw FileError("read", path, .tooLarge(size: size, limit: maxBytes))
        }
        var data = Data(count: size)
        var done = 0
        try data.withUnsafeMutableBytes { (b: UnsafeMutableRawBufferPointer) in
            while done < b.count {
                let r = Glibc.read(fd, b.baseAddress! + done, b.count - done)
                if r < 0 { if errno == EINTR || errno == EAGAIN { continue }; throw FileError("read", path, .system(errno)) }
                if r == 0 { break }
                done += r
            }
        }
        if done < size { data.removeSubrange(done...) }   // it shrank meanwhile
        return data
    }

    /// Makes `path` and its missing parents (like `mkdir -p`); an existing directory is fine.
    public static func makeDirectory(_ path: String) throws {
        if exists(path) && !isDirectory(path) { throw FileError("make directory", path, .exists) }
        if mkdir(path, 0o755) == 0 || isDirectory(path) { return }
        // Parents first, as mkdir -p.
        let parent = directory(of: path)
        if parent != path && parent != "." && parent != "/" { try makeDirectory(parent) }
        guard mkdir(path, 0o755) == 0 || isDirectory(path) else { throw FileError("make directory", path, .system(errno)) }
    }

    /// The names in a directory, sorted (no `.` or `..`).
    public static func list(_ path: String) throws -> [String] {
        guard isDirectory(path) else { throw FileError("list", path, .notDirectory) }
        guard let d = opendir(path) else { throw FileError("list", path, .system(errno)) }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            // Read the name in place: glibc allocates an entry only d_reclen bytes long, so
            // copying the whole 256-byte d_name out of it reads past its end (AddressSanitizer
            // found this in the run-directory fuzz).
            let field = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let name = String(cString: field.assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
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
        guard lstat(path, &st) == 0 else { throw FileError("remove", path, .system(errno)) }
        let r = (st.st_mode & S_IFMT) == S_IFDIR ? rmdir(path) : unlink(path)
        guard r == 0 else { throw FileError("remove", path, errno == ENOTEMPTY ? .notEmpty : .system(errno)) }
    }
}
