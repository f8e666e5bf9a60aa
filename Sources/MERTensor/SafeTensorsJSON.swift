import Foundation

/// The JSON of a safetensors header: reading values Foundation parsed (strict integers,
/// messages quoting what was written) and writing string literals.
extension SafeTensors {
    /// A JSON integer as `Int`: JSON booleans (which Foundation also hands back as
    /// `NSNumber`) and numbers written with a fraction or exponent are refused.
    static func integer(_ value: Any) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        switch String(cString: n.objCType) {
        case "s", "i", "l", "q", "S", "I", "L", "Q": return n as? Int
        default: return nil   // "c": Bool, "d"/"f": floating point
        }
    }

    /// A parsed JSON value as it would be written in the header, for error messages.
    static func jsonDescription(_ value: Any) -> String {
        switch value {
        case let s as String: return jsonString(s)
        case let n as NSNumber: return String(cString: n.objCType) == "c" ? (n.boolValue ? "true" : "false") : "\(n)"
        case is NSNull: return "null"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(value)"
        }
    }

    /// A JSON string literal for `s` (quotes, backslashes and control characters escaped).
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(u.value, radix: 16).count) + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
