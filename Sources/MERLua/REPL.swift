import CEdit
import CLua
import CLuaBridge
import Foundation

/// The interactive loop: libedit line editing with persistent history and tab completion
/// on a terminal, plain line reading when stdin is a pipe. Like `lua`, an expression on its
/// own line prints its values (`= x` too), and an incomplete chunk asks for more lines.
public final class REPL {
    let vm: LuaVM
    let interactive: Bool
    let historyPath: String?

    public init(vm: LuaVM, historyPath: String? = REPL.defaultHistoryPath) {
        self.vm = vm
        self.interactive = isatty(0) != 0
        self.historyPath = historyPath
    }

    public static var defaultHistoryPath: String? {
        if let p = ProcessInfo.processInfo.environment["MER_HISTORY"] { return p.isEmpty ? nil : p }
        return ProcessInfo.processInfo.environment["HOME"].map { $0 + "/.mer_script_history" }
    }

    public func run() {
        if interactive {
            print("mer-script \(LuaVM.version) (Lua 5.4) — help() for help, Ctrl-D to quit")
            setUpLineEditor()
        }
        // While the REPL runs, Ctrl-C never ends the process: at the prompt it cancels the
        // line, inside Lua it raises "interrupted!", anywhere else it is reported.
        let interrupts = Interrupts.shared
        interrupts.enterREPL()
        defer { interrupts.leaveREPL() }
        var buffer = ""
        loop: while true {
            fflush(stdout)
            if interrupts.takeStrayInterrupt() {
                report("Ctrl-C: nothing was running to interrupt")
            }
            let line: String
            switch readLine(prompt: buffer.isEmpty ? "> " : ">> ") {
            case .endOfInput:
                break loop
            case .interrupted:
                // Ctrl-C at the prompt abandons the line (and any unfinished chunk), like a shell.
                _ = interrupts.takeStrayInterrupt()
                print(); buffer = ""
                continue
            case .line(let text):
                line = text
            }
            // A Ctrl-C while the line was typed that the line editor did not act on (it
            // landed between two of its reads): the line is cancelled all the same.
            if interrupts.takeStrayInterrupt() {
                report("Ctrl-C: line discarded")
                buffer = ""
                continue
            }
            if buffer.isEmpty && line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            buffer += buffer.isEmpty ? line : "\n" + line
            switch evaluate(buffer) {
            case .incomplete:
                continue
            case .done:
                if interactive { addHistory(buffer) }
                buffer = ""
            }
        }
        if interactive {
            print()
            if let path = historyPath { _ = write_history(path) }
        }
    }

    enum Result { case done, incomplete }

    /// Compiles `source` as `return <source>` first (an expression prints its values), then
    /// as a statement; a syntax error at end of input means the chunk continues.
    func evaluate(_ source: String) -> Result {
        let L = vm.L
        var code = source
        if code.hasPrefix("=") { code = "return " + code.dropFirst() }
        let top = lua_gettop(L)
        var status = ("return " + code).withCString { mer_loadbuffer(L, $0, strlen($0), "=stdin") }
        if status != LUA_OK {
            mer_pop(L, 1)
            status = code.withCString { mer_loadbuffer(L, $0, strlen($0), "=stdin") }
        }
        if status == LUA_ERRSYNTAX {
            let msg = String(cString: mer_tostring(L, -1, nil))
            if msg.hasSuffix("<eof>") { mer_pop(L, 1); return .incomplete }
        }
        if status != LUA_OK {
            report(vm.popMessage())
            return .done
        }
        switch vm.call(arguments: 0, results: LUA_MULTRET) {
        case .failed(let message):
            report(message)
        case .ok:
            let n = lua_gettop(L) - top
            if n > 0 {
                // Printing runs Lua (`__tostring`), so it is interruptible like the chunk.
                LuaVM.pushRawGlobal(L, "print")
                mer_insert(L, top + 1)
                if case .failed(let message) = vm.call(arguments: n, results: 0) { report(message) }
            }
        }
        lua_settop(L, top)
        return .done
    }

    func report(_ message: String) {
        fputs(message + "\n", stderr)
        fflush(stderr)
    }

    // MARK: Input

    enum Input { case line(String), interrupted, endOfInput }

    func readLine(prompt: String) -> Input {
        if !interactive { return Swift.readLine(strippingNewline: true).map(Input.line) ?? .endOfInput }
        // The same handler without SA_RESTART: the terminal read fails with EINTR and
        // readline returns. Swapping flags keeps a handler installed at every instant.
        Interrupts.shared.installHandler(restartingSystemCalls: false)
        defer { Interrupts.shared.installHandler(restartingSystemCalls: true) }
        // readline gives NULL both at end of input and when its read failed with EINTR.
        errno = 0
        guard let p = CEdit.readline(prompt) else { return errno == EINTR ? .interrupted : .endOfInput }
        defer { free(p) }
        return .line(String(cString: p))
    }

    func addHistory(_ entry: String) {
        _ = add_history(entry)
        if let path = historyPath { _ = write_history(path) }
    }

    func setUpLineEditor() {
        // libedit's own SIGINT handler puts the terminal in cooked mode and re-raises; when
        // the signal lands between two of its reads it then goes on editing, and the modes
        // it saves get mixed up (ISIG ends up off: Ctrl-C stops working). The REPL has its
        // handler installed at every instant, so libedit must leave signals alone. Must be
        // set before anything initialises libedit (read_history does).
        rl_catch_signals = 0
        replForCompletion = vm
        if let path = historyPath { _ = read_history(path) }
        rl_attempted_completion_function = attemptCompletion
        rl_completer_word_break_characters = strdup(" \t\n\"\\'><=;+-*/%^~#{}()[],")
        rl_completion_append_character = 0
    }
}

nonisolated(unsafe) private var replForCompletion: LuaVM?
nonisolated(unsafe) private var pendingCompletions: [String] = []

private func attemptCompletion(_ text: UnsafePointer<CChar>?, _ start: Int32, _ end: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    guard let text = text, let vm = replForCompletion else { return nil }
    pendingCompletions = vm.completions(for: String(cString: text))
    if pendingCompletions.isEmpty { return nil }
    return rl_completion_matches(text, nextCompletion)
}

private func nextCompletion(_ text: UnsafePointer<CChar>?, _ state: Int32) -> UnsafeMutablePointer<CChar>? {
    if state == 0 { completionCursor = 0 }
    guard completionCursor < pendingCompletions.count else { return nil }
    defer { completionCursor += 1 }
    return strdup(pendingCompletions[completionCursor])
}
nonisolated(unsafe) private var completionCursor = 0
