import Foundation
import MERJupyter
import XCTest

/// The server on real sockets, with a backend that records what it is asked: signed
/// requests are answered on the right channel, a badly signed one is dropped unanswered,
/// the heartbeat echoes, and shutdown ends `run()`.
final class KernelServerTests: XCTestCase {
    final class Recorder: KernelBackend {
        var executed: [String] = []
        func execute(_ code: String) -> ExecutionOutcome {
            executed.append(code)
            return code == "fail" ? .error(name: "E", value: "bad", traceback: ["bad"]) : .ok(["text/plain": "42"])
        }
        func complete(_ code: String, cursor: Int) -> CompletionResult { CompletionResult(matches: ["tensor"], start: 0, end: cursor) }
        func inspect(_ code: String, cursor: Int) -> String? { "help for \(code)" }
        func isComplete(_ code: String) -> CodeCompleteness { code.hasSuffix("do") ? .incomplete : .complete }
        var info: KernelInfo {
            KernelInfo(implementation: "test", implementationVersion: "0", languageName: "lua", languageVersion: "5.4",
                       fileExtension: ".lua", mimetype: "text/x-lua", banner: "hello")
        }
    }

    func testSignedRequestsAreAnsweredAndForgedOnesDropped() throws {
        let base = Int.random(in: 20000...60000)
        let info = try ConnectionInfo.parse(try JSONSerialization.data(withJSONObject: [
            "transport": "tcp", "ip": "127.0.0.1", "shell_port": base, "iopub_port": base + 1, "stdin_port": base + 2,
            "control_port": base + 3, "hb_port": base + 4, "key": "k3y", "signature_scheme": "hmac-sha256"]), file: "test")
        let backend = Recorder()
        let server = try KernelServer(connection: info, backend: backend)
        let done = DispatchSemaphore(value: 0)
        Thread { try? server.run(captureOutput: false); done.signal() }.start()

        let context = try ZMQContext()
        let shell = try ZMQSocket(context, .dealer), control = try ZMQSocket(context, .dealer)
        let iopub = try ZMQSocket(context, .sub), hb = try ZMQSocket(context, .req)
        iopub.setOption(ZMQSocket.subscribe, Data())
        try shell.connect(info.endpoint(info.shellPort)); try control.connect(info.endpoint(info.controlPort))
        try iopub.connect(info.endpoint(info.iopubPort)); try hb.connect(info.endpoint(info.hbPort))
        defer { for s in [shell, control, iopub, hb] { s.close() }; context.terminate() }

        let codec = WireCodec(key: "k3y"), forger = WireCodec(key: "wrong")
        func receive(_ socket: ZMQSocket) throws -> Message? {
            guard try !ZMQSocket.poll([socket], timeout: 5000).isEmpty, let frames = try socket.receive() else { return nil }
            return try codec.decode(frames)
        }

        try hb.send([Data("ping".utf8)])
        XCTAssertEqual(try ZMQSocket.poll([hb], timeout: 5000), [0])
        XCTAssertEqual(try hb.receive(), [Data("ping".utf8)])

        // A SUB socket only receives once its subscription has reached the publisher (ZeroMQ's
        // "slow joiner"): ask for kernel_info until its status messages come through, as
        // Jupyter clients do, then start from an empty iopub queue.
        var iopubReady = false
        for _ in 0..<50 where !iopubReady {
            try shell.send(codec.encode(Message.make("kernel_info_request", content: [:], parent: [:], session: "c")))
            XCTAssertEqual(try receive(shell)?.type, "kernel_info_reply")
            iopubReady = try !ZMQSocket.poll([iopub], timeout: 100).isEmpty
        }
        XCTAssertTrue(iopubReady, "iopub never delivered")
        while try !ZMQSocket.poll([iopub], timeout: 200).isEmpty { _ = try iopub.receive() }

        let forged = Message.make("execute_request", content: ["code": "forged"], parent: [:], session: "c")
        try shell.send(forger.encode(forged))
        let real = Message.make("execute_request", content: ["code": "real"], parent: [:], session: "c")
        try shell.send(codec.encode(real))
        let reply = try XCTUnwrap(try receive(shell))
        XCTAssertEqual(reply.type, "execute_reply")
        XCTAssertEqual(reply.parentHeader["msg_id"] as? String, real.header["msg_id"] as? String)
        XCTAssertEqual(reply.content["status"] as? String, "ok")
        XCTAssertEqual(reply.content["execution_count"] as? Int, 1)
        XCTAssertEqual(backend.executed, ["real"])

        let complete = Message.make("is_complete_request", content: ["code": "for i = 1, 2 do"], parent: [:], session: "c")
        try shell.send(codec.encode(complete))
        XCTAssertEqual(try receive(shell)?.content["status"] as? String, "incomplete")

        // iopub carried busy, the input, the result and idle for the real request.
        var seen: [String] = []
        while let m = try receive(iopub) {
            guard m.parentHeader["msg_id"] as? String == real.header["msg_id"] as? String else { continue }
            seen.append(m.type)
            if m.type == "status" && m.content["execution_state"] as? String == "idle" { break }
        }
        XCTAssertEqual(seen, ["status", "execute_input", "execute_result", "status"])

        try control.send(codec.encode(Message.make("shutdown_request", content: ["restart": false], parent: [:], session: "c")))
        XCTAssertEqual(try receive(control)?.type, "shutdown_reply")
        XCTAssertEqual(done.wait(timeout: .now() + 5), .success, "run() did not return after shutdown")
    }
}
