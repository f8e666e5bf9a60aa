import Foundation

/// CASME II (Yan et al., 2014): onset/apex clips of 26 subjects at 200 fps.
///
/// Root layout (see Datasets/README.md):
/// ```
/// <root>/CASME2-coding-20140508.xlsx        (or any CASME2-coding-*.xlsx / .csv)
/// <root>/CASME2_RAW_selected/subNN/EPxx_yy/imgN.jpg
/// <root>/Cropped/subNN/EPxx_yy/reg_imgN.jpg  (optional face-cropped release)
/// ```
/// Columns used: Subject, Filename, OnsetFrame, ApexFrame, OffsetFrame, Estimated Emotion
/// (others, e.g. Action Units or the 2019 sheet's extras, are ignored).
public final class CASME2Dataset: MicroExpressionDataset {
    public static let columns = ["Subject", "Filename", "OnsetFrame", "ApexFrame", "OffsetFrame", "Estimated Emotion"]

    /// `1`, `01`, `sub1`, `Sub01 ` → `sub01`; anything without a number is kept trimmed.
    public static func normaliseSubject(_ s: String) -> String {
        var t = s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if t.hasPrefix("sub") { t = String(t.dropFirst(3)).trimmingCharacters(in: .whitespaces) }
        if let n = CodingSheet.parseInteger(t), n >= 0 { return String(format: "sub%02d", n) }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public convenience init(root: String, classes: Int = 5, input: [String] = ["onset", "apex"], size: Int = 112,
                            crop: CropMode = .face, cache: Bool = true, cacheFile: Bool = false,
                            skipBad: Bool = false) throws {
        try self.init(root: root, options: MEOptions(classes: classes, input: input, size: size, crop: crop,
                                                     cache: cache, cacheFile: cacheFile, skipBad: skipBad))
    }

    public init(root: String, options: MEOptions) throws {
        let name = "casme2"
        guard DirectoryLookup.isDirectory(root) else { throw DataError("\(name): root '\(root)' is not a directory") }
        let labels = try LabelMap.casme2(classes: options.classes)
        let sheetPath: String
        if let s = options.sheet { sheetPath = s } else {
            func isSheet(_ n: String) -> Bool {
                let l = n.lowercased()
                return (l.hasPrefix("casme2-coding") || l.hasPrefix("casme2_coding") || l.hasPrefix("casme2 coding"))
                    && (l.hasSuffix(".xlsx") || l.hasSuffix(".csv")) && !l.hasPrefix("~$")
            }
            guard let s = DirectoryLookup.findFiles(under: root, accept: isSheet).first else {
                throw DataError("\(name): no coding sheet CASME2-coding-*.xlsx (or .csv) under \(root)")
            }
            sheetPath = s
        }
        let sheet = try CodingSheet(path: sheetPath, required: CASME2Dataset.columns)
        let rawDir = ["CASME2_RAW_selected", "CASME2_RAW", "CASME2-RAW"].map { (root as NSString).appendingPathComponent($0) }
            .first(where: DirectoryLookup.isDirectory)
        let croppedDir = ["Cropped", "CASME2_Cropped", "CASME2-Cropped"].map { (root as NSString).appendingPathComponent($0) }
            .first(where: DirectoryLookup.isDirectory)
        guard rawDir != nil || croppedDir != nil else {
            throw DataError("\(name): no frame folder under \(root) (expected CASME2_RAW_selected/ or Cropped/)")
        }
        var b = EntryBuilder(dataset: name, sheet: sheet, labels: labels, skipBad: options.skipBad)
        var rawFallbacks = 0
        for r in sheet.records {
            let subject = CASME2Dataset.normaliseSubject(sheet.text(r, "Subject"))
            let clip = sheet.text(r, "Filename")
            if subject.isEmpty && clip.isEmpty { continue }
            let id = "\(subject)/\(clip)"
            guard let (label, emotion) = b.label(r, id: id, column: "Estimated Emotion") else { continue }
            let f = try b.frames(r, id: id, onsetColumn: "OnsetFrame", apexColumn: "ApexFrame", offsetColumn: "OffsetFrame")
            // Folder: the cropped release for crop=face when it has this clip, else the raw frames.
            func clipDir(_ base: String?) -> String? {
                guard let base, let s = DirectoryLookup.entry(in: base, matching: subject, normalise: CASME2Dataset.normaliseSubject)
                else { return nil }
                return DirectoryLookup.entry(in: s, matching: clip.lowercased(), normalise: {
                    $0.trimmingCharacters(in: .whitespaces).lowercased() })
            }
            var dir: String, prefix: String, cropped = false
            if options.crop == .face, let d = clipDir(croppedDir) {
                dir = d; prefix = "reg_img"; cropped = true
            } else if let d = clipDir(rawDir) {
                dir = d; prefix = "img"
                if options.crop == .face { rawFallbacks += 1 }
            } else if rawDir == nil, let d = clipDir(croppedDir) {
                dir = d; prefix = "reg_img"; cropped = options.crop == .face
            } else {
                dir = ((rawDir ?? croppedDir!) as NSString).appendingPathComponent("\(subject)/\(clip)")
                prefix = "img"
            }
            let index = FrameIndex(directory: dir)
            guard let onset = try b.frameFile(index, directory: dir, frame: f.onset, expectedName: "\(prefix)\(f.onset).jpg", row: r.row, id: id),
                  let apex = try b.frameFile(index, directory: dir, frame: f.apex, expectedName: "\(prefix)\(f.apex).jpg", row: r.row, id: id)
            else { continue }
            b.entries.append(MEEntry(subject: subject, id: id, label: label, emotion: emotion, onsetFrame: f.onset,
                                     apexFrame: f.apex, offsetFrame: f.offset, onsetPath: onset, apexPath: apex,
                                     faceCropped: cropped, sheetRow: r.row))
        }
        if rawFallbacks > 0 {
            b.warnings.append("crop=face: \(rawFallbacks) sample\(rawFallbacks == 1 ? " has" : "s have") no Cropped/ release; using the whole raw frame (pass crop=box or center to crop them)")
        }
        try super.init(name: name, root: root, sheetPath: sheetPath, options: options, classNames: labels.classNames,
                       entries: b.entries, warnings: b.warnings, skipped: b.skipped, excluded: b.excluded)
    }
}
