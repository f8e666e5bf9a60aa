import Foundation
import XCTest
import MERData
import ZIPFoundation

final class CodingSheetTests: XCTestCase {
    func testXLSXFixtureReadsSharedInlineNumericAndRichTextCells() throws {
        let sheet = try CodingSheet(path: Fixtures.casme2 + "/CASME2-coding-20140508.xlsx", required: CASME2Dataset.columns)
        XCTAssertEqual(sheet.headerRow, 1)
        XCTAssertEqual(sheet.header, ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Action Units", "Estimated Emotion"])
        XCTAssertEqual(sheet.records.count, 12)  // the empty row is skipped
        let r0 = sheet.records[0]
        XCTAssertEqual(r0.row, 2)
        XCTAssertEqual(sheet.text(r0, "Subject"), "1")           // numeric cell
        XCTAssertEqual(sheet.integer(r0, "Onset Frame"), 46)     // loose column names
        XCTAssertEqual(sheet.text(r0, "Filename"), "EP02_01f")  // shared string
        let emotions = sheet.records.map { sheet.text($0, "Estimated Emotion") }
        XCTAssertEqual(emotions[8], "happiness")  // rich-text runs "happi" + bold "ness"
        XCTAssertEqual(emotions[9], "sadness")    // inline string
        XCTAssertEqual(sheet.text(sheet.records[1], "ApexFrame"), "/")
        XCTAssertNil(sheet.integer(sheet.records[1], "ApexFrame"))
    }

    func testSheetXMLCellTypesMissingCellsAndColumnLetters() throws {
        XCTAssertEqual(XLSXReader.cellReference("A1")?.column, 0)
        XCTAssertEqual(XLSXReader.cellReference("Z3")?.column, 25)
        XCTAssertEqual(XLSXReader.cellReference("AA10")?.column, 26)
        XCTAssertEqual(XLSXReader.cellReference("AB10")?.row, 10)
        XCTAssertNil(XLSXReader.cellReference("12"))
        let ss = XLSXReader.sharedStrings(Data("""
            <sst xmlns="x"><si><t>Subject</t></si><si><r><t>rich </t></r><r><rPr><b/></rPr><t>text</t></r><rPh><t>PHONETIC</t></rPh></si></sst>
            """.utf8))
        XCTAssertEqual(ss, ["Subject", "rich text"])
        let rows = try XLSXReader.rows(Data("""
            <worksheet><sheetData>
            <row r="2"><c r="A2" t="s"><v>0</v></c><c r="C2" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c><c r="D2"><v>3.0</v></c></row>
            <row r="5"><c t="b"><v>1</v></c><c t="str"><f>A1</f><v>formula</v></c><c r="AA5" t="s"><v>1</v></c></row>
            </sheetData></worksheet>
            """.utf8), shared: ss, file: "t.xlsx")
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0].row, 2)
        XCTAssertEqual(rows[0].cells, [0: "Subject", 2: "inline", 3: "3.0"])  // B2 missing
        XCTAssertEqual(rows[1].row, 5)
        XCTAssertEqual(rows[1].cells, [0: "TRUE", 1: "formula", 26: "rich text"])
        XCTAssertThrowsError(try XLSXReader.rows(Data("<worksheet><sheetData><row r=\"1\"><c t=\"s\"><v>9</v></c></row></sheetData></worksheet>".utf8),
                                                 shared: ss, file: "t.xlsx")) {
            XCTAssertTrue("\($0)".contains("t.xlsx: row 1: shared string index '9' out of range"), "\($0)")
        }
    }

    func testCellReferencesBeyondASheetAreRefusedWithoutOverflow() throws {
        XCTAssertEqual(XLSXReader.cellReference("XFD1048576")?.column, 16_383)
        XCTAssertNil(XLSXReader.cellReference("XFE1"))
        XCTAssertNil(XLSXReader.cellReference("A1048577"))
        XCTAssertNil(XLSXReader.cellReference("A0"))
        XCTAssertNil(XLSXReader.cellReference("AAAAAAAAAAAAAAAAAAAA2"))
        XCTAssertNil(XLSXReader.cellReference("A" + String(repeating: "9", count: 40)))
        func sheet(_ xml: String) -> Data { Data("<worksheet><sheetData>\(xml)</sheetData></worksheet>".utf8) }
        XCTAssertThrowsError(try XLSXReader.rows(sheet("<row r=\"2\"><c r=\"AAAAAAAAAAAAAAAAAAAA2\"><v>1</v></c></row>"), shared: [], file: "t.xlsx")) {
            XCTAssertTrue("\($0)".contains("t.xlsx: row 2: cell reference 'AAAAAAAAAAAAAAAAAAAA2' is not a cell of a sheet"), "\($0)")
        }
        XCTAssertThrowsError(try XLSXReader.rows(sheet("<row r=\"4611686018427387904\"><c><v>1</v></c></row>"), shared: [], file: "t.xlsx")) {
            XCTAssertTrue("\($0)".contains("row number '4611686018427387904' is not in 1...1048576"), "\($0)")
        }
    }

    /// An .xlsx whose worksheet inflates past the part limit (a zip bomb, scaled down here by
    /// lowering the limit) is refused before it is held in memory.
    func testAWorksheetThatInflatesPastTheLimitIsRefused() throws {
        let dir = NSTemporaryDirectory() + "mer-xlsx-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bomb.xlsx"
        // 4 MB of one repeated row: deflates to a few kilobytes.
        let row = "<row><c t=\"inlineStr\"><is><t>x</t></is></c></row>"
        let xml = "<worksheet><sheetData>" + String(repeating: row, count: 4_000_000 / row.count) + "</sheetData></worksheet>"
        try XLSXTestFile.write(path, sheet: Data(xml.utf8))
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int, 200_000)
        let saved = XLSXReader.maxPartBytes
        defer { XLSXReader.maxPartBytes = saved }
        XLSXReader.maxPartBytes = 1 << 20
        XCTAssertThrowsError(try XLSXReader.readFirstSheet(path: path)) {
            XCTAssertTrue("\($0)".contains("bomb.xlsx: xl/worksheets/sheet1.xml inflates to more than 1 MB"), "\($0)")
        }
        // The same file under the default limit reads.
        XLSXReader.maxPartBytes = saved
        XCTAssertEqual(try XLSXReader.readFirstSheet(path: path).count, 4_000_000 / row.count)
    }

    func testCSVQuotesCommasNewlinesCRLFAndBOM() {
        let text = "\u{FEFF}Subject,Filename,Note\r\n1,\"EP,01\",\"say \"\"hi\"\"\r\nthere\"\r\n\r\n2,EP02,\n"
        let rows = CSVReader.parse(text)
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(rows[0].cells, [0: "Subject", 1: "Filename", 2: "Note"])
        XCTAssertEqual(rows[1].cells, [0: "1", 1: "EP,01", 2: "say \"hi\"\r\nthere"])
        XCTAssertEqual(rows[1].row, 2)
        XCTAssertEqual(rows[2].cells, [:])
        XCTAssertEqual(rows[3].row, 5)
        XCTAssertEqual(rows[3].cells, [0: "2", 1: "EP02"])
    }

    func testHeaderAfterPreambleRows() throws {
        let sheet = try CodingSheet(path: Fixtures.samm + "/SAMM_Micro_FACS_Codes_v2.xlsx", required: SAMMDataset.columns)
        XCTAssertEqual(sheet.headerRow, 4)
        XCTAssertEqual(sheet.records.count, 6)
        XCTAssertEqual(sheet.text(sheet.records[0], "Filename"), "006_1_2")
        XCTAssertEqual(sheet.integer(sheet.records[0], "OnsetFrame"), 5562)
    }

    func testMissingColumnErrorNamesFileRowAndFoundColumns() throws {
        let dir = try Fixtures.tempDir()
        let path = dir + "/CASME2-coding-test.csv"
        try "Subject,Filename,OnsetFrame,OffsetFrame,Estimated Emotion\n1,EP01,1,5,happiness\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try CodingSheet(path: path, required: CASME2Dataset.columns)) {
            XCTAssertEqual("\($0)", "CASME2-coding-test.csv: row 1: missing column ApexFrame (found: Subject, Filename, OnsetFrame, OffsetFrame, Estimated Emotion)")
        }
    }

    func testNonNumericFrameErrorNamesFileRowAndColumn() throws {
        let root = try Fixtures.tempDir()
        try "Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Estimated Emotion\n1,EP01,1,2,3,happiness\n1,EP02,abc,2,3,happiness\n"
            .write(toFile: root + "/CASME2-coding-20140508.csv", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/CASME2_RAW_selected/sub01/EP01", withIntermediateDirectories: true)
        for n in 1...3 { FileManager.default.createFile(atPath: root + "/CASME2_RAW_selected/sub01/EP01/img\(n).jpg", contents: Data([0])) }
        XCTAssertThrowsError(try casme2(root)) {
            XCTAssertEqual("\($0)", "CASME2-coding-20140508.csv: row 3: OnsetFrame 'abc' is not a number")
        }
    }

    func testCSVSheetWith2019ExtraColumnsIsRead() throws {
        let root = try Fixtures.copy(Fixtures.casme2)
        try FileManager.default.removeItem(atPath: root + "/CASME2-coding-20140508.xlsx")
        try """
            Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Action Units,Estimated Emotion,Objective Class,Extra
            sub01,EP02_01f,46,59,86,12,happiness,1,x\r
            "01","EP05_03",1,3,9,"4",others,7,y\r

            """.write(toFile: root + "/CASME2-coding-2019.csv", atomically: true, encoding: .utf8)
        let ds = try casme2(root)
        XCTAssertEqual(ds.count, 2)
        XCTAssertEqual(ds.id(at: 1), "sub01/EP05_03")
        XCTAssertEqual(ds.label(at: 1), 4)
        XCTAssertTrue(ds.warnings.isEmpty, "\(ds.warnings)")
    }
}

/// A one-sheet .xlsx made with ZIPFoundation (no workbook.xml: the reader falls back to
/// xl/worksheets/sheet1.xml).
enum XLSXTestFile {
    static func write(_ path: String, sheet: Data) throws {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        try archive.addEntry(with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: Int64(sheet.count),
                             compressionMethod: .deflate) { position, size in
            sheet.subdata(in: Int(position)..<(Int(position) + size))
        }
    }
}
