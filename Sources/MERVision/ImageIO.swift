import CImageBridge
import Foundation
import MERTensor
#if canImport(Glibc)
import Glibc
#endif

/// Reading and writing image files as (C, H, W) float32 tensors in [0, 1].
public enum ImageIO {
    /// Most memory one decode may take (decoder buffer plus the float32 tensor), checked
    /// from the header before anything is allocated: a small file declaring a huge image
    /// is refused with a clear error instead of costing gigabytes. Default 512 MiB; raise
    /// it for very large photographs.
    public static var maxDecodedBytes: Int {
        get { Int(clamping: UInt(cib_max_decoded_bytes())) }
        set { cib_set_max_decoded_bytes(Int(max(0, newValue)) == 0 ? 0 : size_t(max(0, newValue))) }
    }

    /// (C, H, W) float32 in [0, 1]; C = 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. Format from the
    /// file's magic bytes, not its name. Errors name the file: `image.load: a.jpg: truncated JPEG data`.
    public static func load(path: String) throws -> Tensor {
        let data = try readFile(path, op: "image.load")
        return try decode(data, context: "image.load: \(path)")
    }

    /// Decodes PNG or JPEG bytes (format from the magic bytes); `source` names them in errors.
    public static func decode(data: Data, source: String) throws -> Tensor {
        try decode(data, context: "image.decode: \(source)")
    }

    /// The format of image bytes, from their first bytes.
    public enum Format: Equatable { case png, jpeg }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]

    /// .png or .jpeg when the bytes start like one; nil otherwise.
    public static func sniff(_ data: Data) -> Format? {
        let head = [UInt8](data.prefix(8))
        if head.count >= 8 && head == pngSignature { return .png }
        if head.count >= 3 && Array(head.prefix(3)) == jpegSignature { return .jpeg }
        return nil
    }

    static func decode(_ data: Data, context: String) throws -> Tensor {
        if data.isEmpty { throw TensorError("\(context): empty file") }
        switch sniff(data) {
        case .png: return try PNGCodec.decode(data, context: context)
        case .jpeg: return try JPEGCodec.decode(data, context: context)
        case nil:
            let head = [UInt8](data.prefix(8))
            if pngSignature.starts(with: head) { throw TensorError("\(context): truncated PNG data") }
            if jpegSignature.starts(with: head) { throw TensorError("\(context): truncated JPEG data") }
            let hex = head.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " ")
            throw TensorError("\(context): not a PNG or JPEG file (starts with \(hex))")
        }
    }

    /// Writes `t` ((C, H, W), or (H, W) for gray) as an image. Format from the extension
    /// (.png, .jpg, .jpeg); values clamped to [0, 1] and rounded; C 1...4 for PNG (8-bit,
    /// or 16 with `bitDepth: 16`), 1 or 3 for JPEG (`quality` 1...100). The file appears
    /// atomically: written to a temporary file beside it, then renamed over `path`.
    public static func save(_ t: Tensor, path: String, quality: Int = 95, bitDepth: Int = 8) throws {
        let context = "image.save: \(path)"
        let ext = (path as NSString).pathExtension.lowercased()
        let data: Data
        switch ext {
        case "png":
            data = try PNGCodec.encode(t, bitDepth: bitDepth, context: context)
        case "jpg", "jpeg":
            guard bitDepth == 8 else { throw TensorError("\(context): JPEG is 8-bit only, got bitDepth \(bitDepth)") }
            data = try JPEGCodec.encode(t, quality: quality, context: context)
        default:
            let shown = ext.isEmpty ? "no extension" : "extension '.\(ext)'"
            throw TensorError("\(context): unknown image format (\(shown)); use .png, .jpg or .jpeg")
        }
        try writeAtomically(data, to: path, context: context)
    }

    // MARK: Files

    static func errnoText(_ e: Int32) -> String {
        switch e {
        case ENOENT: return "no such file"
        case EACCES: return "permission denied"
        case EISDIR: return "is a directory"
        default: return String(cString: strerror(e))
        }
    }

    /// The whole file, or an error naming it (`no such file`, `is a directory`, ...).
    static func readFile(_ path: String, op: String) throws -> Data {
        // O_NONBLOCK: opening a FIFO (or a device) named as a frame must not wait for a
        // writer; such files are refused below, and a regular file reads the same either way.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw TensorError("\(op): \(path): \(errnoText(errno))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw TensorError("\(op): \(path): \(errnoText(errno))") }
        if (st.st_mode & S_IFMT) == S_IFDIR { throw TensorError("\(op): \(path): is a directory") }
        if (st.st_mode & S_IFMT) != S_IFREG { throw TensorError("\(op): \(path): not a regular file") }
        let expected = Int(st.st_size)
        if expected > 1 << 31 { throw TensorError("\(op): \(path): file of \(expected) bytes is too large for an image") }
        var bytes = [UInt8](repeating: 0, count: max(expected, 0))
        var got = 0
        var failure: Int32 = 0
        bytes.withUnsafeMutableBytes { raw in
            while got < expected {
                let n = read(fd, raw.baseAddress! + got, expected - got)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                if n == 0 { break } // shrank while reading
                got += n
            }
        }
        if failure != 0 { throw TensorError("\(op): \(path): \(errnoText(failure))") }
        return Data(bytes.prefix(got))
    }

    nonisolated(unsafe) private static var tempCounter = 0
    private static let tempLock = NSLock()

    /// Writes to `.<name>.tmp-<pid>-<n>` in the same directory, then renames it over `path`.
    static func writeAtomically(_ data: Data, to path: String, context: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            throw TensorError("\(context): directory \(dir) does not exist")
        }
        if !isDir.boolValue { throw TensorError("\(context): \(dir) is not a directory") }
        tempLock.lock(); tempCounter += 1; let n = tempCounter; tempLock.unlock()
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(n)").path
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw TensorError("\(context): cannot create a file in \(dir): \(errnoText(errno))") }
        var failure: Int32 = 0
        data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                done += n
            }
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temp, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temp)
            throw TensorError("\(context): write failed: \(errnoText(failure))")
        }
    }
}
