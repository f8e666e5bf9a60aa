import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// mer-script running on a real pseudo-terminal, as a user at a terminal meets it: the
/// child is a session leader whose controlling terminal is the pty, so a typed Ctrl-C
/// (0x03) makes the line discipline send it SIGINT.
final class TerminalSession {
    let pid: pid_t
    let master: Int32
    /// Output not yet consumed by `expect`.
    private(set) var screen = ""

    init(executable: String, environment: [String]) throws {
        // posix_openpt/ptsname are not exported to Swift; the Linux ioctls do the same.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        guard master >= 0 else { throw TerminalError("cannot open /dev/ptmx") }
        var unlock: Int32 = 0, number: UInt32 = 0
        guard ioctl(master, UInt(0x4004_5431) /* TIOCSPTLCK */, &unlock) == 0,
              ioctl(master, UInt(0x8004_5430) /* TIOCGPTN */, &number) == 0 else {
            close(master); throw TerminalError("cannot unlock the pseudo-terminal")
        }
        let slavePath = "/dev/pts/\(number)"
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // POSIX_SPAWN_SETSID | SETSIGMASK | SETSIGDEF: a new session, nothing blocked or
        // ignored from the test runner's own signal state.
        posix_spawnattr_setflags(&attr, Int16(0x80 | 0x08 | 0x04))
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults); sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        var child: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        guard posix_spawn(&child, executable, &actions, &attr, argv, envp) == 0 else {
            close(master); throw TerminalError("cannot start \(executable)")
        }
        pid = child
    }

    deinit {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 { kill(pid, SIGKILL); waitpid(pid, &status, 0) }
        close(master)
    }

    func type(_ s: String) { _ = s.withCString { Glibc.write(master, $0, strlen($0)) } }

    /// Reads until `text` has appeared (or `timeout` seconds pass — a liveness bound, not a
    /// timing assertion) and consumes the output through it. Returns whether it appeared.
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buf = [UInt8](repeating: 0, count: 4096)
        while !screen.contains(text) && Date() < deadline {
            var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 100) > 0 {
                let n = read(master, &buf, buf.count)
                if n > 0 { screen += String(decoding: buf[0..<n], as: UTF8.self) } else { break }
            }
        }
        guard let r = screen.range(of: text) else { return false }
        screen = String(screen[r.upperBound...])
        return true
    }

    func expect(_ text: String, timeout: Double = 30, file: StaticString = #filePath, line: UInt = #line) {
        let before = screen
        if !waitFor(text, timeout: timeout) {
            XCTFail("expected \(text.debugDescription) on the terminal, got:\n\(before)\(screen)", file: file, line: line)
        }
    }

    /// Waits until the line editor reads the terminal (libedit's raw mode: ICANON off).
    /// libedit prints its prompt before it leaves canonical mode, and a Ctrl-D typed in
    /// between is an end-of-file that Linux hands over as a NUL byte when the mode changes,
    /// so the prompt alone does not say that Ctrl-D will be seen as Ctrl-D.
    @discardableResult
    func waitForLineEditor(timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var t = termios()
        while Date() < deadline {
            if tcgetattr(master, &t) == 0 && (t.c_lflag & tcflag_t(ICANON)) == 0 { return true }
            usleep(2_000)
        }
        return false
    }

    /// Ctrl-D on an empty line, once the line editor reads; the REPL's wait status, or nil.
    func endWithCtrlD() -> Int32? {
        guard waitForLineEditor() else { return nil }
        type("\u{4}")
        return exitStatus()
    }

    /// Whether the process is still running.
    var isAlive: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Waits for the process to end; its wait status, or nil if it did not end in time.
    /// Keeps reading its output meanwhile: a terminal whose output nobody reads blocks the
    /// writer, and libedit's mode switches wait for the output to drain.
    func exitStatus(timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var buf = [UInt8](repeating: 0, count: 4096)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { return nil }
            var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 20) > 0 {
                let n = read(master, &buf, buf.count)
                if n > 0 { screen += String(decoding: buf[0..<n], as: UTF8.self) }
            }
        }
        return status
    }
}

struct TerminalError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
