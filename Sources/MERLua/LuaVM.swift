import CLua
import CLuaBridge
import Foundation
import MERTensor

/// One Lua 5.4 state with mer-script's modules installed.
///
/// Bindings (`Binding` records, registered by `Registry.swift`) are kept in `bindings`; Lua
/// sees each as a C closure over the shared trampoline in CLuaBridge with the binding's
/// index as upvalue. A binding that fails throws; the dispatcher turns the error into a
/// message on the stack and returns `MER_ERROR`, and the trampoline — a C frame — raises
/// it. No longjmp crosses Swift.
public final class LuaVM {
    public let L: OpaquePointer
    var bindings: [RegisteredBinding] = []
    /// Every documented function, method and field, in registration order.
    var reference: [ReferenceEntry] = []
    /// The name prefix of each userdata type's methods and fields ("optimizer" → "optim.optimizer").
    var typePrefixes: [String: String] = [:]
    /// Metatables of the userdata types, by type name, and their identities for fast checks.
    var metatables: [String: UnsafeRawPointer] = [:]
    /// Bytes of native memory allocated for objects handed to Lua since the last GC step.
    var pendingNativeBytes = 0
    /// Directories searched by `require` after the script's own directory.
    public private(set) var libraryPaths: [String] = []
    /// The Lua thread running the innermost binding call (a coroutine's own state when a
    /// binding runs inside one). Swift code that calls back into Lua outside a `LuaCall` —
    /// a Lua-defined module's `forward` run by a native container — uses it.
    var currentState: OpaquePointer?
    /// Bookkeeping of the `nn` bindings (which tensors are `nn.Parameter`s).
    let nn = NNState()
    /// Where rich output goes in a notebook (`display(x)`, progress bars); nil in scripts and the REPL.
    public weak var displaySink: DisplaySink?
    /// The display ids shown by the running notebook cell (`display(x, {id = name})`).
    var displayIDsInCell = Set<String>()

    /// The thread bindings push their results on: the running coroutine, else the main state.
    var activeState: OpaquePointer { currentState ?? L }

    public init() {
        guard let state = luaL_newstate() else { fatalError("Lua could not allocate its state") }
        L = state
        mer_set_dispatcher(luaDispatch)
        mer_extraspace(L).pointee = Unmanaged.passUnretained(self).toOpaque()
        luaL_openlibs(L)
        installModules()
    }

    deinit { lua_close(L) }

    /// The host owning a Lua thread (coroutines share their main state's extra space).
    static func from(_ L: OpaquePointer) -> LuaVM {
        Unmanaged<LuaVM>.fromOpaque(mer_extraspace(L).pointee!).takeUnretainedValue()
    }

    // MARK: Running code

    /// Where `require` looks: the script's directory first, then the library paths.
    public func setModuleSearchPath(scriptDirectory: String?, libraries: [String]) {
        libraryPaths = libraries
        var entries: [String] = []
        if let dir = scriptDirectory { entries += ["\(dir)/?.lua", "\(dir)/?/init.lua"] }
        for lib in libraries { entries += ["\(lib)/?.lua", "\(lib)/?/init.lua"] }
        lua_getglobal(L, "package")
        lua_getfield(L, -1, "path")
        let existing = String(cString: mer_tostring(L, -1, nil))
        mer_pop(L, 1)
        lua_pushstring(L, (entries + [existing]).joined(separator: ";"))
        lua_setfield(L, -2, "path")
        mer_pop(L, 1)
    }

    public enum Outcome: Equatable {
        case ok
        /// The message includes a traceback whose frames name `file:line`.
        case failed(String)
    }

    /// Compiles and runs a chunk with a traceback handler. `chunkName` follows Lua's
    /// convention (`@file.lua` for files, `=stdin` for literal names).
    @discardableResult
    public func run(code: String, chunkName: String, results: Int32 = 0) -> Outcome {
        let status = code.withCString { p in mer_loadbuffer(L, p, strlen(p), chunkName) }
        if status != LUA_OK { return .failed(popMessage()) }
        return call(arguments: 0, results: results)
    }

    public func run(file path: String, arguments: Int32 = 0) -> Outcome {
        guard let data = FileManager.default.contents(atPath: path) else {
            mer_pop(L, arguments)
            return .failed("cannot open \(path)")
        }
        var bytes = [UInt8](data)
        // Skip a leading #! line, as lua.c does.
        if bytes.starts(with: Array("#!".utf8)) {
            if let nl = bytes.firstIndex(of: 10) { bytes.removeSubrange(0..<nl) } else { bytes = [] }
        }
        let status = bytes.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { mer_loadbuffer(L, $0, b.count, "@" + path) }
        }
        if status != LUA_OK { mer_pop(L, arguments); return .failed(popMessage()) }
        if arguments > 0 { mer_insert(L, -(arguments + 1)) }
        return call(arguments: arguments, results: 0)
    }

    /// Calls the function below `arguments` values on the stack, with interrupts armed.
    func call(arguments: Int32, results: Int32) -> Outcome {
        Interrupts.shared.arm(self)
        defer { Interrupts.shared.disarm() }
        let status = mer_pcall_traceback(L, arguments, results)
        if status != LUA_OK { return .failed(popMessage()) }
        return .ok
    }

    /// Pushes the global `name` without running a metamethod: a script may give `_G` an
    /// `__index` that raises, and no raise may cross a Swift frame (nor happen outside a
    /// protected call, as during completion).
    static func pushRawGlobal(_ L: OpaquePointer, _ name: String) {
        mer_pushglobaltable(L)
        lua_pushstring(L, name)
        lua_rawget(L, -2)
        mer_remove(L, -2)
    }

    func popMessage() -> String {
        let msg = mer_tostring(L, -1, nil).map { String(cString: $0) } ?? "(error object is not a string)"
        mer_pop(L, 1)
        return msg
    }

    // MARK: Native memory accounting

    /// Tells the collector about native bytes now owned by a Lua object, so loops that make
    /// many short-lived tensors get collected promptly (a userdata looks tiny to Lua).
    func noteNativeAllocation(bytes: Int) {
        pendingNativeBytes += bytes
        if pendingNativeBytes >= 1 << 20 {
            let kb = pendingNativeBytes >> 10
            pendingNativeBytes = 0
            mer_call_gc_step(L, Int32(min(kb, Int(Int32.max))))
        }
    }
}
