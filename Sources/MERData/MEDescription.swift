import Foundation

/// What tells one distributed micro-expression data set from another: the coding sheet's
/// columns and how to find it, how subjects are written, the label map, and where a clip's
/// frames are. CASME II and SAMM are each one of these; `read` is the one routine that
/// turns a description and a root folder into samples (apex rules, unknown emotions,
/// missing frames — see `EntryBuilder`).
struct MEDescription {
    /// Sheet column names, in the order the sheet is checked for them.
    struct Columns {
        let subject, clip, onset, apex, offset, emotion: String
        var all: [String] { [subject, clip, onset, apex, offset, emotion] }
    }

    /// One clip's frames: the folder, the file name frame n is expected to have (for the
    /// missing-frame message), and whether the folder holds the face-cropped release.
    struct ClipFrames {
        let directory: String
        let fileName: (Int) -> String
        let faceCropped: Bool
    }

    /// The frame folders of one root: where each clip is, and notes for the warnings once
    /// every clip has been located.
    struct FrameLayout {
        let locate: (_ subject: String, _ clip: String) -> ClipFrames
        var notes: () -> [String] = { [] }
    }

    let name: String
    let columns: Columns
    let labels: (_ classes: Int) throws -> LabelMap
    let normaliseSubject: (String) -> String
    /// The coding sheet under a root, if there is one; `sheetHint` names what was looked for.
    let findSheet: (_ root: String) -> String?
    let sheetHint: String
    let frameLayout: (_ root: String, _ options: MEOptions) throws -> FrameLayout

    /// What a sheet and its frames gave: the inputs of `MicroExpressionDataset.init`.
    struct Reading {
        let sheetPath: String
        let classNames: [String]
        let builder: EntryBuilder
    }

    func read(root: String, options: MEOptions) throws -> Reading {
        guard DirectoryLookup.isDirectory(root) else { throw DataError("\(name): root '\(root)' is not a directory") }
        let labelMap = try labels(options.classes)
        guard let sheetPath = options.sheet ?? findSheet(root) else {
            throw DataError("\(name): no coding sheet (\(sheetHint)) under \(root)")
        }
        let sheet = try CodingSheet(path: sheetPath, required: columns.all)
        let layout = try frameLayout(root, options)
        var b = EntryBuilder(dataset: name, sheet: sheet, labels: labelMap, skipBad: options.skipBad)
        for r in sheet.records {
            let subject = normaliseSubject(sheet.text(r, columns.subject))
            let clip = sheet.text(r, columns.clip)
            if subject.isEmpty && clip.isEmpty { continue }
            // A sheet is a file someone else wrote: its names must not lead out of the root.
            for (column, value) in [(columns.subject, subject), (columns.clip, clip)] where !Self.isPlainName(value) {
                throw DataError("\(name): \(sheet.file): row \(r.row): \(column) '\(value.prefix(80))' is not a plain folder name")
            }
            let id = "\(subject)/\(clip)"
            guard let (label, emotion) = b.label(r, id: id, column: columns.emotion) else { continue }
            let f = try b.frames(r, id: id, onsetColumn: columns.onset, apexColumn: columns.apex, offsetColumn: columns.offset)
            let c = layout.locate(subject, clip)
            let index = FrameIndex(directory: c.directory)
            guard let onset = try b.frameFile(index, directory: c.directory, frame: f.onset, expectedName: c.fileName(f.onset), row: r.row, id: id),
                  let apex = try b.frameFile(index, directory: c.directory, frame: f.apex, expectedName: c.fileName(f.apex), row: r.row, id: id)
            else { continue }
            for path in [onset, apex] where !Self.resolves(path, inside: root) {
                throw DataError("\(name): \(sheet.file): row \(r.row): \(id): frame \(path) leads outside the data set's root \(root) (a symbolic link?)")
            }
            b.entries.append(MEEntry(subject: subject, id: id, label: label, emotion: emotion, onsetFrame: f.onset,
                                     apexFrame: f.apex, offsetFrame: f.offset, onsetPath: onset, apexPath: apex,
                                     faceCropped: c.faceCropped, sheetRow: r.row))
        }
        b.warnings += layout.notes()
        return Reading(sheetPath: sheetPath, classNames: labelMap.classNames, builder: b)
    }

    /// A subject or clip name as a sheet may give it: one path component, not `.` or `..`.
    static func isPlainName(_ s: String) -> Bool {
        !s.contains("/") && !s.contains("\\") && !s.contains("\0") && s != "." && s != ".."
    }

    /// Whether `path`, with every symbolic link resolved, lies inside `root` (resolved too).
    static func resolves(_ path: String, inside root: String) -> Bool {
        guard let p = realpath(path, nil) else { return false }
        defer { free(p) }
        guard let r = realpath(root, nil) else { return false }
        defer { free(r) }
        let file = String(cString: p), base = String(cString: r)
        return file.hasPrefix(base.hasSuffix("/") ? base : base + "/")
    }

    /// The clip folder `clip` inside the subject folder for `subject` under `base`, matched
    /// the way the releases vary (zero padding, case, stray spaces); nil if either is absent.
    static func clipDirectory(in base: String?, subject: String, clip: String, normalise: @escaping (String) -> String) -> String? {
        guard let base, let s = DirectoryLookup.entry(in: base, matching: subject, normalise: normalise) else { return nil }
        return DirectoryLookup.entry(in: s, matching: clip.lowercased(), normalise: { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }
}
