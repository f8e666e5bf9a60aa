import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor read from a safetensors file: its name, the dtype it was stored as, and its
/// values converted to float32.
public struct SafeTensorsEntry {
    public let name: String
    public let dtype: String
    public let shape: [Int]
    public let tensor: Tensor
}

/// The Hugging Face safetensors format (this file: layout, header validation, dtype
/// conversion; SafeTensorsFile.swift: files on disk; SafeTensorsJSON.swift: the header's JSON):
///
///     [8-byte little-endian UInt64 N][N bytes of UTF-8 JSON header][raw little-endian data]
///
/// The header maps tensor names to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets
/// relative to the first byte after the header) plus an optional `"__metadata__"` object of
/// string → string. Reading validates everything about the file before touching the data, so
/// any input — truncated, corrupted or hostile — gives a `TensorError` starting with
/// `safetensors:` and naming the file (and the tensor, when one is at fault), never a crash.
public enum SafeTensors {
    /// Header sizes above this are refused as corrupt (the reference implementation uses the same limit).
    public static let maxHeaderBytes = 100_000_000

    /// Stored dtypes that reading understands, with their element sizes in bytes.
    static let dtypeSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2,
        "I64": 8, "I32": 4, "I16": 2, "I8": 1,
        "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
    ]

    // MARK: Reading

    /// Reads every tensor of an in-memory safetensors file; `source` names it in errors.
    public static func read(data: Data, source: String) throws -> [SafeTensorsEntry] {
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [SafeTensorsEntry] in
            let header = try parse(raw, source: source)
            let base = header.dataStart
            return try header.tensors.map { info in
                let t = try Tensor(uninitialized: info.shape)
                convert(raw, from: base + info.begin, dtype: info.dtype, count: info.count, to: t.pointer)
                return SafeTensorsEntry(name: info.name, dtype: info.dtype, shape: info.shape, tensor: t)
            }
        }
    }

    struct TensorInfo {
        let name: String
        let dtype: String
        let shape: [Int]
        let count: Int
        let begin: Int
        let end: Int
    }

    struct Header {
        let tensors: [TensorInfo]   // sorted by data offset
        let metadata: [String: String]
        let dataStart: Int          // absolute offset of the data section
    }

    /// Validates the length word and the JSON header. `raw` holds at least the first
    /// `8 + N` bytes of the file; `totalSize` is the file's size (defaults to `raw.count`).
    static func parse(_ raw: UnsafeRawBufferPointer, source: String, totalSize: Int? = nil) throws -> Header {
        let size = totalSize ?? raw.count
        func fail(_ message: String) -> TensorError { TensorError("safetensors: \(source): \(message)") }

        guard size >= 8, raw.count >= 8 else {
            throw fail("file is too short (\(size) byte\(size == 1 ? "" : "s")) to hold the 8-byte header length")
        }
        let n = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard n <= UInt64(maxHeaderBytes) else {
            throw fail("header length \(n) is absurdly large (limit \(maxHeaderBytes) bytes); the file is corrupt or not safetensors")
        }
        guard Int(n) <= size - 8 else {
            throw fail("header length \(n) is larger than the file (\(size) bytes, \(size - 8) after the length word)")
        }
        guard n >= 2 else { throw fail("header length \(n) is too small to hold a JSON object") }
        let headerLen = Int(n), dataStart = 8 + headerLen, dataLen = size - dataStart
        guard raw.count >= dataStart else { throw fail("header is truncated") }

        let headerBytes = UnsafeRawBufferPointer(rebasing: raw[8..<dataStart])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail("header is not valid UTF-8")
        }
        // Names are counted (and duplicates found) before Foundation builds the objects: a
        // 100 MB header of tiny entries would otherwise cost gigabytes.
        try checkTopLevelKeys(headerBytes, limit: maxTensors + 1, fail: fail)
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String).map { " (\($0))" } ?? ""
            throw fail("header is not valid JSON\(detail)")
        }
        guard let object = json as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        // As the reference implementation: the header starts with '{' (no byte-order mark,
        // no leading space); trailing spaces are the format's padding.
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw fail("header does not start with '{' (a byte-order mark or leading spaces are not allowed)")
        }

        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let dict = value as? [String: Any] else { throw fail("__metadata__ is not a JSON object") }
                for (k, v) in dict {
                    guard let s = v as? String else { throw fail("__metadata__ value for key \"\(k)\" is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard !name.isEmpty else { throw fail("a tensor has an empty name") }
            func bad(_ message: String) -> TensorError { fail("tensor \"\(name)\": \(message)") }
            guard let entry = value as? [String: Any] else { throw bad("entry is not a JSON object") }

            guard let dtypeValue = entry["dtype"] else { throw bad("missing \"dtype\"") }
            guard let dtype = dtypeValue as? String else { throw bad("\"dtype\" is not a string") }
            guard let elementSize = dtypeSizes[dtype] else {
                throw bad("unsupported dtype \"\(dtype)\" (supported: \(dtypeSizes.keys.sorted().joined(separator: ", ")))")
            }

            guard let shapeValue = entry["shape"] else { throw bad("missing \"shape\"") }
            guard let shapeArray = shapeValue as? [Any] else { throw bad("\"shape\" is not an array") }
            var shape: [Int] = []
            for (i, s) in shapeArray.enumerated() {
                guard let d = integer(s) else { throw bad("shape entry \(i) (\(jsonDescription(s))) is not an integer") }
                guard d >= 0 else { throw bad("shape entry \(i) is negative (\(d))") }
                shape.append(d)
            }
            // Element count, and the product of max(dim, 1) that contiguous strides need:
            // both must be representable (and sane) before anything is allocated.
            var count = 1, strideProduct = 1
            for d in shape {
                let (c, o1) = count.multipliedReportingOverflow(by: d)
                let (p, o2) = strideProduct.multipliedReportingOverflow(by: Swift.max(d, 1))
                // As for created tensors: at most 2^34 elements, even counting an empty
                // tensor's other dimensions (its reductions would allocate them).
                guard !o1, !o2, p <= 1 << 34 else { throw bad("shape \(describe(shape)) is too large") }
                count = c; strideProduct = p
            }
            let (byteCount, o3) = count.multipliedReportingOverflow(by: elementSize)
            guard !o3 else { throw bad("shape \(describe(shape)) is too large") }

            guard let offsetsValue = entry["data_offsets"] else { throw bad("missing \"data_offsets\"") }
            guard let offsets = offsetsValue as? [Any], offsets.count == 2 else {
                throw bad("\"data_offsets\" is not an array of two integers")
            }
            guard let begin = integer(offsets[0]), let end = integer(offsets[1]) else {
                throw bad("\"data_offsets\" [\(jsonDescription(offsets[0])), \(jsonDescription(offsets[1]))] are not integers")
            }
            guard begin >= 0, end >= 0 else { throw bad("data_offsets [\(begin), \(end)] are negative") }
            guard begin <= end else { throw bad("data_offsets [\(begin), \(end)] are reversed") }
            guard end <= dataLen else {
                throw bad("data_offsets [\(begin), \(end)] are out of range: the data section has \(dataLen) bytes")
            }
            guard end - begin == byteCount else {
                throw bad("data_offsets [\(begin), \(end)] span \(end - begin) bytes but shape \(describe(shape)) of \(dtype) needs \(byteCount)")
            }
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end))
        }

        tensors.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for i in tensors.indices.dropFirst() {
            let a = tensors[i - 1], b = tensors[i]
            if b.begin < a.end {
                throw fail("tensors \"\(a.name)\" [\(a.begin), \(a.end)] and \"\(b.name)\" [\(b.begin), \(b.end)] have overlapping data")
            }
        }
        // The tensors tile the data section exactly, as the reference implementation checks:
        // no gap between two, none before the first, no bytes after the last.
        var next = 0
        for t in tensors {
            guard t.begin == next else {
                throw fail("tensor \"\(t.name)\": data_offsets [\(t.begin), \(t.end)] leave a gap after byte \(next) of the data section")
            }
            next = t.end
        }
        guard next == dataLen else {
            throw fail("the data section has \(dataLen) bytes but the tensors cover \(next) (trailing bytes)")
        }
        return Header(tensors: tensors, metadata: metadata, dataStart: dataStart)
    }

    /// Most tensors one file may name (a DBFEM state dict has about 600).
    public static let maxTensors = 100_000

    /// Scans the keys of the header's top-level object without building it: a key given
    /// twice, or more than `limit - 1` keys, is an error. The scan follows JSON's strings and
    /// nesting only; full validation is JSONSerialization's afterwards.
    static func checkTopLevelKeys(_ bytes: UnsafeRawBufferPointer, limit: Int, fail: (String) -> TensorError) throws {
        var keys = Set<String>()
        var depth = 0, i = 0, expectKey = false
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        while i < bytes.count {
            let c = bytes[i]
            if c == quote {
                var j = i + 1
                while j < bytes.count && bytes[j] != quote { j += bytes[j] == backslash ? 2 : 1 }
                if depth == 1 && expectKey {
                    let key = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(i + 1)..<min(j, bytes.count)]), as: UTF8.self)
                    guard keys.insert(key).inserted else { throw fail("the header names \"\(key.prefix(80))\" twice") }
                    guard keys.count < limit else { throw fail("the header names more than \(limit - 1) tensors") }
                    expectKey = false
                }
                i = j + 1
                continue
            }
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                expectKey = depth == 1 && c == UInt8(ascii: "{")
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectKey = true }
            default: break
            }
            i += 1
        }
    }

    /// Converts `count` little-endian elements of `dtype` starting at byte `start` to floats.
    /// The caller has checked that all of them lie inside `raw`.
    static func convert(_ raw: UnsafeRawBufferPointer, from start: Int, dtype: String, count: Int,
                        to out: UnsafeMutablePointer<Float>) {
        guard count > 0, let base = raw.baseAddress else { return }
        let p = base + start
        @inline(__always) func load<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
            T(littleEndian: p.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch dtype {
        case "F32":
            if UInt32(littleEndian: 1) == 1 {
                UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: count * 4)
            } else {
                for i in 0..<count { out[i] = Float(bitPattern: load(i, UInt32.self)) }
            }
        case "F64": for i in 0..<count { out[i] = Float(Double(bitPattern: load(i, UInt64.self))) }
        case "F16": for i in 0..<count { out[i] = floatFromHalf(load(i, UInt16.self)) }
        case "BF16": for i in 0..<count { out[i] = Float(bitPattern: UInt32(load(i, UInt16.self)) << 16) }
        case "I64": for i in 0..<count { out[i] = Float(load(i, Int64.self)) }
        case "I32": for i in 0..<count { out[i] = Float(load(i, Int32.self)) }
        case "I16": for i in 0..<count { out[i] = Float(load(i, Int16.self)) }
        case "I8": for i in 0..<count { out[i] = Float(load(i, Int8.self)) }
        case "U64": for i in 0..<count { out[i] = Float(load(i, UInt64.self)) }
        case "U32": for i in 0..<count { out[i] = Float(load(i, UInt32.self)) }
        case "U16": for i in 0..<count { out[i] = Float(load(i, UInt16.self)) }
        case "U8": for i in 0..<count { out[i] = Float(load(i, UInt8.self)) }
        case "BOOL": for i in 0..<count { out[i] = load(i, UInt8.self) != 0 ? 1 : 0 }
        default: preconditionFailure("safetensors: dtype \(dtype) passed validation but has no conversion")
        }
    }

    /// IEEE 754 binary16 → binary32, exact for every value: subnormals are scaled, infinities
    /// kept, and NaNs keep their sign and payload (quieted by the widening shift as in hardware).
    public static func floatFromHalf(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1f
        let mantissa = UInt32(h & 0x3ff)
        switch exponent {
        case 0x1f:   // inf / NaN
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        case 0:      // zero / subnormal: mantissa · 2⁻²⁴, exact in float32
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        default:
            return Float(bitPattern: sign | ((exponent + 127 - 15) << 23) | (mantissa << 13))
        }
    }

    /// The JSON header, padded with spaces to a multiple of 8 bytes as the reference
    /// implementation does: `__metadata__` first, then the tensors in data order.
    static func headerBytes(_ tensors: [(String, [Int])], metadata: [String: String]?) -> [UInt8] {
        var json = "{"
        var first = true
        if let metadata, !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for (name, shape) in tensors {
            let bytes = shape.reduce(1, *) * 4
            if !first { json += "," }
            first = false
            json += "\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],"
            json += "\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        json += "}"
        var bytes = Array(json.utf8)
        while bytes.count % 8 != 0 { bytes.append(0x20) }
        return bytes
    }
}
