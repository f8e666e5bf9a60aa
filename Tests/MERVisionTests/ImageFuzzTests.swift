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
        let start = Date()
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
        print("image fuzz: \(count) mutations in \(String(format: "%.2f", Date().timeIntervalSince(start))) s: \(decoded) decoded, \(rejected) rejected (\(top))")
        XCTAssertEqual(decoded + rejected, count)
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
