import Foundation
import MERFiles

/// What the notebook server tells a kernel in its connection file: where to bind its five
/// sockets and the key that signs every message. The file comes from outside the process,
/// so every field is checked and a bad one is named together with the file.
public struct ConnectionInfo: Equatable {
    public var transport: String
    public var ip: String
    public var shellPort: Int
    public var iopubPort: Int
    public var stdinPort: Int
    public var controlPort: Int
    public var hbPort: Int
    public var key: String
    public var signatureScheme: String

    public struct Invalid: Error, CustomStringConvertible {
        public let file: String
        public let problem: String
        public var description: String { "connection file \(file): \(problem)" }
    }

    /// Reads and validates a connection file (JSON, at most 1 MiB, never blocking on a FIFO).
    public static func load(path: String) throws -> ConnectionInfo {
        let data: Data
        do { data = try SafeFile.read(path, maxBytes: 1 << 20) } catch {
            throw Invalid(file: path, problem: "\(error)")
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> ConnectionInfo {
        func fail(_ problem: String) -> Invalid { Invalid(file: file, problem: problem) }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw fail("not valid JSON (\(error.localizedDescription))")
        }
        guard let dict = object as? [String: Any] else { throw fail("expected a JSON object at the top level") }

        func string(_ key: String, default fallback: String? = nil) throws -> String {
            guard let value = dict[key] else {
                if let f = fallback { return f }
                throw fail("key '\(key)' is missing")
            }
            guard let s = value as? String else { throw fail("key '\(key)' must be a string, got \(describe(value))") }
            return s
        }
        func port(_ key: String) throws -> Int {
            guard let value = dict[key] else { throw fail("key '\(key)' is missing") }
            // JSON numbers arrive as NSNumber; a boolean or 8080.5 is not a port.
            guard let n = value as? NSNumber, !isBoolean(n), let p = Int(exactly: n.doubleValue), (1...65535).contains(p) else {
                throw fail("key '\(key)' must be a port number in 1..65535, got \(describe(value))")
            }
            return p
        }

        let transport = try string("transport", default: "tcp")
        guard transport == "tcp" || transport == "ipc" else {
            throw fail("key 'transport' must be \"tcp\" or \"ipc\", got \"\(transport)\"")
        }
        let ip = try string("ip", default: "127.0.0.1")
        guard !ip.isEmpty, !ip.contains(where: { $0.isWhitespace || $0 == "\0" }) else {
            throw fail("key 'ip' must be a host address, got \"\(ip)\"")
        }
        let scheme = try string("signature_scheme", default: "hmac-sha256")
        let key = try string("key", default: "")
        // An empty key means "unsigned" in the protocol; any other scheme we cannot check.
        guard scheme == "hmac-sha256" || (scheme.isEmpty && key.isEmpty) else {
            throw fail("key 'signature_scheme' must be \"hmac-sha256\" (the only scheme this kernel signs with), got \"\(scheme)\"")
        }
        let info = ConnectionInfo(transport: transport, ip: ip,
                                  shellPort: try port("shell_port"), iopubPort: try port("iopub_port"),
                                  stdinPort: try port("stdin_port"), controlPort: try port("control_port"),
                                  hbPort: try port("hb_port"), key: key, signatureScheme: scheme)
        let ports = [info.shellPort, info.iopubPort, info.stdinPort, info.controlPort, info.hbPort]
        guard Set(ports).count == ports.count else { throw fail("the five ports must differ, got \(ports)") }
        return info
    }

    /// The ZeroMQ endpoint of a port: `tcp://ip:port`, or for ipc the file `ip-port` (Jupyter's convention).
    public func endpoint(_ port: Int) -> String {
        transport == "ipc" ? "ipc://\(ip)-\(port)" : "tcp://\(ip):\(port)"
    }

    static func isBoolean(_ n: NSNumber) -> Bool {
        // Foundation on Linux reports JSON booleans with the objCType of a C bool ("c" or "B").
        let t = String(cString: n.objCType)
        return t == "c" || t == "B"
    }

    static func describe(_ value: Any) -> String {
        if let n = value as? NSNumber { return isBoolean(n) ? (n.boolValue ? "true" : "false") : "\(n)" }
        if let s = value as? String { return "\"\(s)\"" }
        if value is NSNull { return "null" }
        if value is [Any] { return "an array" }
        return "an object"
    }
}
