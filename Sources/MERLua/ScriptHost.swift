import CLua
import CLuaBridge
import Foundation
import MERKernels
import MERNN
import MERTensor

/// What the command line asked for; `mer-script` parses it, `ScriptHost` carries it out.
public struct ScriptOptions {
    public var script: String?
    public var scriptArguments: [String] = []
    public var chunks: [String] = []
    public var interactive = false
    public var seed: UInt64?
    public var threads: Int?
    public var timeout: Double?
    /// Tensor memory budget in bytes (`--max-memory`); nil: physical memory.
    public var maxMemory: Int?
    /// The words before the script on the command line (arg[-n]..arg[-1], as `lua` sets them).
    public var interpreterWords: [String] = ["mer-script"]

    public init() {}
}

public enum ScriptHost {
    /// Runs scripts and chunks, then the REPL if asked (or if there was nothing to run).
    /// Returns the process exit status: 0 on success, 1 on a script error.
    public static func run(_ options: ScriptOptions) -> Int32 {
        if let timeout = options.timeout {
            Interrupts.shared.timeoutSeconds = timeout
            Interrupts.shared.deadline = Date().addingTimeInterval(timeout)
        }
        let vm = makeVM(options)

        for (k, chunk) in options.chunks.enumerated() {
            if case .failed(let message) = vm.run(code: chunk, chunkName: "=(command line -e \(k + 1))") {
                return fail(message)
            }
        }
        if let script = options.script {
            guard FileManager.default.fileExists(atPath: script) else {
                return fail("cannot open \(script): no such file")
            }
            // The script receives its arguments as `...` too, as with `lua`.
            for a in options.scriptArguments { lua_pushstring(vm.L, a) }
            if case .failed(let message) = vm.run(file: script, arguments: Int32(options.scriptArguments.count)) {
                return fail(message)
            }
        }
        if options.interactive || (options.script == nil && options.chunks.isEmpty) {
            Interrupts.shared.deadline = nil
            REPL(vm: vm).run()
        }
        fflush(stdout)
        return 0
    }

    /// A Lua state set up as the options say (seed, threads, memory budget, `require` paths,
    /// `arg`): what a script runs in, and what a notebook kernel keeps for its whole life.
    public static func makeVM(_ options: ScriptOptions) -> LuaVM {
        if let seed = options.seed { Generator.seed(seed) }
        if let threads = options.threads { Parallel.threads = threads }
        if let bytes = options.maxMemory { MemoryBudget.limitBytes = bytes }
        let vm = LuaVM()
        // Not NSString.deletingLastPathComponent: it traps on one-character names in swift-corelibs-foundation.
        let scriptDir = options.script.map { s in s.lastIndex(of: "/").map { $0 == s.startIndex ? "/" : String(s[..<$0]) } ?? "." }
        vm.setModuleSearchPath(scriptDirectory: scriptDir, libraries: libraryDirectories())
        setArgTable(vm, options)
        return vm
    }

    static func fail(_ message: String) -> Int32 {
        fflush(stdout)
        fputs("mer-script: \(message)\n", stderr)
        return 1
    }

    /// `arg[0]` is the script, `arg[1...]` its arguments, `arg[-k]` the words before it.
    static func setArgTable(_ vm: LuaVM, _ options: ScriptOptions) {
        let L = vm.L
        lua_createtable(L, Int32(options.scriptArguments.count), Int32(options.interpreterWords.count + 1))
        let before = options.interpreterWords
        for (k, word) in before.enumerated() {
            lua_pushstring(L, word)
            lua_rawseti(L, -2, lua_Integer(k - before.count))
        }
        if let script = options.script {
            lua_pushstring(L, script)
            lua_rawseti(L, -2, 0)
        }
        for (k, a) in options.scriptArguments.enumerated() {
            lua_pushstring(L, a)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        lua_setglobal(L, "arg")
    }

    /// `Scripts/lib` of the installation: $MER_SCRIPT_LIB, else found by walking up from the
    /// executable (a build folder inside the repository), else from the working directory.
    public static func libraryDirectories() -> [String] {
        let env = ProcessInfo.processInfo.environment
        if let p = env["MER_SCRIPT_LIB"] { return p.split(separator: ":").map(String.init) }
        var candidates: [String] = []
        var dir = (CommandLine.arguments[0] as NSString).resolvingSymlinksInPath
        if !dir.hasPrefix("/") { dir = FileManager.default.currentDirectoryPath + "/" + dir }
        for _ in 0..<6 {
            dir = (dir as NSString).deletingLastPathComponent
            candidates.append(dir + "/Scripts/lib")
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/Scripts/lib")
        var isDir: ObjCBool = false
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isDir) && isDir.boolValue }) {
            return [found]
        }
        return []
    }
}
