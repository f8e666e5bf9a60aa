import CLua
import CLuaBridge
import Foundation

/// The Lua side of a notebook kernel: one Lua state for the kernel's life, cells run as
/// the REPL runs lines (protected, interruptible, tracebacks naming `cell:<line>`), the
/// REPL's completer and `help` texts for completion and inspection.
public final class NotebookSession {
    public let vm: LuaVM

    public enum CellResult {
        /// The display of the cell's final value (nil when it has none).
        case value([String: String]?)
        case failure(name: String, message: String, traceback: [String])
    }

    /// Installs `sink` for display() and progress bars; SIGINT from now on stops the running
    /// cell ("interrupted!") and is ignored between cells, never ending the kernel.
    public init(vm: LuaVM, sink: DisplaySink) {
        self.vm = vm
        vm.displaySink = sink
        Interrupts.shared.enterREPL()
    }

    deinit { Interrupts.shared.leaveREPL() }

    // MARK: Running a cell

    public func execute(_ code: String) -> CellResult {
        let L = vm.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        // An interrupt that arrived while no cell ran was meant for an earlier one.
        _ = Interrupts.shared.takeStrayInterrupt()
        vm.displayIDsInCell = []
        if let message = compile(code) {
            return .failure(name: "SyntaxError", message: message, traceback: [message])
        }
        switch vm.call(arguments: 0, results: LUA_MULTRET) {
        case .failed(let message):
            let lines = message.components(separatedBy: "\n")
            let first = lines.first ?? message
            return .failure(name: first.hasSuffix("interrupted!") ? "Interrupted" : "LuaError", message: first, traceback: lines)
        case .ok:
            let n = lua_gettop(L) - top
            if n == 0 { return .value(nil) }
            if n == 1 { return .value(vm.displayBundle(L, top + 1)) }
            // Several values print as the REPL prints them: tab-separated.
            let text = (1...n).map { LuaVM.protectedToString(L, top + Int32($0)) }.joined(separator: "\t")
            return .value(["text/plain": text])
        }
    }

    /// Loads the cell as a function on the stack; returns the syntax error otherwise.
    ///
    /// As in the REPL a lone expression is returned (`x`, `= x` too). A cell whose last lines
    /// are an expression after statements returns that expression as well (`local a = 2\na * 3`
    /// shows 6): the statements must compile on their own, so a split inside a block (the
    /// body of a loop) never happens.
    func compile(_ code: String) -> String? {
        let L = vm.L
        func load(_ source: String) -> Bool {
            let status = source.withCString { mer_loadbuffer(L, $0, strlen($0), "=cell") }
            if status != LUA_OK { mer_pop(L, 1) }
            return status == LUA_OK
        }
        var source = code
        if source.hasPrefix("=") { source = "return " + source.dropFirst() }
        if load("return " + source) { return nil }
        var lines = source.components(separatedBy: "\n")
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        if lines.count > 1 {
            for split in stride(from: lines.count - 1, through: max(1, lines.count - 50), by: -1) {
                let head = lines[..<split].joined(separator: "\n"), tail = lines[split...].joined(separator: "\n")
                guard load(head) else { continue }
                mer_pop(L, 1)
                guard load("return " + tail) else { continue }
                mer_pop(L, 1)
                if load(head + "\nreturn " + tail) { return nil }
            }
        }
        let status = source.withCString { mer_loadbuffer(L, $0, strlen($0), "=cell") }
        if status == LUA_OK { return nil }
        return vm.popMessage()
    }

    /// "complete", "incomplete" (Lua stopped at `<eof>`: more lines will come) or "invalid".
    public func isComplete(_ code: String) -> String {
        let L = vm.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        guard let message = compile(code) else { return "complete" }
        return message.hasSuffix("<eof>") ? "incomplete" : "invalid"
    }

    // MARK: Completion and help

    static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:".unicodeScalars)

    /// Completions of the dotted name ending at `cursor` (in Unicode scalars): the REPL's
    /// completer, which only reads tables raw and never runs script code.
    public func complete(_ code: String, cursor: Int) -> (matches: [String], start: Int, end: Int) {
        let scalars = Array(code.unicodeScalars.prefix(max(0, cursor)))
        var start = scalars.count
        while start > 0 && NotebookSession.nameCharacters.contains(scalars[start - 1]) { start -= 1 }
        let word = String(String.UnicodeScalarView(scalars[start...]))
        return (vm.completions(for: word), start, scalars.count)
    }

    /// help() text for the dotted name at or just before `cursor` (`tensor.zeros(` with the cursor
    /// after the parenthesis asks about tensor.zeros); nil when nothing is known by that name.
    public func inspect(_ code: String, cursor: Int) -> String? {
        let scalars = Array(code.unicodeScalars)
        let names = NotebookSession.nameCharacters
        var end = min(max(0, cursor), scalars.count)
        if end > 0 && names.contains(scalars[end - 1]) {
            // Inside a name: the whole dotted name (the cursor in `plot` of `plot.line` asks about plot.line).
            while end < scalars.count && names.contains(scalars[end]) { end += 1 }
        } else {
            // Just after a call's parenthesis: the function before it.
            while end > 0 && (scalars[end - 1] == "(" || scalars[end - 1] == " ") { end -= 1 }
        }
        var start = end
        while start > 0 && names.contains(scalars[start - 1]) { start -= 1 }
        let name = String(String.UnicodeScalarView(scalars[start..<end])).trimmingCharacters(in: CharacterSet(charactersIn: ".:"))
        guard !name.isEmpty else { return nil }
        let L = vm.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_pushstring(L, name)
        let text = vm.helpText(LuaCall(L: L, vm: vm, name: "help", isMethod: false), lua_gettop(L))
        return text.hasPrefix("help: no binding named") ? nil : text
    }
}
