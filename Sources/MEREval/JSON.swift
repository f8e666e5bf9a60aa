import Foundation
import MERFiles

/// A JSON value written deterministically: object keys sorted, two-space indentation,
/// arrays of scalars on one line, numbers that are not integers with six decimals
/// (`%.6f`) or, for settings, in their shortest exact form; non-finite numbers as `null`.
/// Identical values give identical bytes.
public indirect enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    /// A measured figure (accuracy, F1): six decimals keep metrics files stable and diffable.
    case number(Double)
    /// A setting (a run's config): the shortest form that reads back as the same Double, so
    /// a learning rate of 0.0012345 is not stored as 0.001235.
    case exactNumber(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public func serialized() -> String {
        var out = ""
        write(into: &out, indent: 0)
        out += "\n"
        return out
    }

    /// A scalar as plain text (strings unquoted), for tables such as a report's settings.
    public var text: String {
        if case .string(let s) = self { return s }
        var out = ""
        write(into: &out, indent: 0)
        return out
    }

    /// Six decimals keep files stable and diffable; a value too small for them (a learning
    /// rate of 1e-5, an eps of 1e-8) keeps its shortest exact form instead of becoming 0.
    static func format(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v != 0 && abs(v) < 1e-3 { return "\(v)" }
        return String(format: "%.6f", v)
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    private func write(into out: inout String, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let v): out += JSONValue.format(v)
        case .exactNumber(let v): out += v.isFinite ? "\(v)" : "null"
        case .string(let s): out += JSONValue.quote(s)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            if items.allSatisfy(\.isScalar) {
                out += "["
                for (k, item) in items.enumerated() {
                    if k > 0 { out += ", " }
                    item.write(into: &out, indent: indent)
                }
                out += "]"
                return
            }
            let pad = String(repeating: "  ", count: indent + 1)
            out += "[\n"
            for (k, item) in items.enumerated() {
                out += pad
                item.write(into: &out, indent: indent + 1)
                out += k + 1 < items.count ? ",\n" : "\n"
            }
            out += String(repeating: "  ", count: indent) + "]"
        case .object(let fields):
            if fields.isEmpty { out += "{}"; return }
            let pad = String(repeating: "  ", count: indent + 1)
            out += "{\n"
            let keys = fields.keys.sorted()
            for (k, key) in keys.enumerated() {
                out += pad + JSONValue.quote(key) + ": "
                fields[key]!.write(into: &out, indent: indent + 1)
                out += k + 1 < keys.count ? ",\n" : "\n"
            }
            out += String(repeating: "  ", count: indent) + "}"
        }
    }

    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    /// MEREval writes its own JSON rather than borrowing the tensor file format's writer.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// Writes files so that a reader never sees half of one: an exclusive temporary file beside
/// the target, then rename(2) (MERFiles.SafeFile: never through a symbolic link).
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    public static func write(_ data: Data, to path: String) throws {
        do { try SafeFile.write(data, to: path) } catch let e as FileError { throw EvalError(e.description) }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByBooleanLiteral {
    public init(stringLiteral s: String) { self = .string(s) }
    public init(integerLiteral n: Int) { self = .int(n) }
    public init(floatLiteral x: Double) { self = .number(x) }
    public init(booleanLiteral b: Bool) { self = .bool(b) }
}
