import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The LOSO fold array on a real Slurm: submitted with Scripts/slurm/submit.sh, one fold
/// preempted mid-training by `scontrol requeue` resumes from its checkpoint, and the merged
/// metrics equal a single-process run; a fold that fails for good makes the merge job fail
/// and name it. Needs a cluster: `Scripts/slurm/local_cluster.sh start` (CI does this) and
/// SLURM_CONF exported as it says; skipped otherwise.
final class SlurmTests: XCTestCase {
    let root = LuaScriptTests.packageRoot
    /// Three synthetic subjects (three folds), DBFEM quick at 32×32, three epochs.
    let tiny = ["--subjects", "3", "--per-class", "1", "--epochs", "3", "--size", "32", "--batch", "4"]
    var work: URL!

    override func setUpWithError() throws {
        guard ProcessInfo.processInfo.environment["SLURM_CONF"] != nil, (try? command(["scontrol", "ping"]).status) == 0 else {
            throw XCTSkip("no Slurm cluster answers: run Scripts/slurm/local_cluster.sh start and export SLURM_CONF")
        }
        work = FileManager.default.temporaryDirectory.appendingPathComponent("mer-slurm-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { if let w = work { try? FileManager.default.removeItem(at: w) } }

    /// Runs a program (found on PATH) to the end; its status and output (stdout + stderr).
    func command(_ argv: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String) {
        try runToEnd(["/usr/bin/env"] + argv, environment: environment, directory: work)
    }

    /// Polls `condition` every 0.2 s up to `seconds` (a liveness bound, not a timing check).
    func eventually(_ seconds: Double, _ what: String, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(200_000)
        }
        XCTFail("gave up waiting (\(Int(seconds)) s) for \(what)")
        return false
    }

    func contents(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// Submits the quickstart's folds; returns the run directory and the two job ids.
    func submit(_ run: String, environment: [String: String]) throws -> (array: String, merge: String) {
        let r = try command([root.appendingPathComponent("Scripts/slurm/submit.sh").path, "--array", "1-3", "--run", run,
                             "--sbatch", "--cpus-per-task=1", "--sbatch", "--mem=1G",
                             root.appendingPathComponent("Scripts/quickstart.lua").path] + tiny,
                            environment: environment.merging(["MER_SCRIPT": CLITests.executable]) { $1 })
        XCTAssertEqual(r.status, 0, r.out)
        func job(_ prefix: String) -> String {
            r.out.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { $0.dropFirst(prefix.count).split(separator: " ").first }.map(String.init) ?? "?"
        }
        XCTAssertTrue(r.out.contains("report: \(run)/report.html"), r.out)
        return (job("fold array: job "), job("merge: job "))
    }

    func jobState(_ id: String) throws -> String {
        let r = try command(["scontrol", "show", "job", id])
        guard let field = r.out.split(whereSeparator: { $0 == " " || $0 == "\n" }).first(where: { $0.hasPrefix("JobState=") }) else { return "?" }
        return String(field.dropFirst("JobState=".count))
    }

    func testARequeuedFoldResumesAndTheMergeEqualsASingleProcessRun() throws {
        let reference = try command([CLITests.executable, "--threads", "1", root.appendingPathComponent("Scripts/quickstart.lua").path] + tiny)
        XCTAssertEqual(reference.status, 0, reference.out)
        guard let refLine = reference.out.split(separator: "\n").first(where: { $0.hasPrefix("run directory: ") }) else {
            return XCTFail(reference.out)
        }
        let refDir = work.appendingPathComponent(String(refLine.dropFirst("run directory: ".count))).path

        let run = work.appendingPathComponent("runs/slurm").path
        // Fold 2 stops after its first epoch's checkpoint until Slurm takes it away.
        let jobs = try submit(run, environment: ["MER_HOLD_AFTER": "2:1"])
        let foldLog = "\(run)/logs/mer-loso-\(jobs.array)_2.out"
        guard try eventually(240, "fold 2 to hold after epoch 1", { contents(foldLog).contains("MER_HOLD_AFTER: fold 2 holds") }) else { return }
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/fold-02/result.lua"))
        let requeue = try command(["scontrol", "requeue", "\(jobs.array)_2"])
        XCTAssertEqual(requeue.status, 0, requeue.out)
        // Slurm holds a requeued job back two minutes; let it start again at once.
        // (Only once it is pending again: an update while it is still completing is undone.)
        _ = try eventually(60, "the requeued task to be released") {
            try jobState("\(jobs.array)_2") == "PENDING"
                && command(["scontrol", "update", "JobId=\(jobs.array)_2", "StartTime=now"]).status == 0
        }
        guard try eventually(240, "the merge job to end", { ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].contains(try jobState(jobs.merge)) }) else { return }
        let mergeLog = contents("\(run)/logs/mer-merge-\(jobs.merge).out")
        XCTAssertEqual(try jobState(jobs.merge), "COMPLETED", mergeLog)
        XCTAssertTrue(mergeLog.contains("merged 3 folds"), mergeLog)
        XCTAssertTrue(contents(foldLog).contains("restart 1"), "fold 2 ran again after the requeue:\n\(contents(foldLog))")
        XCTAssertEqual(contents(run + "/metrics.json"), contents(refDir + "/metrics.json"))
        XCTAssertFalse(contents(run + "/metrics.json").isEmpty)
    }

    func testAFoldThatFailsForGoodFailsTheMergeWhichNamesIt() throws {
        let run = work.appendingPathComponent("runs/broken").path
        let jobs = try submit(run, environment: ["MER_CRASH_AFTER": "3:1"])
        guard try eventually(240, "the merge job to end", { ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"].contains(try jobState(jobs.merge)) }) else { return }
        let mergeLog = contents("\(run)/logs/mer-merge-\(jobs.merge).out")
        XCTAssertEqual(try jobState(jobs.merge), "FAILED", mergeLog)
        XCTAssertTrue(mergeLog.contains("1 of 3 folds have not finished: 3 (s03)"), mergeLog)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/metrics.json"))
    }
}
