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
    public static var columns: [String] { description.columns.all }

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
        let d = SAMMDataset.description
        let r = try d.read(root: root, options: options)
        try super.init(name: d.name, root: root, sheetPath: r.sheetPath, options: options, classNames: r.classNames,
                       entries: r.builder.entries, warnings: r.builder.warnings, skipped: r.builder.skipped, excluded: r.builder.excluded)
    }

    static let description = MEDescription(
        name: "samm",
        columns: .init(subject: "Subject", clip: "Filename", onset: "Onset Frame", apex: "Apex Frame", offset: "Offset Frame",
                       emotion: "Estimated Emotion"),
        labels: { try LabelMap.samm(classes: $0) },
        normaliseSubject: normaliseSubject,
        findSheet: { root in
            let all = DirectoryLookup.findFiles(under: root) { n in
                let l = n.lowercased()
                return (l.hasSuffix(".xlsx") || l.hasSuffix(".csv")) && !l.hasPrefix("~$") && !l.hasPrefix(".")
            }
            let named = all.filter { let l = ($0 as NSString).lastPathComponent.lowercased(); return l.contains("samm") || l.contains("facs") }
            return named.first ?? all.first
        },
        sheetHint: "SAMM_Micro_FACS_Codes_v2.xlsx or .csv",
        frameLayout: { root, _ in
            let framesRoot = DirectoryLookup.entry(in: root, matching: "samm", normalise: { $0.lowercased() }) ?? root
            return MEDescription.FrameLayout(locate: { subject, clip in
                let subjectDir = DirectoryLookup.entry(in: framesRoot, matching: subject, normalise: normaliseSubject)
                    ?? (framesRoot as NSString).appendingPathComponent(subject)
                let dir = MEDescription.clipDirectory(in: framesRoot, subject: subject, clip: clip, normalise: normaliseSubject)
                    ?? (subjectDir as NSString).appendingPathComponent(clip)
                // Frames are found by number whatever their zero padding; the message shows the usual name.
                return MEDescription.ClipFrames(directory: dir, fileName: { "\(subject)_\(String(format: "%05d", $0)).jpg" }, faceCropped: false)
            })
        })
}
