import Foundation

/// RFC 4180 CSV: fields separated by commas, optionally in double quotes (which may hold
/// commas, newlines and `""` for a quote); LF or CRLF line ends; a UTF-8 BOM is dropped.
public enum CSVReader {
    /// Rows of (1-based line number where the record starts, cells by 0-based column).
    public static func parse(_ text: String) -> [(row: Int, cells: [Int: String])] {
        var rows: [(row: Int, cells: [Int: String])] = []
        var fields: [String] = [], field = "", inQuotes = false, line = 1, recordLine = 1
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        func endRecord() {
            fields.append(field); field = ""
            var cells: [Int: String] = [:]
            for (k, f) in fields.enumerated() where !f.isEmpty { cells[k] = f }
            rows.append((recordLine, cells)); fields = []
        }
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < scalars.count && scalars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 }
                    else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case "\"": inQuotes = true
                case ",": fields.append(field); field = ""
                case "\r":
                    if i + 1 < scalars.count && scalars[i + 1] == "\n" { i += 1 }
                    endRecord(); line += 1; recordLine = line
                case "\n": endRecord(); line += 1; recordLine = line
                default: field.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return rows
    }
}
