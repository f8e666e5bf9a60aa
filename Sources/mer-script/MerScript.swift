import ArgumentParser
import MERLua

/// The command line: parses options and hands everything to `ScriptHost`.
@main
struct MerScript: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mer-script",
        abstract: "Lua 5.4 with native tensors, layers and data loaders for micro-expression recognition.",
        discussion: """
        With a script, runs it with `arg` and `...` set as the `lua` program sets them; \
        without one, starts the interactive REPL. Exit status: 0 on success, 1 on a script error. \
        `mer-script merge runs/<dir>` pools the folds of a run whose folds ran separately (--fold K). \
        `mer-script doc` prints the Lua API reference as Markdown (the same texts as help(x)). \
        `mer-script jupyter install [--user | --prefix DIR]` installs the notebook kernel (Jupyter then \
        starts it as `mer-script jupyter kernel CONNECTION_FILE`).
        """,
        version: "mer-script \(LuaVM.version) (Lua 5.4)")

    @Option(name: .customShort("e"), help: ArgumentHelp("Run a chunk of Lua code (repeatable), before the script.", valueName: "code"))
    var chunks: [String] = []

    @Flag(name: .customShort("i"), help: "Enter the REPL after running the script or chunks.")
    var interactive = false

    @Option(help: "Seed the global random generator (same seed and threads: same numbers).")
    var seed: UInt64?

    @Option(help: "Worker threads for the kernels (default: the cores this process may run on, see mer.cores()).")
    var threads: Int?

    @Option(help: ArgumentHelp("Stop the script with an error after this many seconds.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .customLong("max-memory"), help: ArgumentHelp("Most tensor memory the script may hold, e.g. 8G, 512M or bytes (default: physical memory).", valueName: "size"))
    var maxMemory: String?

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The Lua script to run, and its arguments.", valueName: "script [args...]"))
    var scriptAndArguments: [String] = []

    func validate() throws {
        if let t = threads, !(1...256).contains(t) { throw ValidationError("--threads must be between 1 and 256, got \(t)") }
        if let t = timeout, !(t > 0) { throw ValidationError("--timeout must be a positive number of seconds, got \(t)") }
        if let m = maxMemory, MerScript.bytes(m) == nil {
            throw ValidationError("--max-memory expects a size such as 8G, 512M, 100K or a byte count, got '\(m)'")
        }
    }

    /// "8G", "512M", "100K", "123" → bytes (binary units); nil if it is not such a size.
    static func bytes(_ text: String) -> Int? {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = text.uppercased()
        var scale = 1
        if let last = digits.last, let u = units[last] { scale = u; digits.removeLast() }
        if digits.hasSuffix("I") { return nil }
        guard let n = Int(digits), n > 0 else { return nil }
        let (v, overflow) = n.multipliedReportingOverflow(by: scale)
        return overflow ? nil : v
    }

    func run() throws {
        // The passthrough argument swallows the built-in flags when they come first.
        switch scriptAndArguments.first {
        case "--help", "-h":
            print(MerScript.helpMessage())
            return
        case "--version":
            print(MerScript.configuration.version)
            return
        default:
            break
        }
        if scriptAndArguments == ["doc"] {
            print(LuaVM().apiReference(), terminator: "")
            return
        }
        var options = ScriptOptions()
        options.chunks = chunks
        options.interactive = interactive
        options.seed = seed
        options.threads = threads
        options.timeout = timeout
        options.maxMemory = maxMemory.flatMap(MerScript.bytes)
        if scriptAndArguments.first == "jupyter" {
            // `mer-script jupyter install [--user | --prefix DIR]`, `mer-script jupyter kernel FILE`.
            // The options given before `jupyter install` are what every kernel starts with.
            var flags: [String] = []
            if let s = seed { flags += ["--seed", String(s)] }
            if let t = threads { flags += ["--threads", String(t)] }
            if let m = maxMemory { flags += ["--max-memory", m] }
            let status = try JupyterCommand.run(Array(scriptAndArguments.dropFirst()), options: options, kernelFlags: flags)
            if status != 0 { throw ExitCode(status) }
            return
        }
        if scriptAndArguments.first == "merge" {
            // `mer-script merge runs/<dir>`: pool the folds of a run made with --fold K.
            guard scriptAndArguments.count == 2 else { throw ValidationError("usage: mer-script merge runs/<dir>") }
            options.chunks.append("require('experiment').merge(arg[1])")
            options.scriptArguments = [scriptAndArguments[1]]
        } else if let first = scriptAndArguments.first {
            options.script = first
            options.scriptArguments = Array(scriptAndArguments.dropFirst())
            // The words before the script, as `lua` exposes them in arg[-n]..arg[-1].
            let all = CommandLine.arguments
            let cut = all.count - scriptAndArguments.count
            options.interpreterWords = Array(all[..<max(1, cut)])
        }
        let status = ScriptHost.run(options)
        if status != 0 { throw ExitCode(status) }
    }
}
