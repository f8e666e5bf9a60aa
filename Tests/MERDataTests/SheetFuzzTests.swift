import Foundation
import MERData
import XCTest
import ZIPFoundation

/// Hostile coding sheets: seeded mutations of the fixture workbooks (their raw zip bytes,
/// and their worksheet XML re-zipped so the damage reaches the XML parser) and of a CSV
/// sheet. Every case must give a sheet or a DataError naming the file, the same way twice;
/// never a crash, a hang or unbounded memory. 300 cases each in the suite;
/// `MER_SHEET_FUZZ_COUNT=10000` for a long run (`MER_SHEET_FUZZ_SEED` varies the stream).
final class SheetFuzzTests: XCTestCase {
    let count = ProcessInfo.processInfo.environment["MER_SHEET_FUZZ_COUNT"].flatMap(Int.init) ?? 300
    let seed = ProcessInfo.processInfo.environment["MER_SHEET_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EE7
    var dir: String!

    override func setUpWithError() throws { dir = try Fixtures.tempDir() }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
    }

    func mutate(_ original: [UInt8], _ rng: inout Rng, alphabet: [UInt8]) -> [UInt8] {
        var b = original
        for _ in 0..<(1 + rng.below(4)) where !b.isEmpty {
            let p = rng.below(b.count)
            switch rng.below(6) {
            case 0: b[p] ^= UInt8(1 << rng.below(8))
            case 1: b[p] = alphabet[rng.below(alphabet.count)]
            case 2: b.remove(at: p)
            case 3: b.insert(alphabet[rng.below(alphabet.count)], at: p)
            case 4: b = Array(b.prefix(p))
            default: // repeat a stretch: long numbers, deep nesting, many rows
                let n = 1 + rng.below(64), end = min(b.count, p + n)
                b.insert(contentsOf: Array(repeating: b[p..<end], count: 1 + rng.below(50)).joined(), at: p)
            }
        }
        return b
    }

    /// Reads a sheet twice: both reads agree (a sheet or the same error naming the file).
    func probe(_ path: String, _ label: String) {
        func read() -> String {
            do {
                let s = try CodingSheet(path: path, required: ["Subject", "Filename", "OnsetFrame"])
                return "ok \(s.header) \(s.records.count) " + s.records.prefix(50).map { s.text($0, "Filename") + s.text($0, "OnsetFrame") }.joined()
            } catch let e as DataError {
                XCTAssertTrue("\(e)".contains((path as NSString).lastPathComponent), "\(label): \(e)")
                return "error \(e)"
            } catch {
                XCTFail("\(label): not a DataError: \(error)")
                return "?"
            }
        }
        XCTAssertEqual(read(), read(), label)
    }

    func testMutatedWorkbooksAndTheirXML() throws {
        var rng = Rng(state: seed)
        let workbooks = [Fixtures.casme2 + "/CASME2-coding-20140508.xlsx", Fixtures.samm + "/SAMM_Micro_FACS_Codes_v2.xlsx"]
        let raw = try workbooks.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0))) }
        // The worksheet XML of the CASME II fixture, for mutations that reach the XML parser.
        var sheetXML = Data()
        let archive = try Archive(url: URL(fileURLWithPath: workbooks[0]), accessMode: .read)
        guard let entry = archive["xl/worksheets/sheet1.xml"] else { return XCTFail("fixture has no sheet1.xml") }
        _ = try archive.extract(entry) { sheetXML.append($0) }
        let xmlAlphabet = Array("<>/=\"' cvrts0123456789AZ&;#x".utf8)
        for i in 0..<count {
            let path = dir + "/fuzz-\(i).xlsx"
            if i % 2 == 0 {
                try Data(mutate(raw[i % 4 / 2], &rng, alphabet: Array(0...255))).write(to: URL(fileURLWithPath: path))
            } else {
                try XLSXTestFile.write(path, sheet: Data(mutate([UInt8](sheetXML), &rng, alphabet: xmlAlphabet)))
            }
            probe(path, "case \(i)")
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    func testMutatedCSVSheets() throws {
        var rng = Rng(state: seed ^ 0xC5)
        let csv = Array("""
            Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Estimated Emotion
            1,EP02_01f,46,59,86,happiness
            "2","EP03_02, take 2",10,/,40,"re""pression"
            3,EP05_03,1,3,9,others\r
            """.utf8)
        for i in 0..<count {
            let path = dir + "/fuzz-\(i).csv"
            try Data(mutate(csv, &rng, alphabet: Array(",\"\r\n 0123456789aZ/-.e".utf8) + [0xEF, 0xBB, 0xBF, 0xFF, 0])).write(to: URL(fileURLWithPath: path))
            probe(path, "case \(i)")
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
