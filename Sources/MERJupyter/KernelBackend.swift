/// What the protocol side asks of a language: the kernel server (sockets, signing,
/// message types) knows nothing of Lua, and the Lua side nothing of ZeroMQ; the executable
/// joins the two by conforming a type to this protocol.
///
/// Interrupts arrive as SIGINT (the kernelspec's interrupt_mode "signal", and
/// interrupt_request, which the server turns into the same signal): the backend installs a
/// handler that stops a running cell and ignores the signal between cells.
public protocol KernelBackend: AnyObject {
    /// Runs one cell. Its stdout and stderr are captured by the server; rich output made
    /// while it runs goes through `KernelServer.display`.
    func execute(_ code: String) -> ExecutionOutcome
    /// Completions of the word ending at `cursor` (a count of Unicode scalars, as protocol 5.2+ counts).
    func complete(_ code: String, cursor: Int) -> CompletionResult
    /// Help for the name around `cursor`, if there is one.
    func inspect(_ code: String, cursor: Int) -> String?
    func isComplete(_ code: String) -> CodeCompleteness
    /// The kernel_info fields that describe the language and this implementation.
    var info: KernelInfo { get }
}

/// MIME type → data: text as is, binary formats (image/png) base64-encoded, as the protocol carries them.
public typealias MimeBundle = [String: String]

public enum ExecutionOutcome {
    /// Success, with the display of the cell's value when it has one.
    case ok(MimeBundle?)
    case error(name: String, value: String, traceback: [String])
}

public struct CompletionResult: Equatable {
    public var matches: [String]
    public var start: Int
    public var end: Int
    public init(matches: [String], start: Int, end: Int) { self.matches = matches; self.start = start; self.end = end }
}

public enum CodeCompleteness: String { case complete, incomplete, invalid, unknown }

public struct KernelInfo {
    public var implementation: String
    public var implementationVersion: String
    public var languageName: String
    public var languageVersion: String
    public var fileExtension: String
    public var mimetype: String
    public var banner: String
    public init(implementation: String, implementationVersion: String, languageName: String, languageVersion: String,
                fileExtension: String, mimetype: String, banner: String) {
        self.implementation = implementation; self.implementationVersion = implementationVersion
        self.languageName = languageName; self.languageVersion = languageVersion
        self.fileExtension = fileExtension; self.mimetype = mimetype; self.banner = banner
    }
}
