import Foundation

/// SAMM (Davison et al., 2018): 32 subjects, 200 fps, 2040×1088 gray frames.
///
/// Root layout (see Datasets/README.md):
/// ```
/// <root>/SAMM_Micro_FACS_Codes_v2.xlsx   (any .xlsx/.csv whose name has "SAMM" or "FACS")
/// <root>/SAMM/NNN/NNN_x_y/NNN_xxxxx.jpg   (or the NNN folders directly under <root>)
/// ```
/// The sheet has preamble rows above its header; columns used: Subject, Filename,
/// Onset Frame, Apex Frame, Offset Frame, Estimated Emotion. Frames are found by number
/// whatever their zero padding.
public final class SAMMDataset: MicroExpressionDataset {
    public static let columns = ["Subject", "Filename", "Onset Frame", "Apex Frame", "Offset Frame", "Estimated Emotion"]

    /// `6`, `06`, `006` → `006`.
    public static func normaliseSubject(_ s: String) -> String {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        if let n = CodingSheet.parseInteger(t), n >= 0 { return String(format: "%03d", n) }
        return t
    }

    public convenience init(root: String, classes: Int = 5, input: [String] = ["onset", "apex"], size: Int = 112,
                            crop: CropMode = .none, cache: Bool = true, cacheFile: Bool = false,
                            skipBad: Bool = false) throws {
        try self.init(root: root, options: MEOptions(classes: classes, input: input, size: size, crop: crop,
                                                     cache: cache, cacheFile: cacheFile, skipBad: skipBad))
    }

    public init(root: String, options: MEOptions) throws {
        let name = "samm"
        guard DirectoryLookup.isDirectory(root) else { throw DataError("\(name): root '\(root)' is not a directory") }
        let labels = try LabelMap.samm(classes: options.classes)
        let sheetPath: String
        if let s = options.sheet { sheetPath = s } else {
            let all = DirectoryLookup.findFiles(under: root) { n in
                let l = n.lowercased()
                return (l.hasSuffix(".xlsx") || l.hasSuffix(".csv")) && !l.hasPrefix("~$") && !l.hasPrefix(".")
            }
            let named = all.filter { let l = ($0 as NSString).lastPathComponent.lowercased(); return l.contains("samm") || l.contains("facs") }
            guard let s = named.first ?? all.first else {
                throw DataError("\(name): no coding sheet (SAMM_Micro_FACS_Codes_v2.xlsx or .csv) under \(root)")
            }
            sheetPath = s
        }
        let sheet = try CodingSheet(path: sheetPath, required: SAMMDataset.columns)
        let framesRoot = DirectoryLookup.entry(in: root, matching: "samm", normalise: { $0.lowercased() }) ?? root
        var b = EntryBuilder(dataset: name, sheet: sheet, labels: labels, skipBad: options.skipBad)
        for r in sheet.records {
            let subject = SAMMDataset.normaliseSubject(sheet.text(r, "Subject"))
            let clip = sheet.text(r, "Filename")
            if subject.isEmpty && clip.isEmpty { continue }
            let id = "\(subject)/\(clip)"
            guard let (label, emotion) = b.label(r, id: id, column: "Estimated Emotion") else { continue }
            let f = try b.frames(r, id: id, onsetColumn: "Onset Frame", apexColumn: "Apex Frame", offsetColumn: "Offset Frame")
            let subjectDir = DirectoryLookup.entry(in: framesRoot, matching: subject, normalise: SAMMDataset.normaliseSubject)
                ?? (framesRoot as NSString).appendingPathComponent(subject)
            let dir = DirectoryLookup.entry(in: subjectDir, matching: clip.lowercased(), normalise: {
                $0.trimmingCharacters(in: .whitespaces).lowercased() }) ?? (subjectDir as NSString).appendingPathComponent(clip)
            let index = FrameIndex(directory: dir)
            func expected(_ n: Int) -> String { "\(subject)_\(String(format: "%05d", n)).jpg" }
            guard let onset = try b.frameFile(index, directory: dir, frame: f.onset, expectedName: expected(f.onset), row: r.row, id: id),
                  let apex = try b.frameFile(index, directory: dir, frame: f.apex, expectedName: expected(f.apex), row: r.row, id: id)
            else { continue }
            b.entries.append(MEEntry(subject: subject, id: id, label: label, emotion: emotion, onsetFrame: f.onset,
                                     apexFrame: f.apex, offsetFrame: f.offset, onsetPath: onset, apexPath: apex,
                                     faceCropped: false, sheetRow: r.row))
        }
        try super.init(name: name, root: root, sheetPath: sheetPath, options: options, classNames: labels.classNames,
                       entries: b.entries, warnings: b.warnings, skipped: b.skipped, excluded: b.excluded)
    }
}
