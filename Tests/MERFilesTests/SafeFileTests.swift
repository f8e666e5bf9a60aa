import Foundation
import MERFiles
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Files other people made cannot redirect a write, hang a read or grow a read past its cap.
final class SafeFileTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "mer-files-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func message(_ body: () throws -> Void) -> String {
        do { try body(); return "" } catch { return "\(error)" }
    }

    func testWriteReplacesASymbolicLinkAndLeavesItsTargetAlone() throws {
        let target = dir + "/precious.txt", link = dir + "/checkpoint.lua"
        try "keep me".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        try SafeFile.write("new", to: link)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep me")
        XCTAssertEqual(try String(contentsOfFile: link, encoding: .utf8), "new")
        XCTAssertNil(try? FileManager.default.destinationOfSymbolicLink(atPath: link), "the link itself was replaced")
        XCTAssertEqual(try SafeFile.list(dir), ["checkpoint.lua", "precious.txt"], "no temporary file is left")
    }

    func testAppendRefusesSymbolicLinksAndFIFOs() throws {
        let target = dir + "/elsewhere.csv", log = dir + "/log.csv"
        try "a\n".write(toFile: target, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: log, withDestinationPath: target)
        XCTAssertTrue(message { try SafeFile.append(Data("b\n".utf8), to: log) }.contains("is a symbolic link (not followed)"))
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "a\n")
        let fifo = dir + "/fifo.csv"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertTrue(message { try SafeFile.append(Data("b\n".utf8), to: fifo) }.contains("not a regular file") ||
                      message { try SafeFile.append(Data("b\n".utf8), to: fifo) }.contains("No such device"))
        let plain = dir + "/plain.csv"
        try SafeFile.append(Data("x\n".utf8), to: plain)
        try SafeFile.append(Data("y\n".utf8), to: plain)
        XCTAssertEqual(try String(contentsOfFile: plain, encoding: .utf8), "x\ny\n")
    }

    func testReadRefusesFIFOsAndOversizedFilesWithoutBlocking() throws {
        let fifo = dir + "/result.lua"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertEqual(message { _ = try SafeFile.read(fifo, maxBytes: 100) }, "cannot read \(fifo): not a regular file")
        let big = dir + "/big"
        try Data(count: 1000).write(to: URL(fileURLWithPath: big))
        XCTAssertEqual(message { _ = try SafeFile.read(big, maxBytes: 999) }, "cannot read \(big): 1000 bytes, more than the 999 this file may have")
        XCTAssertEqual(try SafeFile.read(big, maxBytes: 1000).count, 1000)
        XCTAssertEqual(message { _ = try SafeFile.read(self.dir, maxBytes: 10) }, "cannot read \(dir!): it is a directory")
    }

    /// One-character names (NSString.deletingLastPathComponent traps on them).
    func testOneCharacterNamesAndParents() throws {
        XCTAssertEqual(SafeFile.directory(of: "a"), ".")
        XCTAssertEqual(SafeFile.directory(of: "/a"), "/")
        XCTAssertEqual(SafeFile.directory(of: "x/a/"), "x")
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        try SafeFile.write("x", to: "a")
        XCTAssertEqual(try SafeFile.read("a", maxBytes: 10), Data("x".utf8))
        try SafeFile.makeDirectory("b/c")
        XCTAssertTrue(SafeFile.isDirectory(dir + "/b/c"))
    }

    func testDirectoriesListingExistenceAndRemoval() throws {
        try SafeFile.makeDirectory(dir + "/a/b/c")
        try SafeFile.makeDirectory(dir + "/a/b/c")
        XCTAssertTrue(SafeFile.isDirectory(dir + "/a/b/c"))
        try SafeFile.write("x", to: dir + "/a/f")
        XCTAssertEqual(message { try SafeFile.makeDirectory(self.dir + "/a/f") }, "cannot make directory \(dir!)/a/f: a file of that name exists")
        XCTAssertEqual(try SafeFile.list(dir + "/a"), ["b", "f"])
        try FileManager.default.createSymbolicLink(atPath: dir + "/a/link", withDestinationPath: dir + "/a/f")
        try SafeFile.remove(dir + "/a/link")
        XCTAssertTrue(SafeFile.exists(dir + "/a/f"), "removing a link leaves its target")
        XCTAssertTrue(message { try SafeFile.remove(self.dir + "/a/b") }.contains("directory not empty"))
        try SafeFile.remove(dir + "/a/b/c")
        XCTAssertFalse(SafeFile.exists(dir + "/a/b/c"))
        XCTAssertTrue(message { _ = try SafeFile.list(self.dir + "/nope") }.contains("not a directory"))
    }
}
