import Foundation
import XCTest

/// The notebook kernel as Jupyter drives it: `mer-script jupyter install --prefix` into a
/// temporary folder, then Tests/Jupyter/kernel_test.py talks to it through a real client
/// (jupyter_client: results, streams, errors, inline PNGs, completion, inspect, is_complete,
/// interrupt, forged messages, shutdown) and runs Scripts/notebooks/quickstart.ipynb with
/// nbclient.
///
/// Needs a Python with jupyter_client, nbclient and nbformat: $MER_JUPYTER_PYTHON, else
/// .venv-jupyter/bin/python in the checkout (.ci/run makes it). Without one the test is
/// skipped, unless MER_REQUIRE_JUPYTER=1 (CI), where a missing client is a failure.
final class JupyterKernelTests: XCTestCase {
    let root = LuaScriptTests.packageRoot

    func python() throws -> String {
        let env = ProcessInfo.processInfo.environment
        let required = env["MER_REQUIRE_JUPYTER"] == "1"
        let candidate = env["MER_JUPYTER_PYTHON"] ?? root.appendingPathComponent(".venv-jupyter/bin/python").path
        func unavailable(_ why: String) throws -> Never {
            let message = "\(why): create it with `python3 -m venv .venv-jupyter && .venv-jupyter/bin/pip install jupyter_client nbclient nbformat` (or set MER_JUPYTER_PYTHON)"
            if required { XCTFail("MER_REQUIRE_JUPYTER=1 but " + message); throw XCTSkip("failed above") }
            throw XCTSkip(message)
        }
        guard FileManager.default.isExecutableFile(atPath: candidate) else { try unavailable("no Python at \(candidate)") }
        let probe = try command([candidate, "-c", "import jupyter_client, nbclient, nbformat, zmq"])
        guard probe.status == 0 else { try unavailable("\(candidate) lacks jupyter_client, nbclient or nbformat:\n\(probe.out)") }
        return candidate
    }

    func command(_ argv: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String) {
        try runToEnd(argv, environment: environment)
    }

    func testKernelUnderARealJupyterClient() throws {
        let python = try python()
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mer-jupyter-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }

        let install = try command([CLITests.executable, "jupyter", "install", "--prefix", tmp.path])
        XCTAssertEqual(install.status, 0, install.out)
        let specFile = tmp.appendingPathComponent("share/jupyter/kernels/mer-script/kernel.json")
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: specFile)) as? [String: Any]
        let argv = spec?["argv"] as? [String] ?? []
        XCTAssertEqual(Array(argv.dropFirst()), ["jupyter", "kernel", "{connection_file}"])
        XCTAssertTrue(argv.first?.hasPrefix("/") ?? false, "the kernel's path must be absolute: \(argv)")
        XCTAssertEqual(spec?["interrupt_mode"] as? String, "signal")
        XCTAssertEqual(spec?["language"] as? String, "lua")

        // Jupyter's own folders inside the temporary one: nothing is read from or written to $HOME.
        let r = try command([python, root.appendingPathComponent("Tests/Jupyter/kernel_test.py").path,
                             root.appendingPathComponent("Scripts/notebooks/quickstart.ipynb").path],
                            environment: ["JUPYTER_PATH": tmp.appendingPathComponent("share/jupyter").path,
                                          "JUPYTER_DATA_DIR": tmp.appendingPathComponent("data").path,
                                          "JUPYTER_RUNTIME_DIR": tmp.appendingPathComponent("runtime").path,
                                          "JUPYTER_CONFIG_DIR": tmp.appendingPathComponent("config").path,
                                          "JUPYTER_PLATFORM_DIRS": "1", "MER_HISTORY": ""])
        XCTAssertEqual(r.status, 0, r.out)
        XCTAssertTrue(r.out.contains("all passed"), r.out)
    }

    /// Options before `jupyter install` become the kernel's; a bad install line is refused.
    func testInstallKeepsOptionsAndRefusesBadArguments() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mer-spec-\(getpid())-\(UUID().uuidString.prefix(6))")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let r = try command([CLITests.executable, "--threads", "1", "--max-memory", "2G", "jupyter", "install", "--prefix", tmp.path])
        XCTAssertEqual(r.status, 0, r.out)
        let spec = try JSONSerialization.jsonObject(with: Data(contentsOf: tmp.appendingPathComponent("share/jupyter/kernels/mer-script/kernel.json"))) as? [String: Any]
        XCTAssertEqual((spec?["argv"] as? [String])?.dropFirst().map { $0 }, ["--threads", "1", "--max-memory", "2G", "jupyter", "kernel", "{connection_file}"])
        // --user: the per-user data folder under $HOME, as Jupyter looks for it.
        let user = try command([CLITests.executable, "jupyter", "install", "--user"],
                               environment: ["HOME": tmp.path, "XDG_DATA_HOME": "", "JUPYTER_DATA_DIR": ""])
        XCTAssertEqual(user.status, 0, user.out)
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp.appendingPathComponent(".local/share/jupyter/kernels/mer-script/kernel.json").path), user.out)
        for bad in [["jupyter"], ["jupyter", "install", "--prefix"], ["jupyter", "install", "--user", "x"], ["jupyter", "kernel"]] {
            let b = try command([CLITests.executable] + bad)
            XCTAssertNotEqual(b.status, 0, "\(bad)")
            XCTAssertTrue(b.out.contains("usage: mer-script jupyter install [--user | --prefix DIR]"), b.out)
        }
    }

    /// A connection file is validated before any socket opens; the error names file and key.
    func testKernelRefusesABadConnectionFile() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mer-conn-\(getpid())-\(UUID().uuidString.prefix(6)).json")
        try Data(#"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": "x", "key": "k"}"#.utf8).write(to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.executable)
        p.arguments = ["jupyter", "kernel", tmp.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1)
        XCTAssertEqual(text, "mer-script: connection file \(tmp.path): key 'hb_port' must be a port number in 1..65535, got \"x\"\n")
    }
}
