import MEREval
import XCTest

final class RunDirectoryTests: XCTestCase {
    var dir: String!
    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mer-eval-run-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func read(_ p: String) throws -> String { try String(contentsOfFile: p, encoding: .utf8) }

    func makeRun(parent: String, date: Date) throws -> RunDirectory {
        let recipe = dir + "/recipe-src.lua"
        try "print('hi')\n".write(toFile: recipe, atomically: true, encoding: .utf8)
        let run = try RunDirectory.create(name: "demo run", parent: parent, recipe: recipe, arguments: ["--epochs", "2"],
                                          seed: 7, threads: 2, config: ["lr": "0.001"], version: "0.1.0", now: date)
        for fold in ["sub01", "sub02"] {
            for epoch in 1...3 {
                try run.log(["fold": .text(fold), "epoch": .number(Double(epoch)), "loss": .number(1.0 / Double(epoch))])
            }
        }
        try run.log(["fold": .text("sub02"), "epoch": .number(3), "loss": .number(0.3), "acc": .number(0.5)])
        try run.addFold(FoldResult(subject: "sub01", pred: [0, 1, 1], target: [0, 1, 2]))
        try run.addFold(FoldResult(subject: "sub02", pred: [2, 2], target: [2, 0]))
        return run
    }

    func testARunWritesItsFilesDeterministically() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let run = try makeRun(parent: dir + "/runs", date: date)
        XCTAssertTrue(run.path.hasPrefix(dir + "/runs/demo-run-2023"), run.path)
        let again = try makeRun(parent: dir + "/runs", date: date)
        XCTAssertEqual(again.path, run.path + "-2", "same second → suffix")

        XCTAssertEqual(try read(run.path + "/recipe.lua"), "print('hi')\n")
        let config = try read(run.path + "/config.json")
        for key in ["\"arguments\": [\"--epochs\", \"2\"]", "\"seed\": 7", "\"threads\": 2", "\"lr\": \"0.001\"", "\"mer_script\": \"0.1.0\"", "\"cpu\":", "\"swift\":"] {
            XCTAssertTrue(config.contains(key), key)
        }
        // log.csv: fold, epoch first; the new column acc appended with a header rewrite.
        let log = try read(run.path + "/log.csv").split(separator: "\n")
        XCTAssertEqual(log.first, "fold,epoch,loss,acc")
        XCTAssertEqual(log[1], "sub01,1,1,")
        XCTAssertEqual(log[2], "sub01,2,0.5,")
        XCTAssertEqual(log.last, "sub02,3,0.3,0.5")
        XCTAssertEqual(log.count, 8)

        let result = try run.finish(classes: ["neg", "pos", "sur"])
        _ = try again.finish(classes: ["neg", "pos", "sur"])
        // pooled t 0 1 2 2 0, p 0 1 1 2 2: acc 3/5
        XCTAssertEqual(result.pooled!.accuracy, 0.6, accuracy: 1e-12)
        for f in ["metrics.json", "curves.png", "confusion.png", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.path + "/" + f), f)
        }
        let metrics = try read(run.path + "/metrics.json")
        XCTAssertEqual(metrics, try read(again.path + "/metrics.json"), "identical runs → identical metrics.json")
        XCTAssertTrue(metrics.contains("\"accuracy\": 0.600000"))
        XCTAssertTrue(metrics.contains("[1, 0, 1]"), "confusion row of class neg")
        let parsed = try JSONSerialization.jsonObject(with: Data(metrics.utf8)) as! [String: Any]
        XCTAssertEqual(Set(parsed.keys), ["classes", "pooled", "per_fold", "conventions"])
        let html = try read(run.path + "/report.html")
        for s in ["<svg", "neg", "pos", "sur", "sub01", "sub02", "config.lr", "Per fold"] { XCTAssertTrue(html.contains(s), s) }
        XCTAssertFalse(html.contains("http://") && html.contains("<link"), "no external resources")
        XCTAssertFalse(html.contains("src=\""), "no external resources")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    func testNoFontStillWritesThePNGsAndSaysSo() throws {
        let run = try makeRun(parent: dir + "/runs", date: Date())
        let result = try run.finish(classes: [], fontError: "font: /none.ttf: no such file")
        XCTAssertEqual(result.classes, ["1", "2", "3"], "default class names from the largest label")
        XCTAssertTrue(result.warnings.contains { $0.contains("the PNGs have no text") }, "\(result.warnings)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.path + "/curves.png"))
        XCTAssertTrue(try read(run.path + "/report.html").contains("PNGs have no text"))
    }

    func testProgressPlainLinesWhenNotATerminal() {
        var out: [String] = []
        var t = 0.0
        let p = Progress(total: 100, label: "train", isTerminal: false, write: { out.append($0) }, clock: { t })
        for k in 1...100 { t += 0.01; p.update(k, fields: [("loss", "0.5")]) }
        p.done()
        // The first update, milestones at 25, 50, 75, 100 % and the final line.
        XCTAssertEqual(out.count, 6, out.joined())
        XCTAssertTrue(out.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") })
        XCTAssertTrue(out[0].hasPrefix("train: 1/100 1% | loss 0.5"), out[0])
        XCTAssertTrue(out[1].hasPrefix("train: 25/100 25% | loss 0.5"), out[1])
        XCTAssertTrue(out.last!.hasPrefix("train: done 100/100 in 0:01"), out.last!)
    }

    func testProgressRedrawsAreThrottledOnATerminal() {
        var out: [String] = []
        var t = 0.0
        let p = Progress(total: 1000, label: "epoch 1", isTerminal: true, write: { out.append($0) }, clock: { t })
        for k in 1...1000 { t += 0.001; p.update(k) }   // 1 s of updates → ≤ 10 redraws + the last
        XCTAssertLessThanOrEqual(out.count, 12)
        XCTAssertTrue(out.allSatisfy { $0.hasPrefix("\r") })
        XCTAssertTrue(out.last!.contains("[########################] 1000/1000 100%"), out.last!)
    }
}
