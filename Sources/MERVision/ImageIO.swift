import CImageBridge
import Foundation
import MERFiles
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

    /// The whole file, or an error naming it (`no such file`, `is a directory`, ...). Read
    /// through MERFiles.SafeFile: a FIFO or device named as a frame is refused without
    /// blocking, and a file over 2 GiB is not an image.
    static func readFile(_ path: String, op: String) throws -> Data {
        do { return try SafeFile.read(path, maxBytes: 1 << 31) } catch let e as FileError {
            switch e.problem {
            case .system(let code): throw TensorError("\(op): \(path): \(errnoText(code))")
            case .directory: throw TensorError("\(op): \(path): is a directory")
            case .tooLarge(let size, _): throw TensorError("\(op): \(path): file of \(size) bytes is too large for an image")
            default: throw TensorError("\(op): \(path): \(e.reason)")
            }
        }
    }

    /// Through MERFiles.SafeFile (an exclusive temporary beside `path`, then a rename);
    /// a missing folder is named as such.
    static func writeAtomically(_ data: Data, to path: String, context: String) throws {
        let dir = SafeFile.directory(of: path)
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            throw TensorError("\(context): directory \(dir) does not exist")
        }
        if !isDir.boolValue { throw TensorError("\(context): \(dir) is not a directory") }
        do { try SafeFile.write(data, to: path) } catch let e as FileError {
            throw TensorError("\(context): write failed: \(e.reason)")
        }
    }
}
