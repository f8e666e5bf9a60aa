import Foundation
import MERTensor
import MERVision

/// Options shared by the micro-expression datasets (CASME II, SAMM).
public struct MEOptions {
    /// 5 (the dataset's 5-class task) or 3 (MEGC 2019 composite).
    public var classes: Int = 5
    /// Input kinds stacked as channels (see `InputKinds`).
    public var input: [String] = ["onset", "apex"]
    public var size: Int = 112
    public var crop: CropMode = .face
    /// Keep decoded, preprocessed inputs in memory.
    public var cache: Bool = true
    /// Also persist them to `<root>/.mer-cache-<hash>.bin` (implies `cache`).
    public var cacheFile: Bool = false
    /// A missing frame file drops the sample with a warning instead of failing.
    public var skipBad: Bool = false
    /// An explicit coding sheet path (default: found under the root).
    public var sheet: String? = nil
    /// Print the warnings (once, at construction) to standard error.
    public var printWarnings: Bool = true
    /// Decodes a frame file into (C,H,W) in [0,1]; default `ImageIO.load`. Tests inject fakes.
    public var frameLoader: ((String) throws -> Tensor)? = nil

    public init(classes: Int = 5, input: [String] = ["onset", "apex"], size: Int = 112, crop: CropMode = .face,
                cache: Bool = true, cacheFile: Bool = false, skipBad: Bool = false, sheet: String? = nil,
                printWarnings: Bool = true, frameLoader: ((String) throws -> Tensor)? = nil) {
        self.classes = classes; self.input = input; self.size = size; self.crop = crop
        self.cache = cache; self.cacheFile = cacheFile; self.skipBad = skipBad; self.sheet = sheet
        self.printWarnings = printWarnings; self.frameLoader = frameLoader
    }
}

/// One clip after the sheet's quirk rules: where its onset and apex frames are.
public struct MEEntry {
    public let subject: String
    public let id: String
    public let label: Int
    /// The emotion as written in the sheet (trimmed).
    public let emotion: String
    public let onsetFrame: Int
    public let apexFrame: Int
    public let offsetFrame: Int?
    public let onsetPath: String
    public let apexPath: String
    /// Frames come from a face-cropped release (no further crop applied for `.face`).
    public let faceCropped: Bool
    /// 1-based sheet row.
    public let sheetRow: Int
}

/// The common machinery of CASME II and SAMM: entries, preprocessing, cache, warnings.
/// Subclasses parse their sheet and frame layout into `MEEntry`s.
public class MicroExpressionDataset: Dataset {
    public let name: String
    public let root: String
    public let sheetPath: String
    public let options: MEOptions
    public let classNames: [String]
    public let entries: [MEEntry]
    /// One line per affected sample (plus dataset-level notes), printed once at construction.
    public let warnings: [String]
    /// Samples dropped because of missing frames (`skipBad`).
    public let skipped: Int
    /// Samples whose emotion the task leaves out on purpose (e.g. fear and sadness in CASME II 5-class).
    public let excluded: Int
    let kinds: [InputKind]
    let cache: SampleCache
    private let loadFrame: (String) throws -> Tensor

    /// Channels of `x`.
    public var channels: Int { kinds.reduce(0) { $0 + $1.channels } }
    /// "none", "loaded", "stale", "corrupt" or "missing": what happened to the cache file at construction.
    public var cacheFileState: String { cache.fileState.rawValue }
    public var cacheFilePath: String? { cache.filePath }
    /// Cache files written by this dataset object.
    public var cacheWrites: Int { cache.writes }

    init(name: String, root: String, sheetPath: String, options: MEOptions, classNames: [String],
         entries: [MEEntry], warnings: [String], skipped: Int, excluded: Int) throws {
        guard options.size > 0 else { throw DataError("\(name): size must be positive, got \(options.size)") }
        guard !options.input.isEmpty else { throw DataError("\(name): input must name at least one kind") }
        kinds = try options.input.map { try InputKinds.kind($0) }
        self.name = name; self.root = root; self.sheetPath = sheetPath; self.options = options
        self.classNames = classNames; self.entries = entries
        self.skipped = skipped; self.excluded = excluded
        loadFrame = options.frameLoader ?? { try ImageIO.load(path: $0) }
        var warnings = warnings
        var cachePath: String? = nil
        var fingerprint: UInt64 = 0
        if options.cacheFile {
            var config = FNV1a()
            config.add(name); config.add(String(options.classes)); config.add(options.input.joined(separator: ","))
            config.add(String(options.size)); config.add(options.crop.description); config.add(sheetPath)
            cachePath = (root as NSString).appendingPathComponent(".mer-cache-\(config.hex).bin")
            var fp = FNV1a()
            fp.add(config.hex)
            fp.addFileStamp(sheetPath)
            for e in entries { fp.add(e.id); fp.add(String(e.label)); fp.addFileStamp(e.onsetPath); fp.addFileStamp(e.apexPath) }
            fingerprint = fp.value
        }
        var cacheWarnings: [String] = []
        cache = SampleCache(count: entries.count, enabled: options.cache, filePath: cachePath,
                            fingerprint: fingerprint, warn: { cacheWarnings.append($0) })
        warnings += cacheWarnings
        self.warnings = warnings
        if options.printWarnings && !warnings.isEmpty {
            var msg = "\(name): \(warnings.count) warning\(warnings.count == 1 ? "" : "s")\n"
            for w in warnings { msg += "  \(w)\n" }
            FileHandle.standardError.write(msg.data(using: .utf8)!)
        }
    }

    public var count: Int { entries.count }
    public func subject(at index: Int) -> String { entries[index].subject }
    public func label(at index: Int) -> Int { entries[index].label }
    public func id(at index: Int) -> String { entries[index].id }

    public func sample(at index: Int) throws -> Sample {
        guard index >= 0 && index < entries.count else {
            throw DataError("\(name): index \(index) out of range for \(entries.count) samples")
        }
        let e = entries[index]
        if let x = cache.get(index) {
            return Sample(x: try x.clone(), label: e.label, subject: e.subject, id: e.id)
        }
        let crop: CropMode = e.faceCropped ? .none : options.crop
        let prep = FramePreprocessor(crop: crop, size: options.size)
        func frame(_ path: String) throws -> Tensor {
            do { return try prep.apply(try loadFrame(path), path: path) }
            catch { throw DataError("\(name): sample \(e.id): \(path): \(error)") }
        }
        let onset = try frame(e.onsetPath)
        let apex = e.apexPath == e.onsetPath ? onset : try frame(e.apexPath)
        let x: Tensor
        do { x = try InputKinds.build(kinds, onset: onset, apex: apex) }
        catch { throw DataError("\(name): sample \(e.id): \(error)") }
        cache.put(index, x)
        return Sample(x: cache.enabled ? try x.clone() : x, label: e.label, subject: e.subject, id: e.id)
    }

    /// Decodes every sample now (two threads), filling the cache and writing the cache file.
    public func preload() throws {
        var firstError: Error? = nil
        let lock = NSLock()
        let n = entries.count
        DispatchQueue.concurrentPerform(iterations: 2) { w in
            var i = w
            while i < n {
                do { _ = try self.sample(at: i) }
                catch { lock.lock(); if firstError == nil { firstError = error }; lock.unlock() }
                i += 2
            }
        }
        if let e = firstError { throw e }
    }
}

/// Builds entries from sheet rows with the quirk rules shared by CASME II and SAMM.
struct EntryBuilder {
    static let maxFrame = 10_000_000
    let dataset: String
    let sheet: CodingSheet
    let labels: LabelMap
    let skipBad: Bool
    var entries: [MEEntry] = []
    var warnings: [String] = []
    var skipped = 0
    var excluded = 0

    init(dataset: String, sheet: CodingSheet, labels: LabelMap, skipBad: Bool) {
        self.dataset = dataset; self.sheet = sheet; self.labels = labels; self.skipBad = skipBad
    }

    /// Frame numbers after the apex rules.
    ///
    /// - apex not a number (`/`, empty): the middle frame `(onset + offset) / 2` (rounded down);
    /// - apex == onset (and offset > onset + 1): the same middle frame, since an onset–apex
    ///   pair of one frame carries no motion.
    /// Each rewrite is one warning for that sample. Onset must be a number (error otherwise);
    /// offset is needed only when a rule uses it.
    mutating func frames(_ r: CodingSheet.Record, id: String, onsetColumn: String, apexColumn: String,
                         offsetColumn: String) throws -> (onset: Int, apex: Int, offset: Int?) {
        // Frame numbers are bounded before any arithmetic (a sheet is someone else's file):
        // ten million frames is 14 hours at 200 fps.
        func checked(_ v: Int?, _ column: String) throws -> Int? {
            guard let v else { return nil }
            guard (0...EntryBuilder.maxFrame).contains(v) else {
                throw DataError("\(sheet.file): row \(r.row): \(column) \(v) is not a frame number in 0...\(EntryBuilder.maxFrame)")
            }
            return v
        }
        let onset = try checked(try sheet.requireInteger(r, onsetColumn), onsetColumn)!
        let offsetText = sheet.text(r, offsetColumn)
        let offset = try checked(CodingSheet.parseInteger(offsetText), offsetColumn)
        let apexText = sheet.text(r, apexColumn)
        if let apex = try checked(CodingSheet.parseInteger(apexText), apexColumn) {
            if apex == onset, let off = offset, off > onset + 1 {
                let mid = (onset + off) / 2
                warnings.append("\(sheet.file): row \(r.row): \(id): apex equals onset (\(onset)); using the middle frame \(mid) between onset \(onset) and offset \(off)")
                return (onset, mid, offset)
            }
            return (onset, apex, offset)
        }
        guard let off = offset, off >= onset else {
            throw DataError("\(sheet.file): row \(r.row): \(apexColumn) '\(apexText)' is not a number and \(offsetColumn) '\(offsetText)' cannot stand in for it")
        }
        let mid = (onset + off) / 2
        warnings.append("\(sheet.file): row \(r.row): \(id): apex written '\(apexText)'; using the middle frame \(mid) between onset \(onset) and offset \(off)")
        return (onset, mid, offset)
    }

    /// The label for a row, or nil (excluded by the task, or unknown with a warning).
    mutating func label(_ r: CodingSheet.Record, id: String, column: String) -> (Int, String)? {
        let emotion = sheet.text(r, column)
        switch labels.label(forEmotion: emotion) {
        case .label(let c): return (c, emotion)
        case .excluded: excluded += 1; return nil
        case .unknown(let e):
            warnings.append("\(sheet.file): row \(r.row): \(id): unknown emotion '\(e)'; sample left out")
            return nil
        }
    }

    /// A frame file, or a missing-frame error naming the expected path (a warning and a
    /// skip with `skipBad`).
    mutating func frameFile(_ index: FrameIndex?, directory: String, frame: Int, expectedName: String,
                            row: Int, id: String) throws -> String? {
        if let idx = index, let p = idx.path(frame) { return p }
        let expected = (directory as NSString).appendingPathComponent(expectedName)
        let what = index == nil ? "missing clip folder \(directory)" : "missing frame file \(expected)"
        if skipBad {
            warnings.append("\(sheet.file): row \(row): \(id): \(what); sample skipped")
            skipped += 1
            return nil
        }
        throw DataError("\(dataset): \(sheet.file): row \(row): \(id): \(what)")
    }
}
