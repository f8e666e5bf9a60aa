import Foundation
import MERJupyter
import XCTest

/// The connection file is input from outside: every bad field is refused with a message
/// naming the file and the key.
final class ConnectionInfoTests: XCTestCase {
    let good: [String: Any] = ["transport": "tcp", "ip": "127.0.0.1", "shell_port": 50001, "iopub_port": 50002,
                               "stdin_port": 50003, "control_port": 50004, "hb_port": 50005, "key": "abc",
                               "signature_scheme": "hmac-sha256", "kernel_name": "mer-script"]

    func parse(_ object: [String: Any]) throws -> ConnectionInfo {
        try ConnectionInfo.parse(try JSONSerialization.data(withJSONObject: object), file: "conn.json")
    }

    func problem(_ change: (inout [String: Any]) -> Void) -> String {
        var o = good
        change(&o)
        do { _ = try parse(o); return "accepted" } catch { return "\(error)" }
    }

    func testAGoodFileGivesEndpoints() throws {
        let info = try parse(good)
        XCTAssertEqual(info.endpoint(info.shellPort), "tcp://127.0.0.1:50001")
        XCTAssertEqual(info.key, "abc")
        var ipc = good
        ipc["transport"] = "ipc"; ipc["ip"] = "/tmp/kernel"
        XCTAssertEqual(try parse(ipc).endpoint(50002), "ipc:///tmp/kernel-50002")
    }

    func testBadFieldsAreNamed() {
        XCTAssertEqual(problem { $0.removeValue(forKey: "shell_port") }, "connection file conn.json: key 'shell_port' is missing")
        XCTAssertEqual(problem { $0["hb_port"] = 70000 }, "connection file conn.json: key 'hb_port' must be a port number in 1..65535, got 70000")
        XCTAssertEqual(problem { $0["hb_port"] = "5000" }, "connection file conn.json: key 'hb_port' must be a port number in 1..65535, got \"5000\"")
        XCTAssertEqual(problem { $0["iopub_port"] = 1.5 }, "connection file conn.json: key 'iopub_port' must be a port number in 1..65535, got 1.5")
        XCTAssertEqual(problem { $0["iopub_port"] = true }, "connection file conn.json: key 'iopub_port' must be a port number in 1..65535, got true")
        XCTAssertEqual(problem { $0["key"] = 42 }, "connection file conn.json: key 'key' must be a string, got 42")
        XCTAssertEqual(problem { $0["transport"] = "udp" }, "connection file conn.json: key 'transport' must be \"tcp\" or \"ipc\", got \"udp\"")
        XCTAssertEqual(problem { $0["signature_scheme"] = "hmac-md5" },
                       "connection file conn.json: key 'signature_scheme' must be \"hmac-sha256\" (the only scheme this kernel signs with), got \"hmac-md5\"")
        XCTAssertEqual(problem { $0["ip"] = "" }, "connection file conn.json: key 'ip' must be a host address, got \"\"")
        XCTAssertEqual(problem { $0["stdin_port"] = 50001 }, "connection file conn.json: the five ports must differ, got [50001, 50002, 50001, 50004, 50005]")
    }

    func testUnreadableOrMalformedFilesAreNamed() throws {
        XCTAssertThrowsError(try ConnectionInfo.load(path: "/nonexistent/conn.json")) {
            XCTAssertTrue("\($0)".hasPrefix("connection file /nonexistent/conn.json: "), "\($0)")
        }
        XCTAssertThrowsError(try ConnectionInfo.parse(Data("[1, 2]".utf8), file: "a.json")) {
            XCTAssertEqual("\($0)", "connection file a.json: expected a JSON object at the top level")
        }
        XCTAssertThrowsError(try ConnectionInfo.parse(Data("{".utf8), file: "a.json")) {
            XCTAssertTrue("\($0)".hasPrefix("connection file a.json: not valid JSON"), "\($0)")
        }
    }
}
