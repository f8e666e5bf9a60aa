import Foundation

extension RunDirectory {
    /// Reopens an existing run directory (to resume an interrupted run, or to pool folds
    /// run separately with `--fold`): its settings come from config.json and the rows
    /// already in log.csv are kept, so the curves cover the whole run.
    public static func reopen(path: String) throws -> RunDirectory {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw EvalError("run: \(path) is not a directory")
        }
        guard let data = FileManager.default.contents(atPath: path + "/config.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw EvalError("run: \(path) is not a run directory (no readable config.json)")
        }
        let name = json["name"] as? String ?? (path as NSString).lastPathComponent
        var settings: [(String, String)] = [("name", name)]
        for key in ["created", "recipe", "seed", "threads"] {
            if let v = json[key], !(v is NSNull) { settings.append((key, "\(v)")) }
        }
        if let args = json["arguments"] as? [String] { settings.append(("arguments", args.isEmpty ? "(none)" : args.joined(separator: " "))) }
        if let config = json["config"] as? [String: Any] {
            settings += config.keys.sorted().map { ("config.\($0)", "\(config[$0]!)") }
        }
        if let versions = json["versions"] as? [String: String] {
            settings += versions.keys.sorted().map { ($0, versions[$0]!) }
        }
        let run = RunDirectory(path: path, name: name, settings: settings)
        if let text = try? String(contentsOfFile: path + "/log.csv", encoding: .utf8) {
            try run.restoreLog(text)
        }
        return run
    }

    /// Reads back rows written by `log` (numbers stay numbers, other cells text).
    func restoreLog(_ text: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard !lines.isEmpty else { return }
        let header = RunDirectory.splitCSV(lines.removeFirst())
        var restored: [[String: LogValue]] = []
        for line in lines {
            let cells = RunDirectory.splitCSV(line)
            var row: [String: LogValue] = [:]
            for (k, cell) in zip(header, cells) where !cell.isEmpty {
                row[k] = Double(cell).map { .number($0) } ?? .text(cell)
            }
            restored.append(row)
        }
        restoreRows(columns: header, rows: restored)
    }

    /// Splits one CSV line written by `LogValue.csv` (quoted cells may hold commas and "").
    static func splitCSV(_ line: String) -> [String] {
        var cells: [String] = [], cell = "", quoted = false
        var it = Array(line).makeIterator()
        while let c = it.next() {
            if quoted {
                if c == "\"" {
                    if let n = it.next() {
                        if n == "\"" { cell.append("\"") } else { quoted = false; if n == "," { cells.append(cell); cell = "" } else { cell.append(n) } }
                    } else { quoted = false }
                } else { cell.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { cells.append(cell); cell = "" }
            else { cell.append(c) }
        }
        cells.append(cell)
        return cells
    }
}
