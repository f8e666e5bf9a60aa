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

    /// A progress log (eval.progress{file=...}) is appended to like every other file the
    /// project writes: a FIFO at the name is refused at once (fopen "a" waited for a reader
    /// forever) and a symbolic link is not followed.
    func testProgressFileRefusesFIFOsAndSymbolicLinks() throws {
        let fifo = tmp.appendingPathComponent("fifo").path, link = tmp.appendingPathComponent("link").path
        let target = tmp.appendingPathComponent("target.txt").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try "keep\n".write(toFile: target, atomically: true, encoding: .utf8)
        XCTAssertEqual(symlink(target, link), 0)
        let r = try run(["--timeout", "20", "-e", """
            for _, name in ipairs{"fifo", "link"} do
              local ok, e = pcall(eval.progress, 4, "x", {file = name})
              print(name, ok, e)
            end
            local p = eval.progress(2, "x", {file = "plain.txt"}); p:update(2); p:done()
            """])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("fifo\tfalse\teval.progress: argument 3: option 'file': cannot append to fifo: "), r.out)
        XCTAssertTrue(r.out.contains("link\tfalse\teval.progress: argument 3: option 'file': cannot append to link: "), r.out)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep\n")
        XCTAssertTrue(try String(contentsOfFile: tmp.appendingPathComponent("plain.txt").path, encoding: .utf8).contains("x"))
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
        // The stop reason proves the timeout fired (nothing else ends this loop).
        let r = try run(["--timeout", "1", "-e", "while true do end"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("timeout: the script ran longer than --timeout 1 s and was stopped"), r.err)
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
        let history = tmp.appendingPathComponent("history").path
        let term = try TerminalSession(executable: Self.executable,
                                       environment: ["MER_HISTORY=\(history)", "TERM=xterm", "HOME=\(tmp.path)"])
        term.expect("> ")
        term.type("1 + 1\r"); term.expect("\n2")
        // libedit redraws the completed word with cursor moves, so check the result.
        term.type("tensor.ze\t{2}\r"); term.expect("[0 0]")
        term.type("x = 41\r"); term.type("= x + 1\r"); term.expect("42")
        term.type("for i = 1, 2 do\r"); term.expect(">> ")
        term.type("print('loop' .. i)\r"); term.type("end\r"); term.expect("loop2")
        // The loop is running (or about to) once its first line has printed: Ctrl-C then.
        term.type("print('spin' .. 'ning'); while true do end\r"); term.expect("spinning")
        term.type("\u{3}"); term.expect("interrupted!")
        term.type("print('alive')\r"); term.expect("alive")
        term.type("help(tensor.zeros)\r"); term.expect("A tensor of zeros"); term.expect("> ")
        XCTAssertEqual(term.endWithCtrlD(), 0, "exit status after Ctrl-D on an empty line")
        let saved = (try? String(contentsOfFile: history, encoding: .utf8)) ?? ""
        XCTAssertTrue(saved.contains("print('alive')") || saved.contains("print(\\047alive\\047)"), "history file: \(saved)")
    }

    /// Asking for 40 GB in the REPL is an error message; the session and its state go on.
    func testREPLRefusesAHugeTensorAndGoesOn() throws {
        let term = try TerminalSession(executable: Self.executable,
                                       environment: ["MER_HISTORY=", "TERM=xterm", "HOME=\(tmp.path)"])
        term.expect("> ")
        term.type("keep = 41\r")
        term.type("x = tensor.randn{1e5, 1e5}\r"); term.expect("not enough memory: randn of shape [100000, 100000] requested 37.3 GB")
        term.type("print(keep + 1)\r"); term.expect("42")
        XCTAssertEqual(term.endWithCtrlD(), 0)
    }

    /// Ctrl-C at 200 moments chosen at random — inside a computation, while a long result
    /// prints, while history is written, at the prompt, between them — never ends the REPL
    /// or loses its state.
    func testREPLSurvivesCtrlCAtAnyMoment() throws {
        let history = tmp.appendingPathComponent("history").path
        let term = try TerminalSession(executable: Self.executable,
                                       environment: ["MER_HISTORY=\(history)", "TERM=xterm", "HOME=\(tmp.path)"])
        term.expect("> ")
        term.type("kept = tensor.arange(5) * 2; n = 0\r")
        term.type("print('ready')\r"); term.expect("ready")
        var rng = SystemRandomNumberGenerator()
        let work = [
            "n = n + 1",                                               // almost nothing
            "for i = 1, 20000 do n = n + 0 end",                       // a short Lua loop
            "string.rep('abcdefgh', 4000)",                            // a long value to print
            "tensor.randn{64, 64}:matmul(tensor.randn{64, 64}):sum()", // native work
            "print(kept)",                                             // __tostring
        ]
        for k in 0..<200 {
            term.type(work[k % work.count] + "\r")
            usleep(UInt32.random(in: 0...4000, using: &rng))
            term.type("\u{3}")
            // Resynchronise: the REPL answers a marker once it is back at its prompt. A
            // Ctrl-C that lands while the line editor is between two reads cancels the line
            // only when it returns: the lone Enter ends that line (an empty line is ignored
            // otherwise), and should the marker still be discarded, it is typed again.
            term.type("\r")
            var answered = false
            for _ in 0..<5 where !answered {
                term.type("print('sync' .. \(k))\r")
                answered = term.waitFor("sync\(k)\r\n", timeout: 1.5)
            }
            if !answered {
                XCTFail("no answer after Ctrl-C number \(k) (\(work[k % work.count])); alive: \(term.isAlive)\n\(term.screen)")
                return
            }
        }
        XCTAssertTrue(term.isAlive)
        term.type("print(kept:sum():item(), n >= 0)\r"); term.expect("20.0\ttrue"); term.expect("> ")
        XCTAssertEqual(term.endWithCtrlD(), 0, "exit status after Ctrl-D")
    }
}
