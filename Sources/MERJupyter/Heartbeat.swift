import Foundation

/// The heartbeat channel: every message received on the hb socket is sent straight back.
/// It runs on its own thread so a frontend sees the kernel alive while a long cell runs.
final class Heartbeat {
    private let context: ZMQContext
    private let endpoint: String
    private let lock = NSLock()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    private let bound = DispatchSemaphore(value: 0)
    private var bindError: Error?

    init(context: ZMQContext, endpoint: String) {
        self.context = context
        self.endpoint = endpoint
    }

    /// Starts the thread; returns once the socket is bound (or throws why it could not be).
    func start() throws {
        let t = Thread { [self] in self.run() }
        t.name = "mer-heartbeat"
        t.start()
        bound.wait()
        if let e = bindError { throw e }
    }

    func stop() {
        lock.lock(); stopping = true; lock.unlock()
        finished.wait()
    }

    private var shouldStop: Bool { lock.lock(); defer { lock.unlock() }; return stopping }

    private func run() {
        var mask = sigset_t()
        sigemptyset(&mask); sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        // The socket is made, used and closed on this thread only.
        let socket: ZMQSocket
        do {
            socket = try ZMQSocket(context, .rep)
            socket.limitMessageSize(1 << 16)
            try socket.bind(endpoint)
        } catch {
            bindError = error
            bound.signal(); finished.signal()
            return
        }
        bound.signal()
        // Short polls so that stop() is noticed within a tenth of a second.
        while !shouldStop {
            guard let ready = try? ZMQSocket.poll([socket], timeout: 100), !ready.isEmpty else { continue }
            if let frames = try? socket.receive(wait: false) { try? socket.send(frames) }
        }
        socket.close()
        finished.signal()
    }
}
