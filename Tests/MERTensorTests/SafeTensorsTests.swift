import MERTestSupport
import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MERTensor

/// safetensors I/O: our round trip, files written by the reference implementation
/// (Tests/Fixtures/safetensors, made by make_fixtures.py), hostile input and atomic saves.
final class SafeTensorsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/safetensors")

    var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tempDir)
    }

    func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }
    func temp(_ name: String) -> String { tempDir.appendingPathComponent(name).path }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch let e as TensorError { return e.message } catch {
            return "non-TensorError: \(error)"
        }
    }

    /// Bitwise comparison, so -0, NaN and infinities are checked exactly (any NaN matches any NaN).
    func assertBits(_ actual: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            if a.isNaN && e.isNaN { continue }
            XCTAssertEqual(a.bitPattern, e.bitPattern, "\(what)[\(i)]: \(a) != \(e)", file: file, line: line)
        }
    }

    // MARK: Round trip

    func testRoundTripKeepsValuesShapesOrderAndMetadata() throws {
        let g = Generator(seed: 42)
        let a = try Tensor.randn([3, 4], generator: g)
        let view = try a.transpose(0, 1)                  // non-contiguous [4, 3]
        XCTAssertFalse(view.isContiguous)
        let special = try Tensor.from([0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, 3.4e38], shape: [7])
        let tensors: [(name: String, tensor: Tensor)] = [
            ("z.last_first", a), ("layer.0.weight_t", view), ("scalar", try .scalar(-2.5)),
            ("empty", try Tensor.zeros([0, 3])), ("special", special), ("名前 \"quoted\"\n", try .from([1, 2])),
        ]
        let meta = ["format": "pt", "note": "quotes \" backslash \\ tab\t ünïcödé", "": "empty key"]
        let path = temp("round.safetensors")
        try SafeTensors.write(tensors, metadata: meta, to: path)

        let entries = try SafeTensors.read(path: path)
        XCTAssertEqual(entries.map(\.name), tensors.map(\.name), "order is the order given")
        for (e, (name, t)) in zip(entries, tensors) {
            XCTAssertEqual(e.dtype, "F32")
            XCTAssertEqual(e.shape, t.shape, name)
            XCTAssertEqual(e.tensor.shape, t.shape, name)
            XCTAssertTrue(e.tensor.isContiguous)
            assertBits(e.tensor.toArray(), t.toArray(), name)
        }
        XCTAssertEqual(entries[2].tensor.rank, 0)
        XCTAssertEqual(try entries[2].tensor.item(), -2.5)
        XCTAssertEqual(entries[3].tensor.count, 0)
        XCTAssertEqual(try SafeTensors.metadata(path: path), meta)
        // For the by-hand cross-check with the reference implementation (not part of CI):
        // MER_SAFETENSORS_EXPORT=/tmp/x.safetensors swift test … then safetensors.numpy.load_file.
        if let export = ProcessInfo.processInfo.environment["MER_SAFETENSORS_EXPORT"] {
            try? FileManager.default.removeItem(atPath: export)
            try FileManager.default.copyItem(atPath: path, toPath: export)
        }

        // Layout: 8-byte length, header padded with spaces to a multiple of 8, then the data.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0)
        let dataBytes = tensors.reduce(0) { $0 + $1.tensor.count * 4 }
        XCTAssertEqual(bytes.count, 8 + n + dataBytes)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{"), header)
        XCTAssertTrue(header.contains("\"layer.0.weight_t\":{\"dtype\":\"F32\",\"shape\":[4,3],\"data_offsets\":[48,96]}"), header)
        XCTAssertTrue(header.hasSuffix("}") || header.hasSuffix(" "))

        // Without metadata: no __metadata__ key at all.
        try SafeTensors.write([("x", .from([1]))], to: path)
        XCTAssertEqual(try SafeTensors.metadata(path: path), [:])
        let plain = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(String(decoding: plain[8..<64], as: UTF8.self),
                       "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}" + String(repeating: " ", count: 2))

        // An empty file list is a valid file.
        try SafeTensors.write([], metadata: ["k": "v"], to: path)
        XCTAssertEqual(try SafeTensors.read(path: path).count, 0)
        XCTAssertEqual(try SafeTensors.metadata(path: path), ["k": "v"])
    }

    func testTensorLoadAndSaveConvenience() throws {
        let path = temp("one.safetensors")
        let t = try Tensor.from([1, 2, 3, 4, 5, 6], shape: [2, 3])
        try t.save(path: path)
        XCTAssertEqual(try SafeTensors.read(path: path).map(\.name), ["tensor"])
        let back = try Tensor.load(path: path)
        XCTAssertEqual(back.shape, [2, 3])
        XCTAssertEqual(back.toArray(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Tensor.load(path: path, name: "tensor").toArray(), t.toArray())
        XCTAssertEqual(message { try Tensor.load(path: path, name: "w") },
                       "safetensors: \(path): no tensor named \"w\"; available: \"tensor\"")

        let sd = fixture("state_dict.safetensors")
        XCTAssertEqual(message { try Tensor.load(path: sd) },
                       "safetensors: \(sd): the file holds 5 tensors (\"1.num_batches_tracked\", \"0.bias\", \"0.weight\", \"1.running_mean\", \"1.running_var\"); pass the name of one")
        XCTAssertEqual(try Tensor.load(path: sd, name: "0.weight").toArray(), [0.5, -1, 2, 0.25])
        XCTAssertEqual(try Tensor.load(path: sd, name: "1.num_batches_tracked").item(), 7)

        XCTAssertEqual(message { try SafeTensors.write([("a", t), ("a", t)], to: path) },
                       "safetensors: \(path): duplicate tensor name \"a\"")
        XCTAssertEqual(message { try SafeTensors.write([("", t)], to: path) },
                       "safetensors: \(path): cannot write a tensor with an empty name")
        XCTAssertEqual(message { try SafeTensors.write([("__metadata__", t)], to: path) },
                       "safetensors: \(path): \"__metadata__\" is reserved and cannot name a tensor")
        XCTAssertEqual(message { try SafeTensors.read(path: self.temp("missing.safetensors")) },
                       "safetensors: cannot read \(temp("missing.safetensors")): No such file or directory")
        XCTAssertEqual(message { try SafeTensors.metadata(path: self.temp("missing.safetensors")) },
                       "safetensors: cannot read \(temp("missing.safetensors")): No such file or directory")
        XCTAssertEqual(message { try Tensor.load(path: self.tempDir.path) },
                       "safetensors: cannot read \(tempDir.path): it is a directory")
    }

    // MARK: Files written by the reference implementation (make_fixtures.py)

    func read(_ name: String) throws -> [String: SafeTensorsEntry] {
        Dictionary(uniqueKeysWithValues: try SafeTensors.read(path: fixture(name)).map { ($0.name, $0) })
    }

    func testReadsReferenceF32WithScalarAndEmpty() throws {
        let entries = try SafeTensors.read(path: fixture("f32.safetensors"))
        XCTAssertEqual(entries.map(\.name), ["a", "empty", "scalar"])
        XCTAssertEqual(entries.map(\.shape), [[2, 3], [0, 3], []])
        assertBits(entries[0].tensor.toArray(), [0, 1, -2.5, 3.25, 1e-8, -1e30], "a")
        XCTAssertEqual(entries[1].tensor.shape, [0, 3])
        XCTAssertEqual(entries[1].tensor.count, 0)
        XCTAssertEqual(entries[2].tensor.shape, [])
        XCTAssertEqual(try entries[2].tensor.item(), 7.5)
        XCTAssertEqual(try SafeTensors.metadata(path: fixture("f32.safetensors")), [:])
    }

    func testReadsReferenceF16WithSubnormalsInfinitiesAndNaN() throws {
        let h = try read("f16.safetensors")["h"]!
        XCTAssertEqual(h.dtype, "F16")
        XCTAssertEqual(h.shape, [11])
        assertBits(h.tensor.toArray(),
                   [0, -0.0, 1, -2, 65504, 0x1p-24, 0x1p-15, -0x1.ff8p-15, .infinity, -.infinity, .nan], "h")
        XCTAssertTrue(h.tensor.toArray()[10].isNaN)
    }

    func testReadsReferenceBF16() throws {
        let b = try read("bf16.safetensors")["b"]!
        XCTAssertEqual(b.dtype, "BF16")
        assertBits(b.tensor.toArray(), [1, -3, .infinity, .nan, 0x1p-133, 1.0078125], "b")
        XCTAssertTrue(b.tensor.toArray()[3].isNaN)
    }

    func testReadsReferenceF64() throws {
        let d = try read("f64.safetensors")["d"]!
        XCTAssertEqual(d.dtype, "F64")
        assertBits(d.tensor.toArray(), [Float(1.0 / 3.0), Float(-0.1), .infinity, 0, 0x1p100], "d")
    }

    func testReadsReferenceIntegers() throws {
        let entries = try SafeTensors.read(path: fixture("ints.safetensors"))
        XCTAssertEqual(entries.map(\.name), ["i64", "num_batches_tracked", "i32", "i16", "i8"])
        XCTAssertEqual(entries.map(\.dtype), ["I64", "I64", "I32", "I16", "I8"])
        let e = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
        XCTAssertEqual(e["num_batches_tracked"]!.shape, [])
        XCTAssertEqual(try e["num_batches_tracked"]!.tensor.item(), 12345)
        XCTAssertEqual(e["i64"]!.tensor.toArray(), [-1, 0, 1_099_511_627_776])
        XCTAssertEqual(e["i32"]!.tensor.toArray(), [-2_147_483_648, 16_777_216])
        XCTAssertEqual(e["i16"]!.tensor.toArray(), [-32768, 5])
        XCTAssertEqual(e["i8"]!.tensor.toArray(), [-128, 127])
    }

    func testReadsReferenceBoolAndU8() throws {
        let e = try read("bool_u8.safetensors")
        XCTAssertEqual(e["mask"]!.dtype, "BOOL")
        XCTAssertEqual(e["mask"]!.tensor.toArray(), [1, 0, 1, 1])
        XCTAssertEqual(e["pix"]!.dtype, "U8")
        XCTAssertEqual(e["pix"]!.shape, [2, 2])
        XCTAssertEqual(e["pix"]!.tensor.toArray(), [0, 1, 128, 255])
    }

    func testReadsReferenceStateDictWithMetadata() throws {
        let path = fixture("state_dict.safetensors")
        let entries = try SafeTensors.read(path: path)
        XCTAssertEqual(entries.map(\.name), ["1.num_batches_tracked", "0.bias", "0.weight", "1.running_mean", "1.running_var"])
        let e = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })
        XCTAssertEqual(e["0.weight"]!.shape, [2, 2])
        XCTAssertEqual(e["0.weight"]!.tensor.toArray(), [0.5, -1, 2, 0.25])
        XCTAssertEqual(e["0.bias"]!.tensor.toArray(), [0.1, -0.2])
        XCTAssertEqual(e["1.running_mean"]!.tensor.toArray(), [0, 1.5])
        XCTAssertEqual(e["1.running_var"]!.tensor.toArray(), [1, 4])
        XCTAssertEqual(e["1.num_batches_tracked"]!.dtype, "I64")
        XCTAssertEqual(e["1.num_batches_tracked"]!.shape, [])
        XCTAssertEqual(try e["1.num_batches_tracked"]!.tensor.item(), 7)
        XCTAssertEqual(try SafeTensors.metadata(path: path), ["format": "pt", "epoch": "3"])
    }

    func testHalfConversionIsExactForEveryBitPattern() throws {
        #if arch(x86_64) || arch(arm64)
        for bits in 0...UInt16.max {
            let ours = SafeTensors.floatFromHalf(bits)
            let swift = Float(Float16(bitPattern: bits))
            if swift.isNaN {
                XCTAssertTrue(ours.isNaN, "0x\(String(bits, radix: 16))")
                XCTAssertEqual(ours.sign, swift.sign)
            } else {
                XCTAssertEqual(ours.bitPattern, swift.bitPattern, "0x\(String(bits, radix: 16))")
            }
        }
        #endif
    }

    // MARK: Corruption

    /// A file from a header string (or raw header bytes) and data bytes; `length` overrides the length word.
    func file(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
        file(bytes: Array(header.utf8), data: data, length: length)
    }

    func file(bytes header: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> Data {
        var d = Data()
        var n = (length ?? UInt64(header.count)).littleEndian
        withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
        d.append(contentsOf: header)
        d.append(contentsOf: data)
        return d
    }

    func readError(_ data: Data, file name: String = "bad.safetensors") -> String {
        message { try SafeTensors.read(data: data, source: name) }
    }

    func testCorruptFilesGiveSpecificErrors() throws {
        let src = "safetensors: bad.safetensors: "
        let e8 = [UInt8](repeating: 0, count: 8)
        func entry(_ dtype: String = "F32", _ shape: String = "[2]", _ offsets: String = "[0,8]") -> String {
            "{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
        }
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "file is too short (3 bytes) to hold the 8-byte header length"),
            (Data(), "file is too short (0 bytes) to hold the 8-byte header length"),
            (file("{}", length: 1000), "header length 1000 is larger than the file (10 bytes, 2 after the length word)"),
            (file("{}", length: 1 << 40), "header length 1099511627776 is absurdly large (limit 100000000 bytes)"),
            (file("{}", length: UInt64.max), "header length 18446744073709551615 is absurdly large"),
            (file("{}", length: 0), "header length 0 is too small to hold a JSON object"),
            (file(bytes: [0x7B, 0xFF, 0xFE, 0x7D]), "header is not valid UTF-8"),
            (file(bytes: [0x7B, 0xC3, 0x7D]), "header is not valid UTF-8"),
            (file("{\"a\":"), "header is not valid JSON"),
            (file("        "), "header is not valid JSON"),
            (file("[1,2]"), "header is not a JSON object"),
            (file("\"just a string\""), "header is not valid JSON"),   // fragments are not allowed
            (file(String(repeating: "[", count: 5000)), "header is not valid JSON"),
            (file("{\"w\":[1]}"), "tensor \"w\": entry is not a JSON object"),
            (file("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", data: e8), "tensor \"w\": missing \"dtype\""),
            (file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", data: e8), "tensor \"w\": missing \"shape\""),
            (file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", data: e8), "tensor \"w\": missing \"data_offsets\""),
            (file("{\"w\":\(entry("F33"))}", data: e8), "tensor \"w\": unsupported dtype \"F33\" (supported: BF16, BOOL, F16, F32, F64, I16, I32, I64, I8, U16, U32, U64, U8)"),
            (file("{\"w\":\(entry("F8_E4M3"))}", data: e8), "tensor \"w\": unsupported dtype \"F8_E4M3\""),
            (file("{\"w\":{\"dtype\":32,\"shape\":[2],\"data_offsets\":[0,8]}}", data: e8), "tensor \"w\": \"dtype\" is not a string"),
            (file("{\"w\":\(entry("F32", "[-2]"))}", data: e8), "tensor \"w\": shape entry 0 is negative (-2)"),
            (file("{\"w\":\(entry("F32", "[2.5]"))}", data: e8), "tensor \"w\": shape entry 0 (2.5) is not an integer"),
            (file("{\"w\":\(entry("F32", "[1,2.0]"))}", data: e8), "tensor \"w\": shape entry 1 (2.0) is not an integer"),
            (file("{\"w\":\(entry("F32", "[true]"))}", data: e8), "tensor \"w\": shape entry 0 (true) is not an integer"),
            (file("{\"w\":\(entry("F32", "[\"2\"]"))}", data: e8), "tensor \"w\": shape entry 0 (\"2\") is not an integer"),
            (file("{\"w\":\(entry("F32", "[1e400]"))}", data: e8), "header is not valid JSON (Number 1e400 is not representable"),
            (file("{\"w\":\(entry("F32", "[null]"))}", data: e8), "tensor \"w\": shape entry 0 (null) is not an integer"),
            (file("{\"w\":\(entry("F32", "[2]", "[0,\"8\"]"))}", data: e8), "tensor \"w\": \"data_offsets\" [0, \"8\"] are not integers"),
            (file("{\"w\":\(entry("F32", "[18446744073709551615]"))}", data: e8), "tensor \"w\": shape entry 0 (18446744073709551615) is not an integer"),
            (file("{\"w\":\(entry("F32", "2"))}", data: e8), "tensor \"w\": \"shape\" is not an array"),
            (file("{\"w\":\(entry("F32", "[0,4611686018427387904,4611686018427387904]", "[0,0]"))}"),
             "tensor \"w\": shape [0, 4611686018427387904, 4611686018427387904] is too large"),
            (file("{\"w\":\(entry("F64", "[4611686018427387904]", "[0,0]"))}"), "tensor \"w\": shape [4611686018427387904] is too large"),
            // Empty, but a sum over dimension 2 would be 2^40 elements.
            (file("{\"w\":\(entry("F32", "[0,1099511627776]", "[0,0]"))}"), "tensor \"w\": shape [0, 1099511627776] is too large"),
            (file("{\"w\":\(entry("F32", "[2]", "[0,12]"))}", data: e8),
             "tensor \"w\": data_offsets [0, 12] are out of range: the data section has 8 bytes"),
            (file("{\"w\":\(entry("F32", "[2]", "[8,0]"))}", data: e8), "tensor \"w\": data_offsets [8, 0] are reversed"),
            (file("{\"w\":\(entry("F32", "[2]", "[-8,0]"))}", data: e8), "tensor \"w\": data_offsets [-8, 0] are negative"),
            (file("{\"w\":\(entry("F32", "[2]", "[0]"))}", data: e8), "tensor \"w\": \"data_offsets\" is not an array of two integers"),
            (file("{\"w\":\(entry("F32", "[2]", "[0,8,9]"))}", data: e8), "tensor \"w\": \"data_offsets\" is not an array of two integers"),
            (file("{\"w\":\(entry("F32", "[2]", "[0,8.5]"))}", data: e8), "tensor \"w\": \"data_offsets\" [0, 8.5] are not integers"),
            (file("{\"w\":\(entry("F32", "[3]", "[0,8]"))}", data: e8),
             "tensor \"w\": data_offsets [0, 8] span 8 bytes but shape [3] of F32 needs 12"),
            (file("{\"w\":\(entry("F16", "[2]", "[0,8]"))}", data: e8),
             "tensor \"w\": data_offsets [0, 8] span 8 bytes but shape [2] of F16 needs 4"),
            (file("{\"a\":\(entry("F32", "[2]", "[0,8]")),\"b\":\(entry("F32", "[1]", "[4,8]"))}", data: e8),
             "tensors \"a\" [0, 8] and \"b\" [4, 8] have overlapping data"),
            (file("{\"a\":\(entry("F32", "[2]", "[0,8]")),\"b\":\(entry("F32", "[2]", "[0,8]"))}", data: e8),
             "tensors \"a\" [0, 8] and \"b\" [0, 8] have overlapping data"),
            (file("{\"a\":\(entry("F32", "[2]", "[0,8]")),\"b\":\(entry("F32", "[0]", "[4,4]"))}", data: e8),
             "tensors \"a\" [0, 8] and \"b\" [4, 4] have overlapping data"),
            (file("{\"\":\(entry())}", data: e8), "a tensor has an empty name"),
            (file("{\"__metadata__\":[1]}"), "__metadata__ is not a JSON object"),
            (file("{\"__metadata__\":{\"epoch\":3}}"), "__metadata__ value for key \"epoch\" is not a string"),
        ]
        for (data, expected) in cases {
            let got = readError(data)
            XCTAssertTrue(got.hasPrefix(src + expected), "expected «\(src + expected)», got «\(got)»")
        }

        // As strict as the reference implementation: a gap, trailing bytes, a byte-order
        // mark, a leading space, a name given twice are all refused.
        let strict: [(Data, String)] = [
            (file("{\"a\":\(entry("I8", "[1]", "[0,1]")),\"b\":\(entry("U8", "[2]", "[4,6]"))}", data: [1, 9, 9, 9, 1, 2]),
             "tensor \"b\": data_offsets [4, 6] leave a gap after byte 1 of the data section"),
            (file("{\"b\":\(entry("U8", "[2]", "[1,3]"))}", data: [9, 1, 2]), "tensor \"b\": data_offsets [1, 3] leave a gap after byte 0"),
            (file("{\"w\":\(entry())}", data: e8 + [0]), "the data section has 9 bytes but the tensors cover 8 (trailing bytes)"),
            (file(bytes: [0xEF, 0xBB, 0xBF] + Array("{\"w\":\(entry())}".utf8), data: e8), "header does not start with '{'"),
            (file(" {\"w\":\(entry())}", data: e8), "header does not start with '{'"),
            (file("{\"w\":\(entry("F32", "[1]", "[0,4]")),\"w\":\(entry("F32", "[1]", "[4,8]"))}", data: e8), "the header names \"w\" twice"),
        ]
        for (data, expected) in strict {
            let got = readError(data)
            XCTAssertTrue(got.hasPrefix(src + expected), "expected «\(src + expected)», got «\(got)»")
        }
        // Tiny entries cannot make the header cost gigabytes: their number is capped first.
        var many = "{"
        for k in 0...SafeTensors.maxTensors { many += "\"t\(k)\":\(entry("F32", "[0]", "[0,0]")),"  }
        many.removeLast(); many += "}"
        XCTAssertTrue(readError(file(many)).hasPrefix(src + "the header names more than 100000 tensors"))

        // Valid edge cases next to the rules: zero-element tensors sharing an offset, padding.
        let ok = file("{\"a\":\(entry("F32", "[0,5]", "[0,0]")),\"s\":\(entry("I8", "[]", "[0,1]")),\"b\":\(entry("U8", "[2]", "[1,3]"))}    ",
                      data: [0xFF, 1, 2])
        let entries = try SafeTensors.read(data: ok, source: "ok")
        XCTAssertEqual(entries.map(\.name), ["a", "s", "b"])
        XCTAssertEqual(entries.map(\.shape), [[0, 5], [], [2]])
        XCTAssertEqual(entries[1].tensor.toArray(), [-1])
        XCTAssertEqual(entries[2].tensor.toArray(), [1, 2])

        // Errors through a path name the file; metadata() validates the header the same way.
        let path = temp("broken.safetensors")
        try file("{\"w\":\(entry("F32", "[2]", "[0,12]"))}", data: e8).write(to: URL(fileURLWithPath: path))
        let expected = "safetensors: \(path): tensor \"w\": data_offsets [0, 12] are out of range: the data section has 8 bytes"
        XCTAssertEqual(message { try SafeTensors.read(path: path) }, expected)
        XCTAssertEqual(message { try SafeTensors.metadata(path: path) }, expected)
        XCTAssertEqual(message { try Tensor.load(path: path) }, expected)
        try Data([1, 2]).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(message { try SafeTensors.metadata(path: path) },
                       "safetensors: \(path): file is too short (2 bytes) to hold the 8-byte header length")
        try file("{}", length: 1 << 30).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(message { try SafeTensors.metadata(path: path) },
                       "safetensors: \(path): header length 1073741824 is absurdly large (limit 100000000 bytes); the file is corrupt or not safetensors")
        try file("{}", length: 4).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(message { try SafeTensors.metadata(path: path) },
                       "safetensors: \(path): header length 4 is larger than the file (10 bytes, 2 after the length word)")
    }

    /// 2000 seeded random mutations and truncations of valid files (MER_SAFETENSORS_FUZZ_COUNT
    /// and _SEED for long runs): every read must either succeed or throw a TensorError (a
    /// crash fails the whole test run).
    func testFuzzedFilesNeverCrash() throws {
        let env = ProcessInfo.processInfo.environment
        let total = env["MER_SAFETENSORS_FUZZ_COUNT"].flatMap(Int.init) ?? 2000
        var rng = SplitMix64(seed: env["MER_SAFETENSORS_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5AFE_7E45)
        let seeds = try ["state_dict.safetensors", "f32.safetensors", "ints.safetensors", "f16.safetensors"]
            .map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture($0)))) }
        var succeeded = 0, failed = 0
        for i in 0..<total {
            var b = seeds[i % seeds.count]
            let headerEnd = min(b.count, 8 + Int(b[0]) + Int(b[1]) << 8)
            for _ in 0..<(1 + rng.below(3)) {
                switch rng.below(8) {
                case 0: b = Array(b.prefix(rng.below(b.count + 1)))                     // truncate
                case 1 where !b.isEmpty: b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next())  // any byte
                case 2 where headerEnd > 8 && b.count >= headerEnd:                    // a header byte → JSON-ish char
                    let chars = Array("{}[]\",:-0123456789.e ".utf8)
                    b[8 + rng.below(headerEnd - 8)] = chars[rng.below(chars.count)]
                case 3 where b.count >= 8:                                              // length word
                    let n = rng.below(2) == 0 ? UInt64(rng.below(b.count + 16)) : rng.next() >> UInt64(rng.below(64))
                    withUnsafeBytes(of: n.littleEndian) { for k in 0..<8 { b[k] = $0[k] } }
                case 4 where !b.isEmpty: b.remove(at: rng.below(b.count))               // delete a byte
                case 5: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: rng.below(b.count + 1))
                case 6 where headerEnd > 8 && b.count >= headerEnd:                    // digit tweak in header
                    let digits = (8..<headerEnd).filter { (0x30...0x39).contains(b[$0]) }
                    if let k = digits.randomElement(using: &rng) { b[k] = UInt8(0x30 + rng.below(10)) }
                default: if !b.isEmpty { b[rng.below(b.count)] ^= UInt8(1 << rng.below(8)) }  // bit flip
                }
            }
            do {
                let entries = try SafeTensors.read(data: Data(b), source: "fuzz-\(i)")
                for e in entries { XCTAssertEqual(e.tensor.count, e.shape.reduce(1, *), "fuzz case \(i)") }
                // A file that reads must read the same way again: no value may come from
                // memory outside the file (uninitialised or out of bounds).
                let again = try SafeTensors.read(data: Data(b), source: "fuzz-\(i)")
                XCTAssertEqual(again.map(\.name), entries.map(\.name), "fuzz case \(i)")
                for (x, y) in zip(entries, again) {
                    let same = x.tensor.toArray().withUnsafeBytes { p in y.tensor.toArray().withUnsafeBytes { q in p.elementsEqual(q) } }
                    XCTAssertTrue(same, "fuzz case \(i): \(x.name) differs between two reads")
                }
                succeeded += 1
            } catch let e as TensorError {
                XCTAssertTrue(e.message.hasPrefix("safetensors: fuzz-\(i): "), e.message)
                failed += 1
            } catch {
                XCTFail("fuzz case \(i): non-TensorError \(error)")
            }
        }
        print("safetensors fuzz: \(succeeded) mutated files read, \(failed) rejected with a TensorError")
        // The mutations must reach both outcomes, or the fuzzer tests nothing.
        XCTAssertGreaterThan(failed, total / 4)
        XCTAssertGreaterThan(succeeded, total / 40)   // data-only mutations still read
    }

    // MARK: Atomic save

    func directoryListing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: tempDir.path).sorted()
    }

    func testSaveIsAtomic() throws {
        let path = temp("model.safetensors")
        let old = try Tensor.from([1, 2, 3])
        try old.save(path: path)
        let oldBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(try directoryListing(), ["model.safetensors"], "no temporary file remains after a save")

        // Saving over the existing file succeeds and replaces it, leaving no temporary file.
        try SafeTensors.write([("w", Tensor.from([4, 5]))], metadata: ["v": "2"], to: path)
        XCTAssertEqual(try Tensor.load(path: path).toArray(), [4, 5])
        XCTAssertEqual(try directoryListing(), ["model.safetensors"])
        try old.save(path: path)

        // A directory that does not exist: nothing is created anywhere.
        let missing = temp("no/such/dir/model.safetensors")
        let m = message { try old.save(path: missing) }
        XCTAssertTrue(m.hasPrefix("safetensors: \(missing): cannot create temporary file \(missing).tmp-"), m)
        XCTAssertTrue(m.hasSuffix("No such file or directory"), m)

        // The target is a directory: the rename fails, the temporary file is removed.
        let dirTarget = temp("adir")
        try FileManager.default.createDirectory(atPath: dirTarget, withIntermediateDirectories: false)
        let d = message { try old.save(path: dirTarget) }
        XCTAssertTrue(d.contains("cannot rename"), d)
        XCTAssertEqual(try directoryListing(), ["adir", "model.safetensors"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dirTarget), [])

        // Failing validation never touches the old file.
        _ = message { try SafeTensors.write([("a", old), ("a", old)], to: path) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), oldBytes)

        // A write that fails half-way (file size limit → EFBIG) leaves the old file intact
        // and no temporary file behind.
        #if canImport(Glibc)
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved), 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var small = saved
        small.rlim_cur = 4096
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &small), 0)
        let big = message { try Tensor.zeros([10_000]).save(path: path) }
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved), 0)
        signal(SIGXFSZ, previousHandler)
        XCTAssertTrue(big.hasPrefix("safetensors: \(path): cannot write \(path).tmp-"), big)
        XCTAssertTrue(big.hasSuffix("File too large"), big)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), oldBytes)
        XCTAssertEqual(try directoryListing(), ["adir", "model.safetensors"])
        #endif
        XCTAssertEqual(try Tensor.load(path: path).toArray(), [1, 2, 3])
    }
}

extension SplitMix64 {
    mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
}
