import Foundation
import MERJupyter
import XCTest

/// The message signature: SHA-256 and HMAC-SHA256 against published vectors and against
/// Python's `hmac` (the reference Jupyter itself signs with), and the wire codec's checks.
final class SigningTests: XCTestCase {
    func hex(_ s: String) -> String { HMACSHA256.hex(SHA256.hash(Array(s.utf8))) }

    func testSHA256MatchesFIPSVectors() {
        XCTAssertEqual(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(String(repeating: "a", count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block is hashed first).
    func testHMACMatchesRFC4231() {
        func mac(_ key: [UInt8], _ data: [UInt8]) -> String { HMACSHA256.hex(HMACSHA256(key: key).authenticationCode([data])) }
        XCTAssertEqual(mac([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8)),
                       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(mac(Array("Jefe".utf8), Array("what do ya want for nothing?".utf8)),
                       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(mac([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)),
                       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// Random keys and multi-part messages of every length around the block boundaries,
    /// signed here and by Python's hmac module; skipped without python3.
    func testHMACMatchesPythonsHmac() throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("python3 not found")
        }
        var rng = SystemRandomNumberGenerator()
        var cases: [(key: [UInt8], parts: [[UInt8]])] = []
        for n in [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 1000] {
            let key = (0..<[0, 16, 64, 65, 200][n % 5]).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let parts = (0..<4).map { k in (0..<(k == 3 ? n : n / 3)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
            cases.append((key, parts))
        }
        let lines = cases.map { c in ([c.key] + c.parts).map { Data($0).base64EncodedString() }.joined(separator: " ") }
        let script = """
            import sys, hmac, hashlib, base64
            for line in sys.stdin.read().splitlines():
                f = [base64.b64decode(x) for x in line.split(" ")]
                h = hmac.new(f[0], digestmod=hashlib.sha256)
                for p in f[1:]: h.update(p)
                print(h.hexdigest())
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script]
        let input = Pipe(), output = Pipe()
        p.standardInput = input; p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        try input.fileHandleForWriting.close()
        let expected = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(expected.count, cases.count)
        for (c, want) in zip(cases, expected) {
            XCTAssertEqual(HMACSHA256.hex(HMACSHA256(key: c.key).authenticationCode(c.parts)), want, "key \(c.key.count) bytes")
        }
    }

    func testWireCodecRoundTripsAndRefusesATamperedMessage() throws {
        let codec = WireCodec(key: "secret")
        let m = Message.make("execute_request", content: ["code": "1 + 1", "silent": false], parent: [:], session: "s",
                             identities: [Data("client".utf8)])
        var frames = codec.encode(m)
        XCTAssertEqual(frames[0], Data("client".utf8))
        XCTAssertEqual(frames[1], Data("<IDS|MSG>".utf8))
        XCTAssertEqual(frames[2].count, 64)
        let back = try codec.decode(frames)
        XCTAssertEqual(back.type, "execute_request")
        XCTAssertEqual(back.content["code"] as? String, "1 + 1")
        XCTAssertEqual(back.identities, [Data("client".utf8)])

        frames[6] = Data(#"{"code": "os.exit()"}"#.utf8)
        XCTAssertThrowsError(try codec.decode(frames)) { XCTAssertEqual($0 as? WireCodec.DecodeError, .badSignature) }
        XCTAssertThrowsError(try WireCodec(key: "other").decode(codec.encode(m))) {
            XCTAssertEqual($0 as? WireCodec.DecodeError, .badSignature)
        }
        XCTAssertThrowsError(try codec.decode(Array(codec.encode(m).prefix(5)))) {
            XCTAssertEqual($0 as? WireCodec.DecodeError, .missingFrames(3))
        }
        XCTAssertThrowsError(try codec.decode([Data("x".utf8)])) { XCTAssertEqual($0 as? WireCodec.DecodeError, .noDelimiter) }
    }
}
