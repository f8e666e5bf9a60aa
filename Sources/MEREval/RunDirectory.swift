import Foundation
import MERFiles

/// One fold's test predictions (0-based labels).
public struct FoldResult: Equatable {
    public var subject: String
    public var pred: [Int]
    public var target: [Int]
    public init(subject: String, pred: [Int], target: [Int]) { self.subject = subject; self.pred = pred; self.target = target }
}

/// What `finish` computed.
public struct RunResult {
    public let classes: [String]
    /// All folds' predictions pooled (nil when no fold results were given).
    public let pooled: Metrics?
    public let perFold: FoldMean
    public let folds: [FoldResult]
    /// Problems that did not stop the run (e.g. PNGs drawn without text: no font).
    public let warnings: [String]

    /// metrics.json's content.
    public var json: JSONValue {
        var root: [String: JSONValue] = ["classes": .array(classes.map { .string($0) })]
        if let p = pooled {
            root["pooled"] = .object([
                "n": .int(p.count),
                "accuracy": .number(p.accuracy), "uf1": .number(p.uf1), "uar": .number(p.uar),
                "confusion": .array(p.confusion.map { .array($0.map { .int($0) }) }),
                "per_class": .array(p.perClass.enumerated().map { k, c in
                    .object(["class": .string(classes[k]), "precision": .number(c.precision), "recall": .number(c.recall),
                             "f1": .number(c.f1), "support": .int(c.support)])
                }),
            ])
        } else {
            root["pooled"] = .null
        }
        root["per_fold"] = .object([
            "accuracy": .number(perFold.accuracy), "uf1": .number(perFold.uf1), "uar": .number(perFold.uar),
            "folds": .array(zip(folds, perFold.folds).map { f, m in
                .object(["subject": .string(f.subject), "n": .int(m.count), "accuracy": .number(m.accuracy),
                         "uf1": .number(m.uf1), "uar": .number(m.uar)])
            }),
        ])
        root["conventions"] = .string(RunResult.conventions)
        return .object(root)
    }

    public static let conventions = "pooled = all folds' test predictions concatenated, then scored once; "
        + "UF1 = mean of 2TP/(2TP+FP+FN) over classes with TP+FP+FN > 0; UAR = mean recall over classes with support > 0; "
        + "confusion[true][predicted]; per_fold = unweighted mean of each fold's own figures"
}

/// A run's directory: `<parent>/<name>-<yyyyMMdd-HHmmss>[-n]/` holding
/// - `recipe.lua`: a copy of the script that ran,
/// - `config.json`: arguments, seed, threads, the recipe's config, versions, machine,
/// - `log.csv`: one row per `log` call,
/// - on `finish`: `metrics.json`, `curves.png`, `confusion.png`, `report.html`.
///
/// log.csv's columns: the first row's keys with `fold` and `epoch` first, then the rest
/// sorted. A later row with new keys adds them at the end (sorted) and the file is
/// rewritten with the wider header (empty cells for earlier rows) — union and rewrite,
/// atomically. Otherwise each row is appended with one write(2), so a crash leaves whole
/// lines. All other files are written to a temporary file and renamed.
public final class RunDirectory {
    public let path: String
    public let name: String
    public let settings: [(String, String)]
    public private(set) var columns: [String] = []
    public private(set) var rows: [[String: LogValue]] = []
    public private(set) var folds: [FoldResult] = []
    public private(set) var finished = false

    init(path: String, name: String, settings: [(String, String)]) {
        self.path = path; self.name = name; self.settings = settings
    }

    /// Makes the directory and writes recipe.lua (when `recipe` names a readable file) and config.json.
    public static func create(name: String, parent: String = "runs", recipe: String?, arguments: [String],
                              seed: UInt64?, threads: Int, config: [String: JSONValue], version: String,
                              now: Date = Date(), exactPath: String? = nil) throws -> RunDirectory {
        let clean = String(name.map { $0 == "/" || $0 == "\\" || $0.isWhitespace ? "-" : $0 })
        guard !clean.isEmpty, clean != ".", clean != ".." else { throw EvalError("run: the name must not be empty") }
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw EvalError("run: cannot create \(parent): \(error.localizedDescription)")
        }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyyMMdd-HHmmss"
        let stamp = f.string(from: now)
        var path = ""
        if let exact = exactPath {
            // A run directory several processes share (folds run with --fold K): made if missing.
            do { try FileManager.default.createDirectory(atPath: exact, withIntermediateDirectories: true) } catch {
                throw EvalError("run: cannot create \(exact): \(error.localizedDescription)")
            }
            path = exact
        }
        for n in 1...1000 where path.isEmpty {
            let candidate = "\(parent)/\(clean)-\(stamp)" + (n == 1 ? "" : "-\(n)")
            // mkdir fails if the directory exists, so two runs in the same second differ.
            if mkdir(candidate, 0o755) == 0 { path = candidate; break }
            if errno != EEXIST { throw EvalError("run: cannot create \(candidate): \(String(cString: strerror(errno)))") }
        }
        guard !path.isEmpty else { throw EvalError("run: too many runs named \(clean) at \(stamp)") }

        var recipeCopied: String?
        if let r = recipe, let data = FileManager.default.contents(atPath: r) {
            try AtomicFile.write(data, to: path + "/recipe.lua")
            recipeCopied = r
        }
        let iso = ISO8601DateFormatter()
        let versions: [String: JSONValue] = ["mer_script": .string(version), "swift": .string(SystemInfo.swiftVersion),
                                             "os": .string(SystemInfo.operatingSystem), "cpu": .string(SystemInfo.cpu)]
        let json: JSONValue = .object([
            "name": .string(name),
            "created": .string(iso.string(from: now)),
            "recipe": recipeCopied.map { .string($0) } ?? .null,
            "arguments": .array(arguments.map { .string($0) }),
            "seed": seed.map { .int(Int(truncatingIfNeeded: $0)) } ?? .null,
            "threads": .int(threads),
            "config": .object(config),
            "versions": .object(versions),
        ])
        try AtomicFile.write(json.serialized(), to: path + "/config.json")

        var settings: [(String, String)] = [("name", name), ("created", iso.string(from: now)),
                                            ("recipe", recipeCopied ?? "(none)"),
                                            ("arguments", arguments.isEmpty ? "(none)" : arguments.joined(separator: " ")),
                                            ("seed", seed.map { String($0) } ?? "(not set)"), ("threads", String(threads))]
        settings += config.keys.sorted().map { ("config.\($0)", config[$0]!.text) }
        settings += [("mer-script", version), ("Swift", SystemInfo.swiftVersion), ("OS", SystemInfo.operatingSystem), ("CPU", SystemInfo.cpu)]
        return RunDirectory(path: path, name: name, settings: settings)
    }

    /// Used when reopening a run: the columns and rows already on disk.
    func restoreRows(columns: [String], rows: [[String: LogValue]]) {
        self.columns = columns
        self.rows = rows
    }

    // MARK: log.csv

    public func log(_ row: [String: LogValue]) throws {
        guard !row.isEmpty else { throw EvalError("log: the row is empty") }
        let newKeys = row.keys.filter { !columns.contains($0) }
        rows.append(row)
        if columns.isEmpty {
            columns = RunDirectory.order(Array(row.keys))
            try AtomicFile.write(csv(), to: path + "/log.csv")
        } else if !newKeys.isEmpty {
            columns += newKeys.sorted()
            try AtomicFile.write(csv(), to: path + "/log.csv")
        } else {
            try append(line(row) + "\n", to: path + "/log.csv")
        }
    }

    /// `fold` and `epoch` first, then the other keys sorted.
    static func order(_ keys: [String]) -> [String] {
        let front = ["fold", "epoch"].filter(keys.contains)
        return front + keys.filter { !front.contains($0) }.sorted()
    }

    func line(_ row: [String: LogValue]) -> String { columns.map { row[$0]?.csv ?? "" }.joined(separator: ",") }

    func csv() -> String { ([columns.joined(separator: ",")] + rows.map(line)).joined(separator: "\n") + "\n" }

    /// Appends a row; a log.csv that is a symbolic link or not a regular file is refused.
    private func append(_ text: String, to file: String) throws {
        do { try SafeFile.append(Data(text.utf8), to: file) } catch let e as FileError { throw EvalError("log: \(e.description)") }
    }

    // MARK: Folds and the end of the run

    public func addFold(_ fold: FoldResult) throws {
        guard fold.pred.count == fold.target.count else {
            throw EvalError("fold_result: \(fold.pred.count) predictions but \(fold.target.count) targets (subject \(fold.subject))")
        }
        folds.append(fold)
    }

    /// Scores the collected folds (pooled and per fold) and writes metrics.json,
    /// curves.png, confusion.png and report.html. `classes` names the classes in label
    /// order; when empty they are "1".."C" with C the largest label seen.
    /// Without a usable font the PNGs are drawn without text and a warning says so.
    public func finish(classes: [String], font: FontRenderer? = nil, fontError: String? = nil) throws -> RunResult {
        var names = classes
        if names.isEmpty {
            let top = folds.flatMap { $0.pred + $0.target }.max() ?? 0
            names = (1...max(1, top + 1)).map(String.init)
        }
        let c = names.count
        let pairs = folds.map { (pred: $0.pred, target: $0.target) }
        let pooled = folds.isEmpty ? nil : try Metrics.pooled(folds: pairs, classes: c)
        let perFold = try Metrics.perFoldMean(folds: pairs, classes: c)
        var warnings: [String] = []
        if folds.isEmpty { warnings.append("no fold results were given (run:fold_result), so there are no test metrics") }

        var font = font
        if font == nil {
            if let e = fontError { warnings.append("\(e); the PNGs have no text (the SVGs in report.html do)") }
            else {
                do { font = try FontRenderer.loadDefault() } catch {
                    warnings.append("\(error); the PNGs have no text (the SVGs in report.html do)")
                }
            }
        }
        for w in warnings where w.contains("PNGs have no text") { fputs("mer-script: warning: \(w)\n", stderr) }
        let measure: TextMeasure = font ?? EstimatedTextMeasure()

        let result = RunResult(classes: names, pooled: pooled, perFold: perFold, folds: folds, warnings: warnings)
        try AtomicFile.write(result.json.serialized(), to: path + "/metrics.json")

        let curves = Plot.charts(Curves.charts(rows: rows, columns: columns), title: "\(name): training curves", measure: measure)
        try Raster.render(curves, font: font).savePNG(path + "/curves.png")
        let confusion = Plot.confusion(pooled?.confusion ?? Array(repeating: Array(repeating: 0, count: c), count: c),
                                       classes: names, measure: measure)
        try Raster.render(confusion, font: font).savePNG(path + "/confusion.png")

        let html = Report.html(name: name, settings: settings, result: result,
                               curvesSVG: SVG.render(curves, id: "curves"), confusionSVG: SVG.render(confusion, id: "confusion"))
        try AtomicFile.write(html, to: path + "/report.html")
        finished = true
        return result
    }
}
