import ArgumentParser
import Foundation
import MERJupyter
import MERLua

/// `mer-script jupyter install [--user | --prefix DIR]` writes the kernelspec;
/// `mer-script jupyter kernel CONNECTION_FILE` is what Jupyter starts through it.
enum JupyterCommand {
    static let usage = "usage: mer-script jupyter install [--user | --prefix DIR] | mer-script jupyter kernel CONNECTION_FILE"

    static func run(_ words: [String], options: ScriptOptions, kernelFlags: [String] = []) throws -> Int32 {
        switch words.first {
        case "install":
            return try install(Array(words.dropFirst()), kernelFlags: kernelFlags)
        case "kernel":
            guard words.count == 2 else { throw ValidationError(usage) }
            return try kernel(connectionFile: words[1], options: options)
        default:
            throw ValidationError(usage)
        }
    }

    /// `kernelFlags` (--threads 2, --max-memory 8G, --seed 1) go into the kernel's command line.
    static func install(_ words: [String], kernelFlags: [String]) throws -> Int32 {
        let dataDirectory: String
        switch words.count {
        case 0: dataDirectory = KernelSpec.userDataDirectory()
        case 1 where words[0] == "--user": dataDirectory = KernelSpec.userDataDirectory()
        case 2 where words[0] == "--prefix":
            var prefix = words[1]
            if !prefix.hasPrefix("/") { prefix = FileManager.default.currentDirectoryPath + "/" + prefix }
            dataDirectory = prefix + "/share/jupyter"
        default: throw ValidationError(usage)
        }
        // The kernel must start from any directory: the absolute path of this very binary.
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let spec = KernelSpec(name: "mer-script", displayName: "mer-script (Lua 5.4)", language: "lua",
                              argv: [executable] + kernelFlags + ["jupyter", "kernel", "{connection_file}"])
        let folder = try spec.install(dataDirectory: dataDirectory)
        print("Installed the mer-script kernel in \(folder)")
        return 0
    }

    static func kernel(connectionFile: String, options: ScriptOptions) throws -> Int32 {
        let connection: ConnectionInfo
        do { connection = try ConnectionInfo.load(path: connectionFile) } catch {
            fputs("mer-script: \(error)\n", stderr)
            return 1
        }
        // No terminal stands behind a kernel (Jupyter gives it an idle pipe): io.read() at end of
        // input returns nil at once instead of blocking the cell forever.
        let null = open("/dev/null", O_RDONLY)
        if null >= 0 { dup2(null, 0); close(null) }
        let kernel = LuaKernel(vm: ScriptHost.makeVM(options))
        let server = try KernelServer(connection: connection, backend: kernel)
        kernel.server = server
        try server.run()
        return 0
    }
}

/// Joins the two halves: the protocol's backend on one side, MERLua's notebook session and
/// display sink on the other.
final class LuaKernel: KernelBackend, DisplaySink {
    var session: NotebookSession!
    weak var server: KernelServer?

    init(vm: LuaVM) { session = NotebookSession(vm: vm, sink: self) }

    func execute(_ code: String) -> ExecutionOutcome {
        switch session.execute(code) {
        case .value(let bundle): return .ok(bundle)
        case let .failure(name, message, traceback): return .error(name: name, value: message, traceback: traceback)
        }
    }

    func complete(_ code: String, cursor: Int) -> CompletionResult {
        let r = session.complete(code, cursor: cursor)
        return CompletionResult(matches: r.matches, start: r.start, end: r.end)
    }

    func inspect(_ code: String, cursor: Int) -> String? { session.inspect(code, cursor: cursor) }

    func isComplete(_ code: String) -> CodeCompleteness { CodeCompleteness(rawValue: session.isComplete(code)) ?? .unknown }

    var info: KernelInfo {
        KernelInfo(implementation: "mer-script", implementationVersion: LuaVM.version, languageName: "lua", languageVersion: "5.4",
                   fileExtension: ".lua", mimetype: "text/x-lua",
                   banner: "mer-script \(LuaVM.version) (Lua 5.4): tensors, nn, optim, image, data, eval, plot; help() for help")
    }

    func display(_ bundle: [String: String], id: String?, update: Bool) { server?.display(bundle, id: id, update: update) }
}
