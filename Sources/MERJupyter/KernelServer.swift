import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Jupyter kernel's protocol side (messaging protocol 5.3): binds the shell, control,
/// stdin, iopub and heartbeat sockets of a connection file, checks every message's
/// signature (a bad one is dropped), and answers kernel_info, execute, complete, inspect,
/// is_complete, comm_info, history, interrupt and shutdown requests through a `KernelBackend`.
///
/// Threads: the caller's thread runs `run()` — it owns shell and stdin and runs the backend
/// (Lua stays on one thread); the control channel has a thread of its own, so shutdown and
/// interrupt requests are answered while a cell runs (`ControlChannel.swift`); the heartbeat
/// has its own thread and socket; the output-capture thread publishes `stream` messages.
/// iopub is shared by all of them but the heartbeat, so every send on it holds `iopubLock`
/// (ZeroMQ sockets are not thread-safe).
public final class KernelServer {
    let connection: ConnectionInfo
    let codec: WireCodec
    let backend: KernelBackend
    let session = UUID().uuidString.lowercased()
    let context: ZMQContext
    let shell: ZMQSocket, control: ZMQSocket, stdin: ZMQSocket, iopub: ZMQSocket
    let heartbeat: Heartbeat
    private let iopubLock = NSLock()
    /// The header of the shell request being handled: outputs name it as their parent.
    private var parent: JSONObject = [:]
    private(set) var capture: OutputCapture?
    public private(set) var executionCount = 0
    /// The largest frame a request may carry (cells and comm buffers are far smaller).
    static let maxMessageBytes: Int64 = 256 << 20
    private let stateLock = NSLock()
    private var running = true
    /// Set by the main thread once its loop is over (the control thread stops interrupting).
    let mainLoopEnded = DispatchSemaphore(value: 0)
    let controlEnded = DispatchSemaphore(value: 0)

    private var executing = false
    /// Whether the main thread is inside `backend.execute` (a shutdown then interrupts the cell).
    var isExecuting: Bool {
        get { stateLock.lock(); defer { stateLock.unlock() }; return executing }
        set { stateLock.lock(); executing = newValue; stateLock.unlock() }
    }

    /// False once a shutdown was asked for, on either channel.
    var isRunning: Bool {
        get { stateLock.lock(); defer { stateLock.unlock() }; return running }
        set { stateLock.lock(); running = newValue; stateLock.unlock() }
    }

    public init(connection: ConnectionInfo, backend: KernelBackend) throws {
        self.connection = connection
        self.backend = backend
        codec = WireCodec(key: connection.key)
        // libzmq starts its I/O threads with the creating thread's signal mask: block SIGINT
        // meanwhile, so an interrupt is only ever handled by a thread that may act on it.
        var mask = sigset_t(), old = sigset_t()
        sigemptyset(&mask); sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_BLOCK, &mask, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        context = try ZMQContext()
        shell = try ZMQSocket(context, .router)
        control = try ZMQSocket(context, .router)
        stdin = try ZMQSocket(context, .router)
        iopub = try ZMQSocket(context, .pub)
        for s in [shell, control, stdin] { s.limitMessageSize(KernelServer.maxMessageBytes) }
        try shell.bind(connection.endpoint(connection.shellPort))
        try control.bind(connection.endpoint(connection.controlPort))
        try stdin.bind(connection.endpoint(connection.stdinPort))
        try iopub.bind(connection.endpoint(connection.iopubPort))
        heartbeat = Heartbeat(context: context, endpoint: connection.endpoint(connection.hbPort))
        try heartbeat.start()
    }

    /// Serves requests until a shutdown request; then releases the sockets. With
    /// `captureOutput` the process's stdout and stderr become `stream` messages.
    public func run(captureOutput: Bool = true) throws {
        if captureOutput {
            let c = OutputCapture { [weak self] stream, text in
                self?.publish("stream", ["name": stream, "text": text])
            }
            try c.start()
            capture = c
        }
        publishStatus("starting")
        let controlThread = Thread { [self] in self.serveControl() }
        controlThread.name = "mer-control"
        controlThread.start()
        defer { close() }
        while isRunning {
            // A short wait, so a shutdown answered on the control thread is seen here at once
            // even when no signal interrupted the wait.
            let ready = try ZMQSocket.poll([shell, stdin], timeout: 200)
            for index in ready {
                let socket = [shell, stdin][index]
                while isRunning, let frames = try socket.receive(wait: false) {
                    if socket === stdin { continue }   // no input_request is ever sent, so no reply is expected
                    handle(frames, on: socket)
                }
            }
        }
    }

    /// Shows `bundle` now (display_data), or replaces the display `id` made earlier (update_display_data).
    public func display(_ bundle: MimeBundle, id: String?, update: Bool) {
        capture?.flush()
        var content: JSONObject = ["data": bundle, "metadata": [String: Any]()]
        if let id = id { content["transient"] = ["display_id": id] }
        publish(update ? "update_display_data" : "display_data", content)
    }

    /// Writes a diagnostic line to the stderr the kernel started with (the notebook server's log).
    public func log(_ line: String) {
        let fd = capture?.originalStderr ?? 2
        let text = "mer-script kernel: " + line + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }

    // MARK: Requests

    func handle(_ frames: [Data], on socket: ZMQSocket) {
        let request: Message
        do { request = try codec.decode(frames) } catch {
            log("dropped a message: \(error)")
            return
        }
        iopubLock.lock(); parent = request.header; iopubLock.unlock()
        publishStatus("busy")
        defer { publishStatus("idle") }
        let c = request.content
        if let answer = answerAnywhere(request) {
            reply(request, on: socket, answer)
            return
        }
        switch request.type {
        case "execute_request":
            execute(request, on: socket)
        case "complete_request":
            let code = c["code"] as? String ?? ""
            let r = backend.complete(code, cursor: cursor(c, in: code))
            reply(request, on: socket, ["status": "ok", "matches": r.matches, "cursor_start": r.start, "cursor_end": r.end,
                                        "metadata": [String: Any]()])
        case "inspect_request":
            let code = c["code"] as? String ?? ""
            let text = backend.inspect(code, cursor: cursor(c, in: code))
            reply(request, on: socket, ["status": "ok", "found": text != nil,
                                        "data": text.map { ["text/plain": $0] } ?? [:], "metadata": [String: Any]()])
        case "is_complete_request":
            let status = backend.isComplete(c["code"] as? String ?? "")
            var content: JSONObject = ["status": status.rawValue]
            if status == .incomplete { content["indent"] = "" }
            reply(request, on: socket, content)
        case "comm_info_request":
            reply(request, on: socket, ["status": "ok", "comms": [String: Any]()])
        case "history_request":
            reply(request, on: socket, ["status": "ok", "history": [Any]()])
        default:
            log("ignored a \(request.type.isEmpty ? "message without a type" : request.type)")
        }
    }

    func execute(_ request: Message, on socket: ZMQSocket) {
        let c = request.content
        let code = c["code"] as? String ?? ""
        let silent = c["silent"] as? Bool ?? false
        if !silent && (c["store_history"] as? Bool ?? true) { executionCount += 1 }
        if !silent { publish("execute_input", ["code": code, "execution_count": executionCount]) }
        isExecuting = true
        let outcome = backend.execute(code)
        isExecuting = false
        capture?.flush()
        switch outcome {
        case .ok(let bundle):
            if let data = bundle, !silent {
                publish("execute_result", ["execution_count": executionCount, "data": data, "metadata": [String: Any]()])
            }
            reply(request, on: socket, ["status": "ok", "execution_count": executionCount,
                                        "user_expressions": [String: Any](), "payload": [Any]()])
        case let .error(name, value, traceback):
            // Taken before the reply goes out: nothing in it can be a reaction to the failure.
            let queued = c["stop_on_error"] as? Bool ?? true ? takeQueue(socket) : []
            if !silent { publish("error", ["ename": name, "evalue": value, "traceback": traceback]) }
            reply(request, on: socket, ["status": "error", "execution_count": executionCount,
                                        "ename": name, "evalue": value, "traceback": traceback])
            abort(queued, on: socket)
        }
    }

    /// The requests waiting on `socket` now.
    func takeQueue(_ socket: ZMQSocket) -> [[Data]] {
        var queue: [[Data]] = []
        while let frames = try? socket.receive(wait: false) { queue.append(frames) }
        return queue
    }

    /// After a failed cell, the cells that were queued behind it ("Run all") are answered
    /// "aborted" without running, as ipykernel does: they were written expecting it to
    /// succeed. The queue is taken before the failure is answered, so a request a client
    /// sends after seeing the error runs normally. Other queued requests are served as usual.
    func abort(_ queue: [[Data]], on socket: ZMQSocket) {
        for frames in queue {
            guard let queued = try? codec.decode(frames), queued.type == "execute_request" else {
                handle(frames, on: socket)
                continue
            }
            iopubLock.lock(); parent = queued.header; iopubLock.unlock()
            publishStatus("busy")
            reply(queued, on: socket, ["status": "aborted", "execution_count": executionCount])
            publishStatus("idle")
        }
    }

    func kernelInfo() -> JSONObject {
        let i = backend.info
        return [
            "status": "ok", "protocol_version": Message.protocolVersion,
            "implementation": i.implementation, "implementation_version": i.implementationVersion,
            "language_info": ["name": i.languageName, "version": i.languageVersion, "mimetype": i.mimetype,
                              "file_extension": i.fileExtension, "pygments_lexer": i.languageName,
                              "codemirror_mode": i.languageName],
            "banner": i.banner, "help_links": [Any](),
        ]
    }

    /// The request's cursor_pos, clamped into the code (missing: the end, as the spec says).
    func cursor(_ content: JSONObject, in code: String) -> Int {
        let length = code.unicodeScalars.count
        guard let n = content["cursor_pos"] as? Int else { return length }
        return min(max(0, n), length)
    }

    func reply(_ request: Message, on socket: ZMQSocket, _ content: JSONObject) {
        let type = request.type.hasSuffix("_request") ? String(request.type.dropLast(8)) + "_reply" : request.type + "_reply"
        let m = Message.make(type, content: content, parent: request.header, session: session, identities: request.identities)
        do { try socket.send(codec.encode(m)) } catch { log("could not send \(type): \(error)") }
    }

    // MARK: iopub

    func publishStatus(_ state: String, parent parentHeader: JSONObject? = nil) {
        publish("status", ["execution_state": state], parent: parentHeader)
    }

    /// Publishes on iopub, naming `parentHeader` as the parent (default: the current shell request).
    func publish(_ type: String, _ content: JSONObject, parent parentHeader: JSONObject? = nil) {
        iopubLock.lock()
        defer { iopubLock.unlock() }
        var m = Message.make(type, content: content, parent: parentHeader ?? parent, session: session)
        m.identities = [Data("kernel.\(session).\(type)".utf8)]
        do { try iopub.send(codec.encode(m)) } catch { log("could not publish \(type): \(error)") }
    }

    func close() {
        isRunning = false
        mainLoopEnded.signal()
        controlEnded.wait()           // the control thread closes its own socket
        capture?.stop()
        capture = nil
        heartbeat.stop()
        for s in [shell, stdin, iopub] { s.close() }
        context.terminate()
    }
}
