import CLua
import CLuaBridge
import Foundation
import MERData
import MERTensor

/// A data set handed to Lua (the protocol existential lives in a box).
final class DatasetBox: LuaObject {
    static let luaTypeName = "dataset"
    static let expected = "a data set"
    let dataset: Dataset
    init(_ d: Dataset) { dataset = d }
}

/// A loader and the epoch a `for` loop is walking.
final class LoaderBox: LuaObject {
    static let luaTypeName = "loader"
    static let expected = "a loader"
    let loader: DataLoader
    var current: EpochIterator?
    init(_ l: DataLoader) { loader = l }
}

/// What `data.casme2` and `data.samm` read: the folder, then MERData's own options.
struct MEBindingOptions {
    var root: String?, me = MEOptions()
    static let declared: [Option<MEBindingOptions>] = [
        Option("root", \.root, Read.string), Option("classes", \.me.classes, Reader { call, i in
            let c = try call.integer(i)
            guard c == 5 || c == 3 else { throw call.error(i, "expected 5 or 3, got \(c)") }
            return c
        }),
        Option("input", \.me.input, Read.strings), Option("size", \.me.size, Read.positive),
        Option("crop", \.me.crop, Reader { try $0.cropMode($1) }), Option("cache", \.me.cache, Read.boolean),
        Option("cache_file", \.me.cacheFile, Read.boolean), Option("skip_bad", \.me.skipBad, Read.boolean),
        Option("sheet", \.me.sheet, Read.string),
    ]
}

struct ImageFolderOptions {
    var size = 112, gray = false
    static let declared: [Option<ImageFolderOptions>] = [Option("size", \.size, Read.positive), Option("gray", \.gray, Read.boolean)]
}

struct LoaderOptions {
    var batch = 32, shuffle = true, seed: UInt64 = 0, dropLast = false, skipBad = false, prefetch = 2
    static let declared: [Option<LoaderOptions>] = [
        Option("batch", \.batch, Read.positive), Option("shuffle", \.shuffle, Read.boolean), Option("seed", \.seed, Read.seed),
        Option("drop_last", \.dropLast, Read.boolean), Option("skip_bad", \.skipBad, Read.boolean), Option("prefetch", \.prefetch, Read.integer(in: 0...64, "a number of batches in 0...64")),
    ]
}

struct SplitOptions {
    var fraction = 0.2, subjects: Int?, seed: UInt64 = 0
    static let declared: [Option<SplitOptions>] = [
        Option("fraction", \.fraction, Read.number), Option("subjects", \.subjects, Read.positive), Option("seed", \.seed, Read.seed),
    ]
}

/// The `data` global: CASME II, SAMM and image-folder data sets, loaders, LOSO / k-fold
/// splits. Labels are 1..C in Lua (0..C−1 inside).
extension LuaVM {
    func installDataModule() {
        defineType(DatasetBox.self, prefix: "data.dataset", methods: datasetMethods(), meta: [
            .meta("__len") { call in call.push(try call.dataset(1).count) },
            .meta("__tostring") { call in
                let ds = try call.dataset(1)
                return call.push("dataset of \(ds.count) samples, \(ds.subjects.count) subjects, classes \(ds.classNames.joined(separator: ", "))")
            },
        ], index: { call, box in
            guard call.isNumber(2) else { return nil }
            let i = try call.index(2, size: box.dataset.count, what: "sample index")
            return try call.pushSample(try box.dataset.sample(at: i), index: i)
        })

        defineType(LoaderBox.self, prefix: "data.loader", methods: [
            Method("epoch", arity: 1, "loader:epoch([k])\nAn iterator over the batches of the next epoch (or epoch k, 1-based).") { call, box in
                let holder = LoaderBox(box.loader)
                holder.current = call.isNil(2) ? box.loader.epoch() : box.loader.epoch(try call.positiveInteger(2) - 1)
                return call.push(holder)
            },
            Method("skipped", arity: 0, "loader:skipped()\nHow many bad samples were skipped (skip_bad=true).") { call, box in
                call.push(box.loader.skipped)
            },
        ], meta: [
            // `for batch in loader do`: a call with a nil control value starts a new epoch.
            .meta("__call", name: "data.loader", method: true) { call in
                let box: LoaderBox = try call.arg(1)
                if call.isNil(3) || box.current == nil { box.current = box.current ?? box.loader.epoch() }
                guard let batch = try box.current!.next() else {
                    box.current = nil
                    return call.pushNil()
                }
                return try call.pushBatch(batch)
            },
            .meta("__len") { call in
                let box: LoaderBox = try call.arg(1)
                return call.push(box.loader.batchCount)
            },
        ])

        defineModule("data", [
            .function("casme2", arity: 1, """
                data.casme2{root, classes=5|3, input={"onset","apex"}, size=112, crop="face", cache=true,
                            cache_file=false, skip_bad=false, sheet}
                CASME II as distributed: reads CASME2-coding-*.xlsx (or a CSV export) and the frames under
                CASME2_RAW_selected/ or Cropped/. crop: "face" (the cropped release), "none", a box {x, y, w, h}
                (1-based) or a centred {h, w}.
                See Datasets/README.md for the label maps and the rules for the sheet's quirks.
                """) { call in
                let (root, o) = try call.meOptions(1)
                return call.pushDataset(try CASME2Dataset(root: root, options: o))
            },
            .function("samm", arity: 1, """
                data.samm{root, classes=5|3, input, size, crop, cache, cache_file, skip_bad, sheet}
                SAMM as distributed: its FACS-codes xlsx and frames SAMM/NNN/NNN_x_y/NNN_xxxxx.jpg.
                """) { call in
                let (root, o) = try call.meOptions(1)
                return call.pushDataset(try SAMMDataset(root: root, options: o))
            },
            .function("imagefolder", arity: 2, """
                data.imagefolder(root [, {size=112, gray=false}])
                Class sub-folders of PNG/JPEG files; classes sorted by name as torchvision's ImageFolder.
                """) { call in
                let root = try call.string(1)
                let o = try call.options(2, ImageFolderOptions.declared, ImageFolderOptions())
                return call.pushDataset(try ImageFolderDataset(root: root, size: o.size, gray: o.gray))
            },
            .function("loader", arity: 2, """
                data.loader(ds [, {batch=32, shuffle=true, seed=0, drop_last=false, skip_bad=false, prefetch=2}])
                Batches {x = (N, C, H, W) tensor, y = labels 1..C, ids, subjects} with seeded shuffling (epoch k
                uses seed + k) and background prefetch. Iterate with: for batch in loader do ... end
                """) { call in
                let ds = try call.dataset(1)
                let o = try call.options(2, LoaderOptions.declared, LoaderOptions())
                return call.push(LoaderBox(try DataLoader(dataset: ds, batchSize: o.batch, shuffle: o.shuffle, seed: o.seed,
                                                          dropLast: o.dropLast, skipBad: o.skipBad, prefetch: o.prefetch)))
            },
            .function("loso", arity: 1, """
                data.loso(ds)
                Leave-one-subject-out folds: a list of {subject, train, test} (train and test are data sets);
                iterate with for _, fold in ipairs(data.loso(ds)) or for fold in data.loso(ds).
                """) { call in
                let ds = try call.dataset(1)
                return try call.pushFolds(loso(ds), of: ds)
            },
            .function("kfold", arity: 3, """
                data.kfold(ds, k [, {seed=0}])
                k folds grouped by subject (no subject on both sides).
                """) { call in
                let ds = try call.dataset(1)
                let k = try call.positiveInteger(2)
                return try call.pushFolds(try kfold(ds, k: k, seed: try call.option(3, "seed", Read.seed) ?? 0), of: ds)
            },
            .function("validation_split", arity: 2, """
                data.validation_split(train [, {fraction=0.2 | subjects=n, seed=0}])
                Carves whole subjects out of a training set for honest early stopping; returns train, validation.
                """) { call in
                let ds = try call.dataset(1)
                let o = try call.options(2, SplitOptions.declared, SplitOptions())
                let size: ValidationSize = o.subjects.map { .subjects($0) } ?? .fraction(o.fraction)
                let (train, val) = try validationSplit(ds, train: Array(0..<ds.count), size: size, seed: o.seed)
                return call.pushDataset(try ds.subset(train)) + call.pushDataset(try ds.subset(val))
            },
        ])
    }

    func datasetMethods() -> [Method<DatasetBox>] {
        [
            Method("classes", arity: 0, "ds:classes()\nThe class names, in label order (label k is classes()[k]).") { call, box in
                call.pushStrings(box.dataset.classNames)
            },
            Method("subjects", arity: 0, "ds:subjects()\nThe subjects, in natural order (sub2 before sub10).") { call, box in
                call.pushStrings(box.dataset.subjects)
            },
            Method("counts", arity: 0, "ds:counts()\nThe class distribution per subject, as a printed table (also returned as a string).") { call, box in
                let text = box.dataset.counts()
                print(text)
                return call.push(text)
            },
            Method("labels", arity: 0, "ds:labels()\nEvery sample's label (1..C) as a table, without decoding images.") { call, box in
                call.pushIntegers((0..<box.dataset.count).map { box.dataset.label(at: $0) + 1 })
            },
            Method("warnings", arity: 0, "ds:warnings()\nThe warnings raised while reading the coding sheet (one per affected sample).") { call, box in
                call.pushStrings((box.dataset as? MicroExpressionDataset)?.warnings ?? [])
            },
            Method("filter", arity: 1, """
                ds:filter(fn)
                The samples for which fn(info) is true; info = {index, y, subject, id} (no image is decoded).
                """) { call, box in
                let ds = box.dataset
                try call.function(2)
                let keep = try ds.filter { i in
                    lua_pushvalue(call.L, 2)
                    call.pushRecord([("index", { call.push(i + 1) }), ("y", { call.push(ds.label(at: i) + 1) }),
                                     ("subject", { call.push(ds.subject(at: i)) }), ("id", { call.push(ds.id(at: i)) })])
                    if mer_pcall(call.L, 1, 1, 0) != LUA_OK { throw LuaError(propagatingValueOnStack: "filter") }
                    defer { mer_pop(call.L, 1) }
                    return lua_toboolean(call.L, -1) != 0
                }
                return call.pushDataset(keep)
            },
            Method("map", arity: 1, """
                ds:map(fn)
                A lazy view whose samples are fn(sample) (sample = {x, y, subject, id}); fn runs in Lua when a
                sample is fetched (ds[i] or a loader), and must return the sample table (its x may be replaced).
                """) { call, box in
                try call.function(2)
                lua_pushvalue(call.L, 2)
                let holder = LuaFunctionRef(vm: call.vm, ref: luaL_ref(call.L, mer_registryindex()))
                return call.pushDataset(MappedDataset(box.dataset) { sample in try holder.apply(sample) })
            },
        ]
    }
}

extension LuaCall {
    func dataset(_ i: Int32) throws -> Dataset { (try arg(i) as DatasetBox).dataset }

    @discardableResult func pushDataset(_ d: Dataset) -> Int32 { push(DatasetBox(d)) }

    /// {x, y (1-based), subject, id [, index]}
    @discardableResult func pushSample(_ s: Sample, index: Int?) throws -> Int32 {
        lua_createtable(L, 0, 5)
        push(s.x); lua_setfield(L, -2, "x")
        push(s.label + 1); lua_setfield(L, -2, "y")
        push(s.subject); lua_setfield(L, -2, "subject")
        push(s.id); lua_setfield(L, -2, "id")
        if let i = index { push(i + 1); lua_setfield(L, -2, "index") }
        return 1
    }

    func pushBatch(_ b: Batch) throws -> Int32 {
        lua_createtable(L, 0, 5)
        push(b.x); lua_setfield(L, -2, "x")
        push(try Tensor.from(b.y.map { Float($0 + 1) })); lua_setfield(L, -2, "y")
        pushStrings(b.ids); lua_setfield(L, -2, "ids")
        pushStrings(b.subjects); lua_setfield(L, -2, "subjects")
        pushIntegers(b.indices.map { $0 + 1 }); lua_setfield(L, -2, "index")
        return 1
    }

    /// A list of fold tables that a generic `for` can also call directly.
    func pushFolds(_ folds: [Fold], of ds: Dataset) throws -> Int32 {
        lua_createtable(L, Int32(folds.count), 0)
        for (k, f) in folds.enumerated() {
            lua_createtable(L, 0, 5)
            push(f.subject); lua_setfield(L, -2, "subject")
            pushStrings(f.testSubjects); lua_setfield(L, -2, "test_subjects")
            pushDataset(try ds.subset(f.train)); lua_setfield(L, -2, "train")
            pushDataset(try ds.subset(f.test)); lua_setfield(L, -2, "test")
            push(k + 1); lua_setfield(L, -2, "index")
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        // for fold in data.loso(ds): __call(list, _, previous) returns the next fold.
        let code = "local list, _, prev = ...; return list[prev and prev.index + 1 or 1]"
        lua_createtable(L, 0, 1)
        _ = code.withCString { mer_loadbuffer(L, $0, strlen($0), "=data.folds") }
        lua_setfield(L, -2, "__call")
        lua_setmetatable(L, -2)
        return 1
    }

    /// The folder and options shared by data.casme2 and data.samm.
    func meOptions(_ i: Int32) throws -> (String, MEOptions) {
        if isNil(i) { throw error(i, "expected an options table with root") }
        let o = try options(i, MEBindingOptions.declared, MEBindingOptions())
        guard let root = o.root else { throw error(i, "option 'root' is required (the data set's folder)") }
        return (root, o.me)
    }

    /// `crop`: "face", "none", a box {x, y, w, h} (1-based) or a centred {h, w}.
    func cropMode(_ j: Int32) throws -> CropMode {
        if isTable(j) {
            let box = try integerList(j, what: "{x, y, w, h} (1-based) or {h, w} (centred)", allowVarargs: false, minimum: 1)
            if box.count == 2 { return .center(height: box[0], width: box[1]) }
            guard box.count == 4 else { throw error(j, "expected {x, y, w, h} (a box) or {h, w} (a centred crop)") }
            return .box(x: box[0] - 1, y: box[1] - 1, width: box[2], height: box[3])
        }
        switch try string(j) {
        case "face": return .face
        case "none": return .none
        case let other: throw error(j, "expected \"face\", \"none\", {x, y, w, h} or {h, w}, got \"\(other)\"")
        }
    }
}
