import Foundation

/// Frame files of one clip folder, by frame number.
///
/// A frame's number is the trailing digit run of its file name's stem, so `img46.jpg`,
/// `reg_img46.jpg`, `006_05562.jpg` and `006_5562.jpg` are found by number regardless of
/// prefix or zero padding. Extensions: jpg, jpeg, png, bmp, pgm (case-insensitive).
struct FrameIndex {
    let directory: String
    let files: [Int: String]

    static let extensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "pgm"]

    init?(directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        self.directory = directory
        var files: [Int: String] = [:]
        for name in names.sorted() {
            let ns = name as NSString
            guard FrameIndex.extensions.contains(ns.pathExtension.lowercased()) else { continue }
            let stem = Array(ns.deletingPathExtension.unicodeScalars)
            var k = stem.count
            while k > 0 && stem[k - 1].value >= 48 && stem[k - 1].value <= 57 { k -= 1 }
            guard k < stem.count, let n = Int(String(String.UnicodeScalarView(stem[k...]))) else { continue }
            if files[n] == nil { files[n] = name }
        }
        self.files = files
    }

    func path(_ frame: Int) -> String? { files[frame].map { (directory as NSString).appendingPathComponent($0) } }
}

/// Directory helpers shared by the dataset loaders.
enum DirectoryLookup {
    static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }

    /// The entry of `directory` whose name, after `normalise`, equals `wanted` (already
    /// normalised); exact name first.
    static func entry(in directory: String, matching wanted: String, normalise: (String) -> String) -> String? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        let path = { (n: String) in (directory as NSString).appendingPathComponent(n) }
        if names.contains(wanted), isDirectory(path(wanted)) { return path(wanted) }
        for n in names.sorted() where normalise(n) == wanted && isDirectory(path(n)) { return path(n) }
        return nil
    }

    /// Files directly in `dir` and one level below whose name satisfies `accept`, natural order,
    /// files at the top level first. (Collected apart rather than sorted afterwards by
    /// `NSString.deletingLastPathComponent`, which traps on one-character names in
    /// swift-corelibs-foundation.)
    static func findFiles(under dir: String, accept: (String) -> Bool) -> [String] {
        var top: [String] = [], nested: [String] = []
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: dir) else { return [] }
        for n in names.sorted(by: naturalLess) {
            let p = (dir as NSString).appendingPathComponent(n)
            if isDirectory(p) {
                if n.hasPrefix(".") { continue }
                for m in ((try? fm.contentsOfDirectory(atPath: p)) ?? []).sorted(by: naturalLess) where accept(m) {
                    nested.append((p as NSString).appendingPathComponent(m))
                }
            } else if accept(n) { top.append(p) }
        }
        return top + nested
    }
}
