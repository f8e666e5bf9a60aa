import CLuaBridge
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ctrl-C and `--timeout` for running scripts. As in lua.c, the signal handler does only
/// async-signal-safe work: it asks Lua (through a debug hook set in C) to raise an error
/// at the next instruction, so a runaway loop stops with a traceback and the REPL survives.
///
/// Outside a call into Lua a script run takes SIGINT's default action (Ctrl-C ends it). The
/// REPL instead keeps the handler installed for its whole life (`enterREPL`): a Ctrl-C that
/// lands while nothing runs in Lua — printing, writing history, between two calls — is only
/// remembered (`takeStrayInterrupt`), so no moment exists at which Ctrl-C ends the session.
final class Interrupts {
    static let shared = Interrupts()
    private var armedState: OpaquePointer?
    private var depth = 0
    private var timer: DispatchSourceTimer?
    private var replActive = false
    /// Wall-clock deadline for the whole run (`--timeout`), if any.
    var deadline: Date?
    var timeoutSeconds: Double = 0

    /// Installs the SIGINT handler for the duration of a call into Lua (nesting allowed).
    func arm(_ vm: LuaVM) {
        depth += 1
        if depth > 1 { return }
        armedState = vm.L
        currentInterruptTarget = vm.L
        installHandler(restartingSystemCalls: true)
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
        // Order matters: stop targeting Lua first, so a signal from here on is a stray one.
        currentInterruptTarget = nil
        if !replActive { signal(SIGINT, SIG_DFL) }
        if let L = armedState {
            // A Ctrl-C that arrived after the last Lua instruction ran was never delivered.
            if mer_interrupt_pending() != 0 { strayInterrupt = 1 }
            mer_clear_interrupt(L)
        }
        armedState = nil
    }

    /// From now on SIGINT never takes its default action (until `leaveREPL`).
    func enterREPL() {
        replActive = true
        installHandler(restartingSystemCalls: true)
    }

    func leaveREPL() {
        replActive = false
        if depth == 0 { signal(SIGINT, SIG_DFL) }
    }

    /// Whether a Ctrl-C arrived while no Lua code ran since the last call; clears it.
    func takeStrayInterrupt() -> Bool {
        let seen = strayInterrupt != 0
        strayInterrupt = 0
        return seen
    }

    /// The one SIGINT handler. Without SA_RESTART a blocked terminal read fails with EINTR,
    /// which is how the REPL's prompt learns of a Ctrl-C; everywhere else system calls
    /// restart, so a Ctrl-C while output is written does not cut the output short.
    func installHandler(restartingSystemCalls: Bool) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = interruptHandler
        sigemptyset(&action.sa_mask)
        action.sa_flags = restartingSystemCalls ? Int32(SA_RESTART) : 0
        sigaction(SIGINT, &action, nil)
    }
}

private func formatSeconds(_ s: Double) -> String { s == s.rounded() ? String(Int(s)) : String(s) }

nonisolated(unsafe) private var currentInterruptTarget: OpaquePointer?
nonisolated(unsafe) private var strayInterrupt: sig_atomic_t = 0
nonisolated(unsafe) private var timeoutMessage: UnsafeMutablePointer<CChar>?
private let interruptText = strdup("interrupted!")

private func interruptHandler(_ signal: Int32) {
    if let L = currentInterruptTarget { mer_request_interrupt(L, interruptText) } else { strayInterrupt = 1 }
}
