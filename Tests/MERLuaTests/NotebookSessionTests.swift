import Foundation
import MERLua
import XCTest

/// The Lua side of the notebook kernel without any Jupyter: cells, their values and rich
/// displays, completion, help and is_complete (JupyterKernelTests covers the protocol).
final class NotebookSessionTests: XCTestCase {
    final class Sink: DisplaySink {
        var shown: [(bundle: [String: String], id: String?, update: Bool)] = []
        func display(_ bundle: [String: String], id: String?, update: Bool) { shown.append((bundle, id, update)) }
    }

    var sink: Sink!
    var session: NotebookSession!

    override func setUp() {
        sink = Sink()
        session = NotebookSession(vm: LuaVM(), sink: sink)
    }

    override func tearDown() { session = nil }

    func text(_ code: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
        switch session.execute(code) {
        case .value(let bundle): return bundle?["text/plain"]
        case let .failure(_, message, _): XCTFail("cell failed: \(message)", file: file, line: line); return nil
        }
    }

    func testFinalExpressionsAndStatements() {
        XCTAssertEqual(text("1 + 1"), "2")
        XCTAssertEqual(text("= 'x'"), "x")
        XCTAssertEqual(text("local a = 2\nlocal b = 3\n\na * b\n"), "6")
        XCTAssertEqual(text("return 1, 'two'"), "1\ttwo")
        XCTAssertNil(text("y = 5"))
        // A loop's last line is never taken out of the loop as the cell's value.
        XCTAssertNil(text("n = 0\nfor i = 1, 3 do\n  n = n + i\nend"))
        XCTAssertEqual(text("n"), "6")
        XCTAssertEqual(text("local t = {\n  1,\n  2,\n}\n#t"), "2")
        XCTAssertEqual(text("f = function(x)\n  return x * 2\nend\nf(21)"), "42")
    }

    func testErrorsCarryTheTracebackAndTheStateSurvives() {
        _ = text("kept = 7")
        guard case let .failure(name, message, traceback) = session.execute("local function g() error('boom') end\ng()") else {
            return XCTFail("expected an error")
        }
        XCTAssertEqual(name, "LuaError")
        XCTAssertEqual(message, "cell:1: boom")
        XCTAssertTrue(traceback.contains { $0.contains("stack traceback") }, "\(traceback)")
        guard case let .failure(syntax, _, _) = session.execute("x = = 1") else { return XCTFail("expected a syntax error") }
        XCTAssertEqual(syntax, "SyntaxError")
        XCTAssertEqual(text("kept"), "7")
    }

    func testImagesAndFiguresAreRichDisplays() throws {
        guard case .value(let picture?) = session.execute("tensor.rand{1, 12, 10}") else { return XCTFail() }
        let png = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(picture["image/png"])))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4e, 0x47])
        XCTAssertEqual(png[16..<24].reduce(into: [UInt8]()) { $0.append($1) }, [0, 0, 0, 10, 0, 0, 0, 12], "width 10, height 12")
        XCTAssertNotNil(picture["text/plain"])
        guard case .value(let matrix?) = session.execute("tensor.ones{3, 3}") else { return XCTFail() }
        XCTAssertNil(matrix["image/png"], "a small matrix is numbers")
        guard case .value(let fig?) = session.execute("plot.bar({1, 2})") else { return XCTFail() }
        XCTAssertNotNil(fig["image/png"])
        XCTAssertEqual(fig["text/plain"], "figure 640x400")
    }

    func testDisplayMidCellAndInPlace() {
        XCTAssertNil(text("display(1, 'a')\nfor k = 1, 3 do display(k, {id = 'live'}) end"))
        XCTAssertEqual(sink.shown.map { $0.bundle["text/plain"] ?? "" }, ["1", "a", "1", "2", "3"])
        XCTAssertEqual(sink.shown.map(\.update), [false, false, false, true, true])
        XCTAssertEqual(Set(sink.shown.dropFirst(2).map { $0.id ?? "" }).count, 1)
        // The next cell starts a new output under the same id.
        sink.shown = []
        _ = text("display(9, {id = 'live'})")
        XCTAssertEqual(sink.shown.map(\.update), [false])
    }

    func testProgressIsOneDisplayUpdatedAFewTimes() {
        _ = text("local p = eval.progress(50000, 'steps')\nfor k = 1, 50000 do p:update(k) end\np:done()")
        XCTAssertGreaterThanOrEqual(sink.shown.count, 2)
        XCTAssertLessThan(sink.shown.count, 40, "throttled to two redraws a second, whatever the load")
        XCTAssertEqual(Set(sink.shown.map { $0.id ?? "" }).count, 1)
        XCTAssertEqual(sink.shown.map(\.update), [false] + Array(repeating: true, count: sink.shown.count - 1))
        XCTAssertTrue(sink.shown.last?.bundle["text/plain"]?.hasPrefix("steps: done 50000/50000") ?? false, "\(sink.shown.last?.bundle ?? [:])")
    }

    func testCompletionHelpAndCompleteness() {
        let c = session.complete("x = tensor.ze", cursor: 13)
        XCTAssertEqual(c.matches, ["tensor.zeros"])
        XCTAssertEqual(c.start, 4)
        XCTAssertEqual(c.end, 13)
        XCTAssertTrue(session.complete("plo", cursor: 3).matches.contains("plot"))
        XCTAssertTrue(session.inspect("plot.line({1})", cursor: 10)?.hasPrefix("plot.line(y") ?? false)
        XCTAssertTrue(session.inspect("plot.line", cursor: 3)?.hasPrefix("plot.line(y") ?? false)
        XCTAssertNil(session.inspect("nothing_here", cursor: 4))
        XCTAssertEqual(session.isComplete("for i = 1, 2 do"), "incomplete")
        XCTAssertEqual(session.isComplete("x = {\n1,"), "incomplete")
        XCTAssertEqual(session.isComplete("x = 1"), "complete")
        XCTAssertEqual(session.isComplete("x = 1\nx"), "complete")
        XCTAssertEqual(session.isComplete("x = = 1"), "invalid")
    }
}
