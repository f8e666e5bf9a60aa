import Foundation
import MERFiles

/// The kernelspec Jupyter finds kernels by: `<data dir>/kernels/<name>/kernel.json`, whose
/// argv starts the kernel on the connection file Jupyter writes (`{connection_file}`).
public struct KernelSpec {
    public var name: String
    public var displayName: String
    public var language: String
    public var argv: [String]

    public init(name: String, displayName: String, language: String, argv: [String]) {
        self.name = name; self.displayName = displayName; self.language = language; self.argv = argv
    }

    public var json: Data {
        let object: JSONObject = ["argv": argv, "display_name": displayName, "language": language,
                                  "interrupt_mode": "signal", "metadata": ["debugger": false]]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    }

    /// Where `--user` installs: Jupyter's per-user data directory on Linux, as jupyter_core
    /// finds it ($JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter).
    public static func userDataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["JUPYTER_DATA_DIR"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty { return xdg + "/jupyter" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share/jupyter"
    }

    /// Writes kernel.json into `<dataDirectory>/kernels/<name>/` (made if missing); returns that folder.
    @discardableResult
    public func install(dataDirectory: String) throws -> String {
        let folder = dataDirectory + "/kernels/" + name
        try SafeFile.makeDirectory(folder)
        try SafeFile.write(json, to: folder + "/kernel.json")
        return folder
    }
}
