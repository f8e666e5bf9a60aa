import CLuaBridge
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C and `--timeout` for running scripts. As in lua.c, the signal handler does only
/// async-signal-safe work: it asks Lua (through a debug hook set in C) to raise an error
/// at the next instruction, so a runaway loop stops with a traceback and the REPL survives.
final class Interrupts {
    static let shared = Interrupts()
    private var armedState: OpaquePointer?
    private var depth = 0
    private var timer: DispatchSourceTimer?
    /// Wall-clock deadline for the whole run (`--timeout`), if any.
    var deadline: Date?
    var timeoutSeconds: Double = 0

    /// Installs the SIGINT handler for the duration of a call into Lua (nesting allowed).
    func arm(_ vm: LuaVM) {
        depth += 1
        if depth > 1 { return }
        armedState = vm.L
        currentInterruptTarget = vm.L
        signal(SIGINT, interruptHandler)
        // A parent may have started us with SIGINT blocked; Ctrl-C must still work.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        if let deadline = deadline {
            let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
            let L = vm.L
            let seconds = timeoutSeconds
            t.schedule(deadline: .now() + max(0, deadline.timeIntervalSinceNow))
            t.setEventHandler {
                timeoutMessage = strdup("timeout: the script ran longer than --timeout \(formatSeconds(seconds)) s and was stopped")
                mer_request_interrupt(L, timeoutMessage)
            }
            t.resume()
            timer = t
        }
    }

    func disarm() {
        depth -= 1
        if depth > 0 { return }
        timer?.cancel()
        timer = nil
        signal(SIGINT, SIG_DFL)
        if let L = armedState { mer_clear_interrupt(L) }
        currentInterruptTarget = nil
        armedState = nil
    }
}

private func formatSeconds(_ s: Double) -> String { s == s.rounded() ? String(Int(s)) : String(s) }

nonisolated(unsafe) private var currentInterruptTarget: OpaquePointer?
nonisolated(unsafe) private var timeoutMessage: UnsafeMutablePointer<CChar>?
private let interruptText = strdup("interrupted!")

private func interruptHandler(_ signal: Int32) {
    if let L = currentInterruptTarget { mer_request_interrupt(L, interruptText) }
}
