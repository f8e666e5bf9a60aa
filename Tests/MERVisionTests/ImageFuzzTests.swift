import Foundation
import MERTensor
import MERVision
import MERTestSupport
import XCTest

/// Hostile input through `ImageIO.decode`: every result must be a well-formed tensor or a
/// TensorError — never a crash, hang or leak. The mutation count is 500 in the suite;
/// `MER_IMAGE_FUZZ_COUNT=20000` raises it and `MER_IMAGE_FUZZ_SEED=n` varies it (run those under
/// `swift test --sanitize=address --scratch-path .build-vision-asan --filter ImageFuzzTests`).
final class ImageFuzzTests: XCTestCase {
    static let seeds = [
        "gray8.png", "gray1.png", "gray16.png", "gray_alpha16.png", "rgba8.png", "palette4_trns.png",
        "rgb8_trns.png", "interlaced_rgba16.png", "interlaced_palette4_trns.png",
        "gray_q95.jpg", "rgb444_q95.jpg", "rgb420_q90.jpg", "rgb_progressive_q90.jpg", "cmyk_cyan.jpg",
    ]

    /// Decodes and checks the invariants; returns whether it decoded.
    @discardableResult
    func probe(_ data: Data, _ label: String) -> Bool {
        do {
            let t = try ImageIO.decode(data: data, source: label)
            XCTAssertEqual(t.rank, 3, label)
            XCTAssertTrue((1...4).contains(t.shape[0]) && t.shape[1] >= 1 && t.shape[2] >= 1, "\(label): shape \(t.shape)")
            let v = t.toArray()
            XCTAssertTrue(v.allSatisfy { $0 >= 0 && $0 <= 1 }, "\(label): values outside [0, 1]")
            // Decoding is a function of the bytes: a second decode that differs read memory
            // the file does not define (an uninitialised row of a damaged image, say).
            let again = try ImageIO.decode(data: data, source: label)
            XCTAssertEqual(again.shape, t.shape, label)
            XCTAssertTrue(again.toArray().withUnsafeBytes { p in v.withUnsafeBytes { q in p.elementsEqual(q) } },
                          "\(label): two decodes of the same bytes differ")
            return true
        } catch let e as TensorError {
            XCTAssertTrue(e.message.hasPrefix("image.decode: \(label): "), e.message)
            return false
        } catch {
            XCTFail("\(label): unexpected error \(error)")
            return false
        }
    }

    func testEveryTruncationIsAnError() throws {
        var cases = 0
        for name in Self.seeds {
            let data = try Fixtures.data(name)
            XCTAssertTrue(probe(data, name), "\(name) itself must decode")
            for n in 0..<data.count {
                // The last bytes of a PNG (IEND) and of a JPEG (EOI) are needed too.
                XCTAssertFalse(probe(data.prefix(n), "\(name)[..<\(n)]"), "\(name) cut to \(n) of \(data.count) bytes decoded")
                cases += 1
            }
        }
        print("image fuzz: \(cases) truncations, all rejected")
    }

    func testSeededMutations() throws {
        let count = ProcessInfo.processInfo.environment["MER_IMAGE_FUZZ_COUNT"].flatMap(Int.init) ?? 500
        let seed = ProcessInfo.processInfo.environment["MER_IMAGE_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_1234
        var rng = SplitMix64(seed: seed)
        let seeds = try Self.seeds.map { ($0, [UInt8](try Fixtures.data($0))) }
        var decoded = 0, rejected = 0
        var reasons: [String: Int] = [:]
        for i in 0..<count {
            let (name, original) = seeds[Int(rng.next() % UInt64(seeds.count))]
            var bytes = original
            let edits = 1 + Int(rng.next() % 6)
            for _ in 0..<edits {
                let pos = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 8 {
                case 0: bytes[pos] ^= UInt8(1 << (rng.next() % 8))
                case 1: bytes[pos] = [0x00, 0xFF, 0x7F, 0x80][Int(rng.next() % 4)]
                case 2: if bytes.count > 8 { bytes.remove(at: pos) }
                case 3: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: pos)
                case 4: // big-endian 16/32-bit fields: sizes, lengths
                    if pos + 1 < bytes.count { bytes[pos] = 0xFF; bytes[pos + 1] = UInt8(truncatingIfNeeded: rng.next()) }
                default: bytes[pos] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            // Half the PNGs get their chunk CRCs repaired so the mutation reaches libpng's parsers and zlib.
            if name.hasSuffix(".png") && rng.next() % 2 == 0 { PNGChunks.repairCRCs(&bytes) }
            if probe(Data(bytes), "mut\(i)-\(name)") {
                decoded += 1
            } else {
                rejected += 1
                do { _ = try ImageIO.decode(data: Data(bytes), source: "m") } catch let e as TensorError {
                    let reason = e.message.dropFirst("image.decode: m: ".count).prefix(40)
                    reasons[String(reason), default: 0] += 1
                }
            }
        }
        let top = reasons.sorted { $0.value > $1.value }.prefix(8).map { "\($0.value)× \($0.key)" }.joined(separator: "; ")
        print("image fuzz: \(count) mutations: \(decoded) decoded, \(rejected) rejected (\(top))")
        // The mutations must reach both outcomes (a decoder that refuses everything, or a
        // fuzzer that breaks nothing, would otherwise pass).
        XCTAssertGreaterThan(decoded, 0)
        XCTAssertGreaterThan(rejected, count / 10)
    }
}

enum PNGChunks {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    /// Rewrites each chunk's CRC (as far as the chunk lengths make sense).
    static func repairCRCs(_ b: inout [UInt8]) {
        var p = 8
        while p + 12 <= b.count {
            let len = Int(b[p]) << 24 | Int(b[p + 1]) << 16 | Int(b[p + 2]) << 8 | Int(b[p + 3])
            let end = p + 8 + len
            guard len >= 0, end + 4 <= b.count else { return }
            let c = crc(b[(p + 4)..<end])
            b[end] = UInt8(c >> 24); b[end + 1] = UInt8((c >> 16) & 0xFF)
            b[end + 2] = UInt8((c >> 8) & 0xFF); b[end + 3] = UInt8(c & 0xFF)
            p = end + 4
        }
    }
}

/// A few hundred bytes that declare an enormous image are refused from the header, before
/// anything is allocated; the limit can be raised.
final class ImageMemoryLimitTests: XCTestCase {
    /// A PNG with only IHDR (the declared size), a token IDAT and IEND.
    func pngHeader(width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            let n = UInt32(body.count), c = PNGChunks.crc(typed[...])
            return [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + typed
                + [UInt8(c >> 24), UInt8((c >> 16) & 0xFF), UInt8((c >> 8) & 0xFF), UInt8(c & 0xFF)]
        }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        let ihdr = be(width) + be(height) + [bitDepth, colorType, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr)
                    + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00]) + chunk("IEND", []))
    }

    func testAHugeDeclaredPNGIsRefusedBeforeAllocating() {
        // 8192 × 8192 RGBA, 16 bits: 512 MB of samples and 1 GB of float32 for 80 bytes.
        let bomb = pngHeader(width: 8192, height: 8192, bitDepth: 16, colorType: 6)
        XCTAssertLessThan(bomb.count, 100)
        XCTAssertThrowsError(try ImageIO.decode(data: bomb, source: "bomb.png")) { error in
            XCTAssertTrue("\(error)".contains("image.decode: bomb.png: decoding 8192x8192 pixels needs 1536 MB, more than the image memory limit of 512 MB"), "\(error)")
        }
    }

    func testTheLimitCanBeRaised() {
        let saved = ImageIO.maxDecodedBytes
        defer { ImageIO.maxDecodedBytes = saved }
        let png = pngHeader(width: 2048, height: 2048, bitDepth: 8, colorType: 2) // 12 MB + 48 MB
        ImageIO.maxDecodedBytes = 32 << 20
        XCTAssertThrowsError(try ImageIO.decode(data: png, source: "p")) { XCTAssertTrue("\($0)".contains("memory limit of 32 MB"), "\($0)") }
        ImageIO.maxDecodedBytes = 128 << 20
        // Past the limit check the token IDAT is what fails now.
        XCTAssertThrowsError(try ImageIO.decode(data: png, source: "p")) { XCTAssertFalse("\($0)".contains("memory limit"), "\($0)") }
    }
}
