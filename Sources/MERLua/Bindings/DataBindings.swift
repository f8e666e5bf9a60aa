import CLua
import CLuaBridge
import Foundation
import MERData
import MERTensor

/// A data set handed to Lua (the protocol existential lives in a box).
final class DatasetBox {
    let dataset: Dataset
    init(_ d: Dataset) { dataset = d }
}

/// A loader and the epoch a `for` loop is walking.
final class LoaderBox {
    let loader: DataLoader
    var current: EpochIterator?
    init(_ l: DataLoader) { loader = l }
}

/// The `data` global: CASME II, SAMM and image-folder data sets, loaders, LOSO / k-fold
/// splits. Labels are 1..C in Lua (0..C−1 inside).
extension LuaVM {
    func installDataModule() {
        defineType("dataset", methods: { self.installDatasetMethods() }, field: { call in
            let ds = try call.dataset(1)
            guard lua_type(call.L, 2) == LUA_TNUMBER else { call.pushNil(); return 1 }
            let i = try call.index(2, size: ds.count, what: "sample index")
            try call.pushSample(try ds.sample(at: i), index: i)
            return 1
        })
        setFunction("__len", "data.dataset.__len") { call in call.push(try call.dataset(1).count); return 1 }
        setFunction("__tostring", "data.dataset.__tostring") { call in
            let ds = try call.dataset(1)
            call.push("dataset of \(ds.count) samples, \(ds.subjects.count) subjects, classes \(ds.classNames.joined(separator: ", "))")
            return 1
        }
        mer_pop(L, 1)

        defineType("loader", methods: {
            self.setFunction("epoch", "data.loader.epoch", doc: "loader:epoch([k])\nAn iterator over the batches of the next epoch (or epoch k, 1-based).", method: true) { call in
                let box = try call.loaderBox(1)
                let it = call.isNil(2) ? box.loader.epoch() : box.loader.epoch(try call.positiveInteger(2) - 1)
                let holder = LoaderBox(box.loader)
                holder.current = it
                call.vm.pushObject(holder, typeName: "loader")
                return 1
            }
            self.setFunction("skipped", "data.loader.skipped", doc: "loader:skipped()\nHow many bad samples were skipped (skip_bad=true).", method: true) { call in
                call.push(try call.loaderBox(1).loader.skipped)
                return 1
            }
        }, field: { call in call.pushNil(); return 1 })
        // `for batch in loader do`: a call with a nil control value starts a new epoch.
        setFunction("__call", "data.loader", method: true) { call in
            let box = try call.loaderBox(1)
            if call.isNil(3) || box.current == nil { box.current = box.current ?? box.loader.epoch() }
            guard let batch = try box.current!.next() else {
                box.current = nil
                call.pushNil()
                return 1
            }
            call.pushBatch(batch)
            return 1
        }
        setFunction("__len", "data.loader.__len") { call in call.push(try call.loaderBox(1).loader.batchCount); return 1 }
        mer_pop(L, 1)

        lua_createtable(L, 0, 16)
        let meOptions = ["root", "classes", "input", "size", "crop", "cache", "cache_file", "skip_bad", "sheet"]
        setFunction("casme2", "data.casme2", doc: """
            data.casme2{root, classes=5|3, input={"onset","apex"}, size=112, crop="face", cache=true,
                        cache_file=false, skip_bad=false, sheet}
            CASME II as distributed: reads CASME2-coding-*.xlsx (or a CSV export) and the frames under
            CASME2_RAW_selected/ or Cropped/. crop: "face" (the cropped release), "none", a box {x, y, w, h}
            (1-based) or a centred {h, w}.
            See Datasets/README.md for the label maps and the rules for the sheet's quirks.
            """) { call in
            try call.expectAtMost(1)
            let (root, o) = try call.meOptions(1, allowed: meOptions)
            call.pushDataset(try CASME2Dataset(root: root, options: o))
            return 1
        }
        setFunction("samm", "data.samm", doc: """
            data.samm{root, classes=5|3, input, size, crop, cache, cache_file, skip_bad, sheet}
            SAMM as distributed: its FACS-codes xlsx and frames SAMM/NNN/NNN_x_y/NNN_xxxxx.jpg.
            """) { call in
            try call.expectAtMost(1)
            let (root, o) = try call.meOptions(1, allowed: meOptions)
            call.pushDataset(try SAMMDataset(root: root, options: o))
            return 1
        }
        setFunction("imagefolder", "data.imagefolder", doc: """
            data.imagefolder(root [, {size=112, gray=false}])
            Class sub-folders of PNG/JPEG files; classes sorted by name as torchvision's ImageFolder.
            """) { call in
            try call.expectAtMost(2)
            let root = try call.string(1)
            let o = try call.options(2, allowed: ["size", "gray"])
            call.pushDataset(try ImageFolderDataset(root: root, size: try o?.value("size") { try call.positiveInteger($0) } ?? 112,
                                                    gray: try o?.boolean("gray") ?? false))
            return 1
        }
        setFunction("loader", "data.loader", doc: """
            data.loader(ds [, {batch=32, shuffle=true, seed=0, drop_last=false, skip_bad=false, prefetch=2}])
            Batches {x = (N, C, H, W) tensor, y = labels 1..C, ids, subjects} with seeded shuffling (epoch k
            uses seed + k) and background prefetch. Iterate with: for batch in loader do ... end
            """) { call in
            try call.expectAtMost(2)
            let ds = try call.dataset(1)
            let o = try call.options(2, allowed: ["batch", "shuffle", "seed", "drop_last", "skip_bad", "prefetch"])
            let seed = try o?.integer("seed") ?? 0
            guard seed >= 0 else { throw call.error(2, "option 'seed': expected a non-negative integer, got \(seed)") }
            let loader = try DataLoader(dataset: ds, batchSize: try o?.value("batch") { try call.positiveInteger($0) } ?? 32,
                                        shuffle: try o?.boolean("shuffle") ?? true, seed: UInt64(seed),
                                        dropLast: try o?.boolean("drop_last") ?? false, skipBad: try o?.boolean("skip_bad") ?? false,
                                        prefetch: try o?.integer("prefetch") ?? 2)
            call.vm.pushObject(LoaderBox(loader), typeName: "loader")
            return 1
        }
        setFunction("loso", "data.loso", doc: """
            data.loso(ds)
            Leave-one-subject-out folds: a list of {subject, train, test} (train and test are data sets);
            iterate with for _, fold in ipairs(data.loso(ds)) or for fold in data.loso(ds).
            """) { call in
            try call.expectAtMost(1)
            let ds = try call.dataset(1)
            try call.pushFolds(loso(ds), of: ds)
            return 1
        }
        setFunction("kfold", "data.kfold", doc: """
            data.kfold(ds, k [, {seed=0}])
            k folds grouped by subject (no subject on both sides).
            """) { call in
            try call.expectAtMost(3)
            let ds = try call.dataset(1)
            let k = try call.positiveInteger(2)
            let o = try call.options(3, allowed: ["seed"])
            try call.pushFolds(try kfold(ds, k: k, seed: UInt64(max(0, try o?.integer("seed") ?? 0))), of: ds)
            return 1
        }
        setFunction("validation_split", "data.validation_split", doc: """
            data.validation_split(train [, {fraction=0.2 | subjects=n, seed=0}])
            Carves whole subjects out of a training set for honest early stopping; returns train, validation.
            """) { call in
            try call.expectAtMost(2)
            let ds = try call.dataset(1)
            let o = try call.options(2, allowed: ["fraction", "subjects", "seed"])
            let size: ValidationSize
            if let n = try o?.value("subjects", { try call.positiveInteger($0) }) { size = .subjects(n) }
            else { size = .fraction(try o?.number("fraction") ?? 0.2) }
            let (train, val) = try validationSplit(ds, train: Array(0..<ds.count), size: size, seed: UInt64(max(0, try o?.integer("seed") ?? 0)))
            call.pushDataset(try ds.subset(train))
            call.pushDataset(try ds.subset(val))
            return 2
        }
        lua_setglobal(L, "data")
    }

    func installDatasetMethods() {
        func method(_ key: String, _ doc: String, _ body: @escaping (LuaCall, Dataset) throws -> Int32) {
            setFunction(key, "data.dataset.\(key)", doc: doc, method: true) { call in try body(call, try call.dataset(1)) }
        }
        method("classes", "ds:classes()\nThe class names, in label order (label k is classes()[k]).") { call, ds in
            call.pushStrings(ds.classNames); return 1
        }
        method("subjects", "ds:subjects()\nThe subjects, in natural order (sub2 before sub10).") { call, ds in
            call.pushStrings(ds.subjects); return 1
        }
        method("counts", "ds:counts()\nThe class distribution per subject, as a printed table (also returned as a string).") { call, ds in
            let text = ds.counts()
            print(text)
            call.push(text)
            return 1
        }
        method("labels", "ds:labels()\nEvery sample's label (1..C) as a table, without decoding images.") { call, ds in
            call.pushIntegers((0..<ds.count).map { ds.label(at: $0) + 1 }); return 1
        }
        method("warnings", "ds:warnings()\nThe warnings raised while reading the coding sheet (one per affected sample).") { call, ds in
            call.pushStrings((ds as? MicroExpressionDataset)?.warnings ?? []); return 1
        }
        method("filter", """
            ds:filter(fn)
            The samples for which fn(info) is true; info = {index, y, subject, id} (no image is decoded).
            """) { call, ds in
            try call.function(2)
            let keep = try ds.filter { i in
                lua_pushvalue(call.L, 2)
                lua_createtable(call.L, 0, 4)
                call.push(i + 1); lua_setfield(call.L, -2, "index")
                call.push(ds.label(at: i) + 1); lua_setfield(call.L, -2, "y")
                call.push(ds.subject(at: i)); lua_setfield(call.L, -2, "subject")
                call.push(ds.id(at: i)); lua_setfield(call.L, -2, "id")
                if mer_pcall(call.L, 1, 1, 0) != LUA_OK { throw LuaError(propagatingValueOnStack: "filter") }
                defer { mer_pop(call.L, 1) }
                return lua_toboolean(call.L, -1) != 0
            }
            call.pushDataset(keep)
            return 1
        }
        method("map", """
            ds:map(fn)
            A lazy view whose samples are fn(sample) (sample = {x, y, subject, id}); fn runs in Lua when a
            sample is fetched (ds[i] or a loader), and must return the sample table (its x may be replaced).
            """) { call, ds in
            try call.function(2)
            lua_pushvalue(call.L, 2)
            let ref = luaL_ref(call.L, mer_registryindex())
            let vm = call.vm
            let holder = LuaFunctionRef(vm: vm, ref: ref)
            let mapped = MappedDataset(ds) { sample in try holder.apply(sample) }
            call.pushDataset(mapped)
            return 1
        }
    }
}

/// A Lua function kept in the registry for as long as a mapped data set lives.
final class LuaFunctionRef {
    weak var vm: LuaVM?
    let ref: Int32
    init(vm: LuaVM, ref: Int32) { self.vm = vm; self.ref = ref }
    deinit { if let vm = vm { luaL_unref(vm.L, mer_registryindex(), ref) } }

    /// Calls the function with a sample table on the running Lua thread and reads back the
    /// sample it returns. Must be called on the thread that owns the Lua state.
    func apply(_ sample: Sample) throws -> Sample {
        guard let vm = vm else { throw LuaError("data.map: the Lua state is gone") }
        let L = vm.activeState
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_rawgeti(L, mer_registryindex(), lua_Integer(ref))
        let call = LuaCall(L: L, vm: vm, name: "data.map", isMethod: false)
        try call.pushSample(sample, index: nil)
        if mer_pcall_traceback(L, 1, 1) != LUA_OK {
            throw LuaError("data.map: the mapping function failed: \(vm.popMessage())")
        }
        guard lua_type(L, -1) == LUA_TTABLE else {
            throw LuaError("data.map: the mapping function must return the sample table, got \(call.typeName(-1))")
        }
        let t = lua_gettop(L)
        lua_getfield(L, t, "x")
        guard let x = call.object(-1, typeName: "tensor", as: Tensor.self) else {
            throw LuaError("data.map: the returned sample's x must be a tensor, got \(call.typeName(-1))")
        }
        var out = sample
        out.x = x
        return out
    }
}

extension LuaCall {
    func dataset(_ i: Int32) throws -> Dataset {
        if let b = object(i, typeName: "dataset", as: DatasetBox.self) { return b.dataset }
        throw error(i, "expected a data set, got \(typeName(i))")
    }

    func loaderBox(_ i: Int32) throws -> LoaderBox {
        if let b = object(i, typeName: "loader", as: LoaderBox.self) { return b }
        throw error(i, "expected a loader, got \(typeName(i))")
    }

    func pushDataset(_ d: Dataset) { vm.pushObject(DatasetBox(d), typeName: "dataset") }

    /// {x, y (1-based), subject, id [, index]}
    func pushSample(_ s: Sample, index: Int?) throws {
        lua_createtable(L, 0, 5)
        push(s.x); lua_setfield(L, -2, "x")
        push(s.label + 1); lua_setfield(L, -2, "y")
        push(s.subject); lua_setfield(L, -2, "subject")
        push(s.id); lua_setfield(L, -2, "id")
        if let i = index { push(i + 1); lua_setfield(L, -2, "index") }
    }

    func pushBatch(_ b: Batch) {
        lua_createtable(L, 0, 5)
        push(b.x); lua_setfield(L, -2, "x")
        push(Tensor.from(b.y.map { Float($0 + 1) })); lua_setfield(L, -2, "y")
        pushStrings(b.ids); lua_setfield(L, -2, "ids")
        pushStrings(b.subjects); lua_setfield(L, -2, "subjects")
        pushIntegers(b.indices.map { $0 + 1 }); lua_setfield(L, -2, "index")
    }

    /// A list of fold tables that a generic `for` can also call directly.
    func pushFolds(_ folds: [Fold], of ds: Dataset) throws {
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
    }

    /// The options shared by data.casme2 and data.samm.
    func meOptions(_ i: Int32, allowed: [String]) throws -> (String, MEOptions) {
        guard let o = try options(i, allowed: allowed) else { throw error(i, "expected an options table with root") }
        guard let root = try o.string("root") else { throw error(i, "option 'root' is required (the data set's folder)") }
        var me = MEOptions()
        if let c = try o.integer("classes") {
            guard c == 5 || c == 3 else { throw error(i, "option 'classes': expected 5 or 3, got \(c)") }
            me.classes = c
        }
        if let input = try o.value("input", { j -> [String] in
            guard isTable(j) else { throw error(j, "expected a table of input kinds") }
            return try (1...max(1, Int(lua_rawlen(L, j)))).compactMap { k -> String? in
                lua_rawgeti(L, j, lua_Integer(k)); defer { mer_pop(L, 1) }
                return lua_type(L, -1) == LUA_TNIL ? nil : try string(lua_gettop(L))
            }
        }) { me.input = input }
        if let s = try o.value("size", { try positiveInteger($0) }) { me.size = s }
        if let c = try o.value("crop", { j -> CropMode in
            if lua_type(L, j) == LUA_TTABLE {
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
        }) { me.crop = c }
        if let b = try o.boolean("cache") { me.cache = b }
        if let b = try o.boolean("cache_file") { me.cacheFile = b }
        if let b = try o.boolean("skip_bad") { me.skipBad = b }
        if let s = try o.string("sheet") { me.sheet = s }
        return (root, me)
    }
}
