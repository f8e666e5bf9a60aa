import Foundation

/// A JSON object as Foundation's JSONSerialization reads and writes it.
public typealias JSONObject = [String: Any]

/// One Jupyter message (messaging protocol 5.x): the routing identities ZeroMQ's ROUTER
/// sockets need to reply, the four JSON parts and any binary buffers.
public struct Message {
    public var identities: [Data] = []
    public var header: JSONObject
    public var parentHeader: JSONObject
    public var metadata: JSONObject = [:]
    public var content: JSONObject
    public var buffers: [Data] = []

    public init(identities: [Data] = [], header: JSONObject, parentHeader: JSONObject, metadata: JSONObject = [:],
                content: JSONObject, buffers: [Data] = []) {
        self.identities = identities; self.header = header; self.parentHeader = parentHeader
        self.metadata = metadata; self.content = content; self.buffers = buffers
    }

    public var type: String { header["msg_type"] as? String ?? "" }
    public var session: String { header["session"] as? String ?? "" }

    /// A new message of `type` answering `parent` (its header becomes our parent_header).
    public static func make(_ type: String, content: JSONObject, parent: JSONObject, session: String,
                            identities: [Data] = []) -> Message {
        let header: JSONObject = [
            "msg_id": UUID().uuidString.lowercased(), "session": session, "username": "mer-script",
            "date": timestamp(), "msg_type": type, "version": Message.protocolVersion,
        ]
        return Message(identities: identities, header: header, parentHeader: parent, content: content)
    }

    public static let protocolVersion = "5.3"

    /// ISO 8601 with microseconds and a zone, as the protocol asks for header dates.
    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var t = time_t(tv.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(tv.tv_usec))
    }
}

/// Turns messages into ZeroMQ frames and back: `identities… <IDS|MSG> signature header
/// parent_header metadata content buffers…`, the signature being the hex HMAC-SHA256 of the
/// four JSON frames under the connection key (empty key: unsigned, as the protocol allows).
public struct WireCodec {
    static let delimiter = Data("<IDS|MSG>".utf8)
    let mac: HMACSHA256?

    public init(key: String) {
        mac = key.isEmpty ? nil : HMACSHA256(key: Array(key.utf8))
    }

    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case noDelimiter, missingFrames(Int), badSignature, badJSON(String)
        public var description: String {
            switch self {
            case .noDelimiter: return "no <IDS|MSG> delimiter"
            case .missingFrames(let n): return "expected 5 frames after the delimiter, got \(n)"
            case .badSignature: return "signature does not match"
            case .badJSON(let part): return "\(part) is not a JSON object"
            }
        }
    }

    public func signature(_ parts: [Data]) -> String {
        guard let mac = mac else { return "" }
        return HMACSHA256.hex(mac.authenticationCode(parts.map { Array($0) }))
    }

    public func encode(_ m: Message) -> [Data] {
        let parts = [m.header, m.parentHeader, m.metadata, m.content].map(WireCodec.json)
        return m.identities + [WireCodec.delimiter, Data(signature(parts).utf8)] + parts + m.buffers
    }

    /// Frames → message; a wrong signature is an error (the caller drops such a message).
    public func decode(_ frames: [Data]) throws -> Message {
        guard let d = frames.firstIndex(of: WireCodec.delimiter) else { throw DecodeError.noDelimiter }
        let rest = Array(frames[(d + 1)...])
        guard rest.count >= 5 else { throw DecodeError.missingFrames(rest.count) }
        let parts = Array(rest[1...4])
        if mac != nil {
            // Constant-time comparison: a timing difference must not reveal how much matched.
            let expected = Array(signature(parts).utf8), given = Array(rest[0])
            var diff = expected.count ^ given.count
            for (k, b) in expected.enumerated() { diff |= Int(b ^ (k < given.count ? given[k] : 0)) }
            guard diff == 0 else { throw DecodeError.badSignature }
        }
        let names = ["header", "parent_header", "metadata", "content"]
        var objects: [JSONObject] = []
        for (k, p) in parts.enumerated() {
            guard let o = (try? JSONSerialization.jsonObject(with: p)) as? JSONObject else { throw DecodeError.badJSON(names[k]) }
            objects.append(o)
        }
        return Message(identities: Array(frames[..<d]), header: objects[0], parentHeader: objects[1],
                       metadata: objects[2], content: objects[3], buffers: Array(rest.dropFirst(5)))
    }

    static func json(_ object: JSONObject) -> Data {
        // Only Strings, numbers, Bools, arrays, dictionaries and NSNull are ever put in.
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    }
}
