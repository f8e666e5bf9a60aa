import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Captures the process's stdout and stderr (file descriptors 1 and 2, so Lua's `print`,
/// `io.write` and native code are all caught) through pipes, and hands what arrives to
/// `forward(stream, text)` on a thread of its own, while a cell is still running.
///
/// `flush()` makes ordering exact: it asks the thread, through a third pipe, to drain both
/// pipes and waits for it. Everything written before the call is in the pipes by then
/// (writes happen before the request), so after `flush()` it has all been forwarded, and
/// a result or display message sent next comes after it.
public final class OutputCapture {
    public typealias Forward = (_ stream: String, _ text: String) -> Void
    let forward: Forward
    private var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1], controlPipe: [Int32] = [-1, -1]
    private let drained = DispatchSemaphore(value: 0)
    private var thread: Thread?
    /// The kernel's own diagnostics go here: the stderr the process started with.
    public private(set) var originalStderr: Int32 = 2
    private var originalStdout: Int32 = 1

    public init(forward: @escaping Forward) { self.forward = forward }

    public func start() throws {
        func makePipe() throws -> [Int32] {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { throw ZMQError("pipe") }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return fds
        }
        outPipe = try makePipe(); errPipe = try makePipe(); controlPipe = try makePipe()
        fflush(stdout); fflush(stderr)
        originalStdout = dup(1)
        originalStderr = dup(2)
        guard dup2(outPipe[1], 1) >= 0, dup2(errPipe[1], 2) >= 0 else { throw ZMQError("dup2") }
        // Line buffering: a `print` in a long cell shows up while the cell runs.
        setvbuf(stdout, nil, _IOLBF, 0)
        for fd in [outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let t = Thread { [self] in self.run() }
        t.name = "mer-output"
        thread = t
        t.start()
    }

    /// Returns once everything written to stdout and stderr so far has been forwarded.
    public func flush() {
        guard thread != nil else { return }
        fflush(stdout); fflush(stderr)
        var byte: UInt8 = UInt8(ascii: "f")
        while write(controlPipe[1], &byte, 1) < 0 && errno == EINTR {}
        drained.wait()
    }

    /// Forwards what is left, stops the thread and gives the process its stdout and stderr back.
    public func stop() {
        guard thread != nil else { return }
        flush()
        var byte: UInt8 = UInt8(ascii: "q")
        while write(controlPipe[1], &byte, 1) < 0 && errno == EINTR {}
        drained.wait()
        thread = nil
        dup2(originalStdout, 1); dup2(originalStderr, 2)
    }

    private func run() {
        // Ctrl-C / the frontend's interrupt is for the thread running Lua, never this one.
        var mask = sigset_t()
        sigemptyset(&mask); sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        var pending: [Int32: [UInt8]] = [outPipe[0]: [], errPipe[0]: []]
        let names = [outPipe[0]: "stdout", errPipe[0]: "stderr"]
        var buffer = [UInt8](repeating: 0, count: 1 << 16)

        func drain(_ fd: Int32) {
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                var bytes = pending[fd]! + buffer[0..<n]
                // Hold back an incomplete UTF-8 sequence at the end until its other bytes come.
                let keep = OutputCapture.incompleteSuffix(bytes)
                pending[fd] = Array(bytes.suffix(keep))
                bytes.removeLast(keep)
                if !bytes.isEmpty { forward(names[fd]!, String(decoding: bytes, as: UTF8.self)) }
            }
        }

        while true {
            var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0),
                       pollfd(fd: controlPipe[0], events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 3, -1) < 0 { continue }
            if fds[0].revents != 0 { drain(outPipe[0]) }
            if fds[1].revents != 0 { drain(errPipe[0]) }
            if fds[2].revents != 0 {
                var byte: UInt8 = 0
                guard read(controlPipe[0], &byte, 1) == 1 else { continue }
                drain(outPipe[0]); drain(errPipe[0])
                if byte == UInt8(ascii: "q") {
                    for (fd, rest) in pending where !rest.isEmpty { forward(names[fd]!, String(decoding: rest, as: UTF8.self)) }
                    drained.signal()
                    return
                }
                drained.signal()
            }
        }
    }

    /// How many bytes at the end of `bytes` start a UTF-8 sequence that is not complete yet.
    static func incompleteSuffix(_ bytes: [UInt8]) -> Int {
        if bytes.isEmpty { return 0 }
        for back in 1...min(3, bytes.count) {
            let b = bytes[bytes.count - back]
            if b & 0xC0 == 0x80 { continue }            // a continuation byte: look further back
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            return length > back ? back : 0
        }
        return 0
    }
}
