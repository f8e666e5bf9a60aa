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
    public static var columns: [String] { description.columns.all }

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
        let d = CASME2Dataset.description
        let r = try d.read(root: root, options: options)
        try super.init(name: d.name, root: root, sheetPath: r.sheetPath, options: options, classNames: r.classNames,
                       entries: r.builder.entries, warnings: r.builder.warnings, skipped: r.builder.skipped, excluded: r.builder.excluded)
    }

    static let description = MEDescription(
        name: "casme2",
        columns: .init(subject: "Subject", clip: "Filename", onset: "OnsetFrame", apex: "ApexFrame", offset: "OffsetFrame",
                       emotion: "Estimated Emotion"),
        labels: { try LabelMap.casme2(classes: $0) },
        normaliseSubject: normaliseSubject,
        findSheet: { root in
            DirectoryLookup.findFiles(under: root) { n in
                let l = n.lowercased()
                return (l.hasPrefix("casme2-coding") || l.hasPrefix("casme2_coding") || l.hasPrefix("casme2 coding"))
                    && (l.hasSuffix(".xlsx") || l.hasSuffix(".csv")) && !l.hasPrefix("~$")
            }.first
        },
        sheetHint: "CASME2-coding-*.xlsx or .csv",
        frameLayout: { root, options in
            func folder(_ names: [String]) -> String? {
                names.map { (root as NSString).appendingPathComponent($0) }.first(where: DirectoryLookup.isDirectory)
            }
            let rawDir = folder(["CASME2_RAW_selected", "CASME2_RAW", "CASME2-RAW"])
            let croppedDir = folder(["Cropped", "CASME2_Cropped", "CASME2-Cropped"])
            guard rawDir != nil || croppedDir != nil else {
                throw DataError("casme2: no frame folder under \(root) (expected CASME2_RAW_selected/ or Cropped/)")
            }
            var rawFallbacks = 0
            func clipDir(_ base: String?, _ subject: String, _ clip: String) -> String? {
                MEDescription.clipDirectory(in: base, subject: subject, clip: clip, normalise: normaliseSubject)
            }
            // The cropped release for crop=face when it has the clip, else the raw frames.
            return MEDescription.FrameLayout(locate: { subject, clip in
                func frames(_ dir: String, _ prefix: String, _ cropped: Bool) -> MEDescription.ClipFrames {
                    MEDescription.ClipFrames(directory: dir, fileName: { "\(prefix)\($0).jpg" }, faceCropped: cropped)
                }
                if options.crop == .face, let d = clipDir(croppedDir, subject, clip) { return frames(d, "reg_img", true) }
                if let d = clipDir(rawDir, subject, clip) {
                    if options.crop == .face { rawFallbacks += 1 }
                    return frames(d, "img", false)
                }
                if rawDir == nil, let d = clipDir(croppedDir, subject, clip) { return frames(d, "reg_img", options.crop == .face) }
                return frames(((rawDir ?? croppedDir!) as NSString).appendingPathComponent("\(subject)/\(clip)"), "img", false)
            }, notes: {
                rawFallbacks == 0 ? [] : ["crop=face: \(rawFallbacks) sample\(rawFallbacks == 1 ? " has" : "s have") no Cropped/ release; using the whole raw frame (pass crop=box or center to crop them)"]
            })
        })
}
