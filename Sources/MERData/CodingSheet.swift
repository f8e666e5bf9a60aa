import Foundation

/// A coding sheet (.xlsx or .csv) after header detection: one record per non-empty row
/// below the header, cells looked up by column name.
///
/// Column names match loosely: case, spaces, underscores and hyphens are ignored, so
/// `OnsetFrame`, `Onset Frame` and `onset_frame` are the same column. The header is the
/// first row that contains every required column (SAMM's sheet has preamble rows above
/// it); columns not asked for (the 2019 CASME II sheet's extras) are ignored.
public struct CodingSheet {
    public struct Record {
        /// 1-based row number in the sheet (the line number for a CSV file).
        public let row: Int
        let cells: [Int: String]
    }

    /// The file name used in error messages.
    public let file: String
    public let path: String
    /// The header's cells, as written.
    public let header: [String]
    public let headerRow: Int
    public let records: [Record]
    private let columnIndex: [String: Int]

    /// Reads `path` (.xlsx, or .csv/.txt as CSV) and finds the header row holding `required`.
    public init(path: String, required: [String]) throws {
        let file = (path as NSString).lastPathComponent
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError("coding sheet not found: \(path)")
        }
        let raw: [(row: Int, cells: [Int: String])]
        let ext = (path as NSString).pathExtension.lowercased()
        if ext == "xlsx" || ext == "xlsm" {
            raw = try XLSXReader.readFirstSheet(path: path)
        } else if ext == "csv" || ext == "txt" {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DataError("\(file): cannot read the file")
            }
            let text = String(data: data, encoding: .utf8) ?? String(decoding: data, as: UTF8.self)
            raw = CSVReader.parse(text)
        } else {
            throw DataError("\(file): unsupported coding sheet format '.\(ext)' (expected .xlsx or .csv)")
        }
        try self.init(file: file, path: path, rows: raw, required: required)
    }

    /// Builds a sheet from already-split rows (used by the readers and by tests).
    init(file: String, path: String, rows raw: [(row: Int, cells: [Int: String])], required: [String]) throws {
        self.file = file; self.path = path
        let rows = raw.filter { !$0.cells.values.allSatisfy { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } }
        let wanted = required.map(CodingSheet.normalise)
        var best: (index: Int, matches: Int)? = nil
        var found: Int? = nil
        for (k, r) in rows.enumerated() {
            let names = Set(r.cells.values.map(CodingSheet.normalise))
            let m = wanted.filter { names.contains($0) }.count
            if m == wanted.count { found = k; break }
            if m > (best?.matches ?? 0) { best = (k, m) }
        }
        guard let h = found else {
            let near = best.map { rows[$0.index] } ?? rows.first
            let names = near.map { r in r.cells.keys.sorted().map { r.cells[$0]!.trimmingCharacters(in: .whitespaces) } } ?? []
            let have = Set(names.map(CodingSheet.normalise))
            let missing = required.filter { !have.contains(CodingSheet.normalise($0)) }
            let where_ = near.map { "row \($0.row): " } ?? ""
            throw DataError("\(file): \(where_)missing column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) (found: \(names.isEmpty ? "no header" : names.joined(separator: ", ")))")
        }
        let headerCells = rows[h].cells
        var index: [String: Int] = [:]
        for (col, name) in headerCells.sorted(by: { $0.key < $1.key }) {
            let n = CodingSheet.normalise(name)
            if index[n] == nil { index[n] = col }
        }
        header = headerCells.keys.sorted().map { headerCells[$0]!.trimmingCharacters(in: .whitespaces) }
        headerRow = rows[h].row
        columnIndex = index
        records = rows[(h + 1)...].map { Record(row: $0.row, cells: $0.cells) }
    }

    static func normalise(_ name: String) -> String {
        String(name.lowercased().unicodeScalars.filter {
            !CharacterSet.whitespacesAndNewlines.contains($0) && $0 != "_" && $0 != "-"
        })
    }

    public func has(column: String) -> Bool { columnIndex[CodingSheet.normalise(column)] != nil }

    /// The trimmed text of `column` in `record` ("" when the cell is empty or the column absent).
    public func text(_ record: Record, _ column: String) -> String {
        guard let c = columnIndex[CodingSheet.normalise(column)] else { return "" }
        return (record.cells[c] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The cell as an integer (`46`, `46.0` and `" 46 "` all read 46), nil when not a number.
    public func integer(_ record: Record, _ column: String) -> Int? {
        CodingSheet.parseInteger(text(record, column))
    }

    /// Like `integer` but a non-number is an error naming file, row and column.
    public func requireInteger(_ record: Record, _ column: String) throws -> Int {
        let t = text(record, column)
        guard let v = CodingSheet.parseInteger(t) else {
            throw DataError("\(file): row \(record.row): \(column) '\(t)' is not a number")
        }
        return v
    }

    static func parseInteger(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        if let v = Int(t) { return v }
        if let d = Double(t), d.isFinite, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }
}
