import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The control channel on a thread of its own: shutdown and interrupt requests must be
/// answered while the main thread is busy running a cell (a runaway `while true do end`
/// included). Requests every channel accepts (kernel_info, interrupt, shutdown) are answered
/// by `answerAnywhere`, so shell and control agree.
extension KernelServer {
    func serveControl() {
        var mask = sigset_t()
        sigemptyset(&mask); sigaddset(&mask, SIGINT)
        pthread_sigmask(SIG_BLOCK, &mask, nil)
        while isRunning {
            guard let ready = try? ZMQSocket.poll([control], timeout: 100), !ready.isEmpty else { continue }
            while isRunning, let frames = try? control.receive(wait: false) {
                let request: Message
                do { request = try codec.decode(frames) } catch {
                    log("dropped a message: \(error)")
                    continue
                }
                // Status messages name this request, never the cell the main thread may be running.
                publishStatus("busy", parent: request.header)
                if let answer = answerAnywhere(request) {
                    reply(request, on: control, answer)
                } else {
                    log("ignored a \(request.type.isEmpty ? "message without a type" : request.type) on control")
                }
                publishStatus("idle", parent: request.header)
            }
        }
        // A shutdown while a cell runs: interrupt it (again, if the first signal came before
        // Lua was listening) until the main loop has noticed.
        while mainLoopEnded.wait(timeout: .now() + 0.2) == .timedOut {
            if isExecuting { kill(getpid(), SIGINT) }
        }
        control.close()
        controlEnded.signal()
    }

    /// The reply content of a request that any channel answers the same way, or nil.
    func answerAnywhere(_ request: Message) -> JSONObject? {
        switch request.type {
        case "kernel_info_request":
            return kernelInfo()
        case "interrupt_request":
            // For frontends that interrupt by message: the same path as the signal, which
            // the thread running Lua receives (every other thread blocks SIGINT).
            kill(getpid(), SIGINT)
            return ["status": "ok"]
        case "shutdown_request":
            isRunning = false
            return ["status": "ok", "restart": request.content["restart"] as? Bool ?? false]
        default:
            return nil
        }
    }
}
