import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The `mer-script` executable as a user meets it: exit codes, `arg`, tracebacks,
/// `-e`, `--timeout`, piped stdin, and the REPL on a real pseudo-terminal.
final class CLITests: XCTestCase {
    static var executable: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mer-script").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let root = LuaScriptTests.packageRoot.path
        for config in ["release", "debug"] where FileManager.default.isExecutableFile(atPath: "\(root)/.build/\(config)/mer-script") {
            return "\(root)/.build/\(config)/mer-script"
        }
        return beside
    }

    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mer-cli-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func write(_ name: String, _ text: String) throws -> String {
        let url = tmp.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// One-character file names (a script "s", a tensor file "a") in the working directory
    /// work: Foundation's deletingLastPathComponent traps on them, so it is not used.
    func testOneCharacterFileNames() throws {
        _ = try write("s", "tensor.ones{2}:save('a'); print(tensor.load('a'):sum():item())")
        let r = try run(["s"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "2.0\n")
    }

    /// `mer-script doc` prints the Lua API reference (Markdown) and exits 0.
    func testDocPrintsTheAPIReference() throws {
        let r = try run(["doc"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("# mer-script "), String(r.out.prefix(200)))
        XCTAssertTrue(r.out.contains("### `tensor.save(t, path [, name]) | tensor.save({name = t, ...}, path)`"))
        XCTAssertTrue(r.out.contains("### `m:load(path [, {strict=true}])`"))
    }

    /// Runs mer-script with `args` (and optional stdin text); returns status, stdout, stderr.
    func run(_ args: [String], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.executable)
        p.arguments = args
        p.currentDirectoryURL = tmp
        var env = ProcessInfo.processInfo.environment
        env["MER_HISTORY"] = ""
        p.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out; p.standardError = err; p.standardInput = input
        try p.run()
        if let s = stdin { input.fileHandleForWriting.write(s.data(using: .utf8)!) }
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func testScriptGetsArgAsLuaSetsIt() throws {
        let script = try write("args.lua", "print(#arg, arg[0], arg[1], arg[2], select('#', ...), (...))\n")
        let r = try run([script, "alpha", "--epochs"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "2\t\(script)\talpha\t--epochs\t2\talpha\n")
    }

    func testScriptErrorExitsOneWithFileLineTraceback() throws {
        let script = try write("boom.lua", "local function inner()\n  error('boom')\nend\ninner()\n")
        let r = try run([script])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.hasPrefix("mer-script: \(script):2: boom\nstack traceback:"), r.err)
        XCTAssertTrue(r.err.contains("\(script):2: in "), r.err)
        XCTAssertTrue(r.err.contains("\(script):4: in main chunk"), r.err)
    }

    func testBindingErrorNamesTheScriptLine() throws {
        let script = try write("bad.lua", "local x = 1\nlocal t = tensor.zeros{2, -3}\n")
        let r = try run([script])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("bad.lua:2: tensor.zeros: argument 1: expected a table of non-negative integers (the shape), got -3 in {2,-3}"), r.err)
    }

    func testChunksSeedAndThreads() throws {
        let r = try run(["--seed", "3", "--threads", "1", "-e", "print(mer.threads())", "-e", "print(tensor.randn{1}:item())"])
        let again = try run(["--seed", "3", "-e", "print(tensor.randn{1}:item())"])
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.first, "1")
        XCTAssertEqual(lines.last.map(String.init), again.out.split(separator: "\n").last.map(String.init))
        XCTAssertEqual(try run(["-e", "local x ="]).status, 1)
    }

    func testMissingScriptVersionAndBadOptions() throws {
        let missing = try run(["nope.lua"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("cannot open nope.lua"), missing.err)
        XCTAssertTrue(try run(["--version"]).out.hasPrefix("mer-script "))
        XCTAssertNotEqual(try run(["--threads", "0", "-e", "x=1"]).status, 0)
    }

    func testTimeoutStopsARunawayScript() throws {
        let start = Date()
        let r = try run(["--timeout", "1", "-e", "while true do end"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("timeout: the script ran longer than --timeout 1 s"), r.err)
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
    }

    func testRequireFindsModulesBesideTheScript() throws {
        _ = try write("helper.lua", "return { twice = function(x) return 2 * x end }\n")
        let script = try write("main.lua", "print(require('helper').twice(21))\n")
        XCTAssertEqual(try run([script]).out, "42\n")
    }

    func testPipedStdinRunsLineByLine() throws {
        let r = try run([], stdin: "x = 20\nx + 1\n= x * 2\nfor i = 1, 2 do\n  print(i)\nend\nerror('oops')\nprint('still here')\n")
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.out, "21\n40\n1\n2\nstill here\n")
        XCTAssertTrue(r.err.contains("stdin:1: oops"), r.err)
    }

    func testInteractiveAfterScript() throws {
        let script = try write("setup.lua", "y = 5\n")
        let r = try run(["-i", script], stdin: "y * 3\n")
        XCTAssertEqual(r.out, "15\n")
    }

    // MARK: REPL on a pseudo-terminal

    func testREPLOnATerminal() throws {
        // posix_openpt/ptsname are not exported to Swift; the Linux ioctls do the same.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        XCTAssertGreaterThanOrEqual(master, 0)
        defer { close(master) }
        var unlock: Int32 = 0, number: UInt32 = 0
        XCTAssertEqual(ioctl(master, UInt(0x4004_5431) /* TIOCSPTLCK */, &unlock), 0)
        XCTAssertEqual(ioctl(master, UInt(0x8004_5430) /* TIOCGPTN */, &number), 0)
        let slavePath = "/dev/pts/\(number)"

        // The child becomes a session leader and opens the terminal, which makes it its
        // controlling terminal: Ctrl-C typed there then really sends SIGINT.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // POSIX_SPAWN_SETSID | SETSIGMASK | SETSIGDEF: a new session, nothing blocked or
        // ignored from the test runner's own signal state.
        posix_spawnattr_setflags(&attr, Int16(0x80 | 0x08 | 0x04))
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults); sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigmask(&attr, &noSignals)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        let history = tmp.appendingPathComponent("history").path
        let env = ["MER_HISTORY=\(history)", "TERM=xterm", "HOME=\(tmp.path)"]
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(Self.executable), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        XCTAssertEqual(posix_spawn(&pid, Self.executable, &actions, &attr, argv, envp), 0)

        var screen = ""
        func expect(_ text: String, timeout: Double = 10) {
            let deadline = Date().addingTimeInterval(timeout)
            var buf = [UInt8](repeating: 0, count: 4096)
            while !screen.contains(text) && Date() < deadline {
                var pfd = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                if poll(&pfd, 1, 100) > 0 {
                    let n = read(master, &buf, buf.count)
                    if n > 0 { screen += String(decoding: buf[0..<n], as: UTF8.self) } else { break }
                }
            }
            XCTAssertTrue(screen.contains(text), "expected \(text.debugDescription) on the terminal, got:\n\(screen)")
            // Consume through the match, so the next expectation looks at newer output only.
            if let r = screen.range(of: text) { screen = String(screen[r.upperBound...]) }
        }
        func type(_ s: String) { _ = s.withCString { Glibc.write(master, $0, strlen($0)) } }

        expect("> ")
        type("1 + 1\r"); expect("\n2")
        // libedit redraws the completed word with cursor moves, so check the result.
        type("tensor.ze\t{2}\r"); expect("[0 0]")
        type("x = 41\r"); type("= x + 1\r"); expect("42")
        type("for i = 1, 2 do\r"); expect(">> ")
        type("print('loop' .. i)\r"); type("end\r"); expect("loop2")
        type("while true do end\r")
        Thread.sleep(forTimeInterval: 0.5)
        type("\u{3}"); expect("interrupted!")
        type("print('alive')\r"); expect("alive")
        type("help(tensor.zeros)\r"); expect("A tensor of zeros"); expect("> ")
        type("\u{4}") // Ctrl-D on an empty line exits
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(10)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); XCTFail("REPL did not exit on Ctrl-D"); waitpid(pid, &status, 0); break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertEqual(status, 0, "exit status after Ctrl-D")
        let saved = (try? String(contentsOfFile: history, encoding: .utf8)) ?? ""
        XCTAssertTrue(saved.contains("print('alive')") || saved.contains("print(\\047alive\\047)"), "history file: \(saved)")
    }
}
