import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// A minimal reader of the first worksheet of an .xlsx workbook: cell text by row.
///
/// An .xlsx file is a zip of XML parts. We read `xl/workbook.xml` (the first `<sheet>`'s
/// relationship id), `xl/_rels/workbook.xml.rels` (id → part path), `xl/sharedStrings.xml`
/// (the string table, rich-text runs concatenated, phonetic runs skipped) and the sheet
/// itself. Cell types: `s` (shared string index), `inlineStr` (`<is><t>`), `str`
/// (formula string), `b` (boolean → TRUE/FALSE), `e` (error text), `n`/absent (number, kept
/// as written). Cells without an `r` reference follow the previous one.
public enum XLSXReader {
    /// Largest uncompressed part (a worksheet, the string table) read from a workbook. A
    /// coding sheet is kilobytes and a 100 000-row sheet tens of megabytes; a zip bomb (half
    /// a megabyte inflating to gigabytes) stops here, declared size or not (a 100 000-row,
    /// 7-column sheet is about 30 MB of XML).
    nonisolated(unsafe) public static var maxPartBytes = 64 << 20
    /// Excel's own limits: columns A…XFD, rows 1…1 048 576.
    public static let maxColumns = 16_384, maxRows = 1_048_576

    /// Rows of (1-based row number, cells by 0-based column index).
    public static func readFirstSheet(path: String) throws -> [(row: Int, cells: [Int: String])] {
        let name = (path as NSString).lastPathComponent
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw DataError("\(name): not a readable .xlsx file (zip): \(error)")
        }
        struct TooLarge: Error {}
        func part(_ p: String) throws -> Data? {
            guard let entry = archive[p] else { return nil }
            let limit = maxPartBytes
            let tooLarge = DataError("\(name): \(p) inflates to more than \(limit >> 20) MB; not a coding sheet (a zip bomb?)")
            guard entry.uncompressedSize <= UInt64(limit) else { throw tooLarge }
            var out = Data()
            do {
                // The declared size may lie: count what really comes out.
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    guard out.count + chunk.count <= limit else { throw TooLarge() }
                    out.append(chunk)
                }
            } catch is TooLarge { throw tooLarge }
            catch { throw DataError("\(name): cannot extract \(p): \(error)") }
            // Foundation's XML parser traps on some invalid UTF-8 (in a namespaced name):
            // an XML part must be UTF-8 before it reaches it.
            guard String(validating: out, as: UTF8.self) != nil else {
                throw DataError("\(name): \(p) is not valid UTF-8 (damaged or not a workbook)")
            }
            return out
        }
        var sheetPath = "xl/worksheets/sheet1.xml"
        if let wb = try part("xl/workbook.xml"), let rels = try part("xl/_rels/workbook.xml.rels") {
            let sheets = ElementCollector(element: "sheet"); parse(wb, sheets)
            let relations = ElementCollector(element: "Relationship"); parse(rels, relations)
            if let first = sheets.items.first,
               let rid = first.first(where: { $0.key == "r:id" || $0.key.hasSuffix(":id") })?.value,
               let target = relations.items.first(where: { $0["Id"] == rid })?["Target"] {
                sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
            }
        }
        var shared: [String] = []
        if let ss = try part("xl/sharedStrings.xml") { shared = sharedStrings(ss) }
        guard let sheet = try part(sheetPath) else {
            throw DataError("\(name): no worksheet \(sheetPath) in the workbook")
        }
        return try rows(sheet, shared: shared, file: name)
    }

    /// The shared-string table of `xl/sharedStrings.xml`.
    public static func sharedStrings(_ data: Data) -> [String] {
        guard String(validating: data, as: UTF8.self) != nil else { return [] }
        let p = SharedStringsParser(); parse(data, p); return p.strings
    }

    /// The rows of a worksheet part.
    public static func rows(_ sheet: Data, shared: [String], file: String) throws -> [(row: Int, cells: [Int: String])] {
        guard String(validating: sheet, as: UTF8.self) != nil else { throw DataError("\(file): worksheet is not valid UTF-8") }
        let sp = SheetParser(shared: shared)
        let parser = XMLParser(data: sheet)
        parser.delegate = sp
        let parsed = parser.parse()
        if let e = sp.error { throw DataError("\(file): \(e)") }
        if !parsed {
            throw DataError("\(file): malformed worksheet XML (\(parser.parserError.map { "\($0)" } ?? "unknown error"))")
        }
        return sp.rows
    }

    private static func parse(_ data: Data, _ delegate: XMLParserDelegate) {
        guard String(validating: data, as: UTF8.self) != nil else { return }
        let p = XMLParser(data: data)
        p.delegate = delegate
        _ = p.parse()
    }

    /// "B12" → (column 1, row 12); column letters are base-26 (A=1 … Z=26, AA=27). Nil for
    /// anything else, including references past Excel's last column or row.
    public static func cellReference(_ ref: String) -> (column: Int, row: Int)? {
        var col = 0, row = 0, sawLetter = false, sawDigit = false
        for s in ref.unicodeScalars {
            switch s.value {
            case 65...90 where !sawDigit: col = col * 26 + Int(s.value - 64); sawLetter = true
            case 97...122 where !sawDigit: col = col * 26 + Int(s.value - 96); sawLetter = true
            case 48...57: row = row * 10 + Int(s.value - 48); sawDigit = true
            case 36: continue  // "$"
            default: return nil
            }
            // Checked at every step, so the arithmetic cannot overflow.
            if col > maxColumns || row > maxRows { return nil }
        }
        return sawLetter && sawDigit && row >= 1 ? (col - 1, row) : nil
    }
}

private final class ElementCollector: NSObject, XMLParserDelegate {
    let element: String
    var items: [[String: String]] = []
    init(element: String) { self.element = element }
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if localName(elementName) == element { items.append(attributeDict) }
    }
}

private func localName(_ n: String) -> Substring {
    if let c = n.lastIndex(of: ":") { return n[n.index(after: c)...] }
    return n[...]
}

private final class SharedStringsParser: NSObject, XMLParserDelegate {
    var strings: [String] = []
    private var current = "", inSI = false, inT = false, phonetic = 0
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        switch localName(elementName) {
        case "si": inSI = true; current = ""
        case "rPh": phonetic += 1
        case "t": inT = true
        default: break
        }
    }
    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        switch localName(elementName) {
        case "si": strings.append(current); inSI = false
        case "rPh": phonetic -= 1
        case "t": inT = false
        default: break
        }
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inSI && inT && phonetic == 0 { current += string }
    }
}

private final class SheetParser: NSObject, XMLParserDelegate {
    let shared: [String]
    var rows: [(row: Int, cells: [Int: String])] = []
    var error: String?
    private var rowNumber = 0, cells: [Int: String] = [:], inRow = false
    private var col = -1, type = "n", value = "", inV = false, inT = false, inIs = false, phonetic = 0

    init(shared: [String]) { self.shared = shared }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes a: [String: String] = [:]) {
        switch localName(elementName) {
        case "row":
            var r = rowNumber + 1
            if let given = a["r"] {
                if let n = Int(given), (1...XLSXReader.maxRows).contains(n) { r = n }
                else { error = error ?? "row \(rowNumber + 1): row number '\(given.prefix(40))' is not in 1...\(XLSXReader.maxRows)" }
            }
            rowNumber = r; cells = [:]; inRow = true; col = -1
        case "c":
            if let ref = a["r"] {
                if let cr = XLSXReader.cellReference(ref) {
                    col = cr.column
                    if !inRow { rowNumber = cr.row }
                } else {
                    error = error ?? "row \(rowNumber): cell reference '\(ref.prefix(40))' is not a cell of a sheet (A1…XFD\(XLSXReader.maxRows))"
                    col += 1
                }
            } else { col += 1 }
            if col >= XLSXReader.maxColumns {
                error = error ?? "row \(rowNumber): more than \(XLSXReader.maxColumns) cells"
                parser.abortParsing()
            }
            type = a["t"] ?? "n"; value = ""
        case "v": inV = true
        case "is": inIs = true
        case "rPh": phonetic += 1
        case "t": inT = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        switch localName(elementName) {
        case "v": inV = false
        case "is": inIs = false
        case "rPh": phonetic -= 1
        case "t": inT = false
        case "c":
            var text: String
            switch type {
            case "s":
                let k = Int(value.trimmingCharacters(in: .whitespaces)) ?? -1
                if k >= 0 && k < shared.count { text = shared[k] }
                else { error = error ?? "row \(rowNumber): shared string index '\(value)' out of range"; text = "" }
            case "b": text = value == "1" ? "TRUE" : (value == "0" ? "FALSE" : value)
            default: text = value
            }
            if !text.isEmpty { cells[col] = text }
        case "row":
            rows.append((rowNumber, cells)); inRow = false
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inV || (inIs && inT && phonetic == 0) { value += string }
    }
}
