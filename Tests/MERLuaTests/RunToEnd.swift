import Foundation

/// Runs the program at argv[0] with the rest as its arguments, in `directory` if given, with
/// `environment` added to this process's; waits for it and returns its status and its stdout
/// and stderr together (the Slurm and Jupyter tests' external commands).
func runToEnd(_ argv: [String], environment: [String: String] = [:], directory: URL? = nil) throws -> (status: Int32, out: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let directory { p.currentDirectoryURL = directory }
    let pipe = Pipe()
    p.standardOutput = pipe; p.standardError = pipe
    try p.run()
    let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, out)
}
