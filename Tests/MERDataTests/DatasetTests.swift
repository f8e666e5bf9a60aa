import Foundation
import XCTest
import MERData
import MERTensor

final class CASME2Tests: XCTestCase {
    func testFiveClassLabelsQuirksAndWarnings() throws {
        let ds = try casme2()
        XCTAssertEqual(ds.classNames, ["happiness", "disgust", "repression", "surprise", "others"])
        XCTAssertEqual(ds.count, 10)       // 12 rows, fear and sadness excluded
        XCTAssertEqual(ds.excluded, 2)
        XCTAssertEqual(ds.subjects, ["sub01", "sub02", "sub03"])  // `1`, `sub02 `, `03` normalised
        let byID = Dictionary(uniqueKeysWithValues: ds.entries.map { ($0.id, $0) })
        XCTAssertEqual(byID["sub01/EP03_02"]?.apexFrame, 20)   // apex '/' → (10 + 30) / 2
        XCTAssertEqual(byID["sub01/EP04_02"]?.apexFrame, 15)   // apex == onset → (5 + 25) / 2
        XCTAssertEqual(byID["sub01/EP02_01f"]?.apexFrame, 59)
        XCTAssertEqual(byID["sub02/EP02_04f"]?.label, 1)       // "Disgust" with stray spaces
        XCTAssertEqual(byID["sub02/EP01_11f"]?.label, 3)       // "surprise "
        XCTAssertEqual(byID["sub03/EP01_01"]?.label, 0)        // rich-text "happiness"
        XCTAssertTrue(byID["sub01/EP03_02"]!.apexPath.hasSuffix("CASME2_RAW_selected/sub01/EP03_02/img20.jpg"))
        XCTAssertEqual(ds.warnings.count, 2, "\(ds.warnings)")
        XCTAssertTrue(ds.warnings[0].contains("row 3: sub01/EP03_02: apex written '/'"), ds.warnings[0])
        XCTAssertTrue(ds.warnings[1].contains("row 4: sub01/EP04_02: apex equals onset"), ds.warnings[1])
        XCTAssertEqual(ds.skipped, 0)
    }

    func testThreeClassMEGC2019Composite() throws {
        let ds = try casme2(classes: 3)
        XCTAssertEqual(ds.classNames, ["negative", "positive", "surprise"])
        XCTAssertEqual(ds.count, 10)  // the two "others" rows excluded
        let labels = Dictionary(uniqueKeysWithValues: (0..<ds.count).map { (ds.id(at: $0), ds.label(at: $0)) })
        XCTAssertEqual(labels["sub02/EP03_01"], 0)   // fear → negative
        XCTAssertEqual(labels["sub03/EP02_02"], 0)   // sadness → negative
        XCTAssertEqual(labels["sub01/EP04_02"], 0)   // repression → negative
        XCTAssertEqual(labels["sub01/EP02_01f"], 1)
        XCTAssertEqual(labels["sub03/EP04_04"], 2)
        XCTAssertEqual(ds.classCounts(), [6, 2, 2])
    }

    func testFaceCropUsesCroppedReleaseWhenPresent() throws {
        let ds = try casme2(crop: .face)
        for e in ds.entries {
            XCTAssertEqual(e.faceCropped, e.subject == "sub02", e.id)
            if e.subject == "sub02" { XCTAssertTrue(e.onsetPath.contains("/Cropped/sub02/") && e.onsetPath.contains("reg_img"), e.onsetPath) }
        }
        XCTAssertEqual(ds.warnings.count, 3)
        XCTAssertTrue(ds.warnings[2].contains("crop=face: 7 samples have no Cropped/ release"), ds.warnings[2])
    }

    func testCountsTable() throws {
        let ds = try casme2()
        XCTAssertEqual(ds.counts(), """
            subject  happiness  disgust  repression  surprise  others  total
            sub01            1        1           1         0       1      4
            sub02            0        1           0         1       1      3
            sub03            1        0           1         1       0      3
            total            2        2           2         2       2     10

            """)
    }

    func testMissingRootAndMissingFrameErrorsNameThePath() throws {
        XCTAssertThrowsError(try casme2("/nonexistent/casme2")) {
            XCTAssertEqual("\($0)", "casme2: root '/nonexistent/casme2' is not a directory")
        }
        let root = try Fixtures.copy(Fixtures.casme2)
        let gone = root + "/CASME2_RAW_selected/sub01/EP03_02/img20.jpg"
        try FileManager.default.removeItem(atPath: gone)
        XCTAssertThrowsError(try casme2(root)) {
            XCTAssertTrue("\($0)".contains("row 3: sub01/EP03_02: missing frame file \(gone)"), "\($0)")
        }
        let ds = try casme2(root, skipBad: true)
        XCTAssertEqual(ds.count, 9)
        XCTAssertEqual(ds.skipped, 1)
        XCTAssertEqual(ds.warnings.filter { $0.contains("sample skipped") }.count, 1)
        XCTAssertTrue(ds.warnings.contains { $0.contains(gone) })
    }

    func testUnknownEmotionIsLeftOutWithOneWarning() throws {
        let root = try Fixtures.copy(Fixtures.casme2)
        try FileManager.default.removeItem(atPath: root + "/CASME2-coding-20140508.xlsx")
        try "Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Estimated Emotion\n1,EP02_01f,46,59,86,happiness\n1,EP05_03,1,3,9,boredom\n"
            .write(toFile: root + "/CASME2-coding-x.csv", atomically: true, encoding: .utf8)
        let ds = try casme2(root)
        XCTAssertEqual(ds.count, 1)
        XCTAssertEqual(ds.warnings, ["CASME2-coding-x.csv: row 3: sub01/EP05_03: unknown emotion 'boredom'; sample left out"])
    }

    /// A coding sheet is someone else's file: a row naming a clip outside the root, frames
    /// reached through a symbolic link that leaves the root, or frame numbers near 2^62 are
    /// errors naming the row, never a frame loaded from elsewhere or a trap.
    func testHostileSheetRowsAreRefused() throws {
        let root = try Fixtures.copy(Fixtures.casme2)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.removeItem(atPath: root + "/CASME2-coding-20140508.xlsx")
        // Frames outside the root that a "../" name would reach.
        let outside = try Fixtures.tempDir()
        defer { try? FileManager.default.removeItem(atPath: outside) }
        try FileManager.default.copyItem(atPath: root + "/CASME2_RAW_selected/sub01/EP02_01f", toPath: outside + "/clip")
        func sheet(_ row: String) throws {
            try "Subject,Filename,OnsetFrame,ApexFrame,OffsetFrame,Estimated Emotion\n\(row)\n"
                .write(toFile: root + "/CASME2-coding-x.csv", atomically: true, encoding: .utf8)
        }
        let escape = String(repeating: "../", count: 8) + String(outside.dropFirst()) + "/clip"
        try sheet("1,\(escape),46,59,86,happiness")
        XCTAssertThrowsError(try casme2(root)) {
            XCTAssertTrue("\($0)".contains("casme2: CASME2-coding-x.csv: row 2: Filename '../../"), "\($0)")
            XCTAssertTrue("\($0)".contains("is not a plain folder name"), "\($0)")
        }
        try sheet("../../x,EP02_01f,46,59,86,happiness")
        XCTAssertThrowsError(try casme2(root)) { XCTAssertTrue("\($0)".contains("is not a plain folder name"), "\($0)") }
        // A clip folder inside the root that is a link to the outside.
        let clip = root + "/CASME2_RAW_selected/sub01/EP02_01f"
        try FileManager.default.removeItem(atPath: clip)
        try FileManager.default.createSymbolicLink(atPath: clip, withDestinationPath: outside + "/clip")
        try sheet("1,EP02_01f,46,59,86,happiness")
        XCTAssertThrowsError(try casme2(root)) {
            XCTAssertTrue("\($0)".contains("row 2: sub01/EP02_01f: frame "), "\($0)")
            XCTAssertTrue("\($0)".contains("leads outside the data set's root"), "\($0)")
        }
        // Frame numbers beyond any clip: refused before the apex rules add or halve them.
        try FileManager.default.removeItem(atPath: clip)
        try FileManager.default.copyItem(atPath: outside + "/clip", toPath: clip)
        try sheet("1,EP02_01f,4611686018427387904,/,4611686018427387904,happiness")
        XCTAssertThrowsError(try casme2(root)) {
            XCTAssertTrue("\($0)".contains("row 2: OnsetFrame 4611686018427387904 is not a frame number in 0...10000000"), "\($0)")
        }
        try sheet("1,EP02_01f,46,/,9223372036854775807,happiness")
        XCTAssertThrowsError(try casme2(root)) { XCTAssertTrue("\($0)".contains("OffsetFrame 9223372036854775807 is not a frame number"), "\($0)") }
        try sheet("1,EP02_01f,46,59,86,happiness")
        XCTAssertEqual(try casme2(root).count, 1, "the same sheet with sane values loads")
    }

    func testPreprocessingStacksInputsFromTheRegistry() throws {
        let frames = FakeFrames()
        let ds = try casme2(input: ["onset", "apex", "diff"], size: 8, frames: frames)
        let s = try ds.sample(at: 0)  // sub01/EP02_01f: onset 46, apex 59
        XCTAssertEqual(s.x.shape, [3, 8, 8])
        XCTAssertEqual(s.id, "sub01/EP02_01f")
        XCTAssertEqual(s.label, 0)
        let v = s.x.toArray()
        XCTAssertEqual(v[0], 46 / 255, accuracy: 1e-4)
        XCTAssertEqual(v[64], 59 / 255, accuracy: 1e-4)
        XCTAssertEqual(v[128], 13 / 255, accuracy: 1e-4)
        _ = try ds.sample(at: 0)
        XCTAssertEqual(frames.loads, 2)  // the in-memory cache serves the second call

        InputKinds.register("twice_apex", channels: 2) { _, a in try Tensor.cat([a, a], dim: 0) }
        let ds2 = try casme2(input: ["twice_apex", "onset"], size: 4)
        XCTAssertEqual(ds2.channels, 3)
        XCTAssertEqual(try ds2.sample(at: 0).x.shape, [3, 4, 4])
        XCTAssertThrowsError(try casme2(input: ["flowz"])) { XCTAssertTrue("\($0)".contains("unknown input 'flowz'")) }
    }

    func testCropBoxIsCheckedAgainstTheFrame() throws {
        let ds = try casme2(crop: .box(x: 20, y: 0, width: 10, height: 10))
        XCTAssertThrowsError(try ds.sample(at: 0)) { XCTAssertTrue("\($0)".contains("img46.jpg: crop box"), "\($0)") }
        let ok = try casme2(size: 4, crop: .center(height: 10, width: 10))
        XCTAssertEqual(try ok.sample(at: 0).x.shape, [2, 4, 4])
    }

    /// Decodes the committed JPEG fixture frames through the real codec.
    func testRealCodecDecodesCASME2FixtureFrames() throws {
        let ds = try casme2(size: 20, crop: .none, frames: nil)
        let s = try ds.sample(at: 0)
        XCTAssertEqual(s.x.shape, [2, 20, 20])
        // Frame n is filled with (10 + n) / 255 apart from a small bright square.
        let v = s.x.toArray()
        let onsetMedian = v[0..<400].sorted()[200], apexMedian = v[400..<800].sorted()[200]
        XCTAssertEqual(onsetMedian, 56 / 255, accuracy: 3 / 255)
        XCTAssertEqual(apexMedian, 69 / 255, accuracy: 3 / 255)
    }
}

final class SAMMTests: XCTestCase {
    func samm(classes: Int = 5, frames: FakeFrames? = FakeFrames()) throws -> SAMMDataset {
        try SAMMDataset(root: Fixtures.samm, options: MEOptions(classes: classes, size: 8, crop: .none,
                                                                printWarnings: false, frameLoader: frames?.loader))
    }

    func testFiveClassWithPreambleAndZeroPaddingLookup() throws {
        let ds = try samm()
        XCTAssertEqual(ds.classNames, ["happiness", "anger", "contempt", "surprise", "other"])
        XCTAssertEqual(ds.count, 5)   // disgust excluded
        XCTAssertEqual(ds.subjects, ["006", "007"])
        let contempt = ds.entries.first { $0.id == "007/007_3_1" }!
        XCTAssertEqual(contempt.label, 2)
        XCTAssertTrue(contempt.onsetPath.hasSuffix("SAMM/007/007_3_1/007_0901.jpg"), contempt.onsetPath)
        XCTAssertTrue(ds.entries[0].onsetPath.hasSuffix("SAMM/006/006_1_2/006_05562.jpg"))
        XCTAssertTrue(ds.warnings.isEmpty, "\(ds.warnings)")
        XCTAssertEqual(try ds.sample(at: 0).x.shape, [2, 8, 8])
    }

    func testThreeClassComposite() throws {
        let ds = try samm(classes: 3)
        XCTAssertEqual(ds.count, 5)   // "Other" excluded
        XCTAssertEqual(ds.classCounts(), [3, 1, 1])
        XCTAssertEqual(ds.warnings.count, 1)  // the disgust row's '/' apex
        XCTAssertEqual(ds.entries.first { $0.id == "006/006_2_1" }?.apexFrame, 120)
    }
}
