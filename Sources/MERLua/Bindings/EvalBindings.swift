import CLua
import CLuaBridge
import Foundation
import MERKernels
import MERNN
import MEREval
import MERTensor

/// A run directory handed to Lua.
final class RunBox {
    let run: RunDirectory
    init(_ r: RunDirectory) { run = r }
}

/// A progress bar handed to Lua, with the file it writes to when not stdout.
final class ProgressBox {
    var progress: MEREval.Progress!
    var file: UnsafeMutablePointer<FILE>?
    deinit { if let f = file { fclose(f) } }
}

/// The `eval` global: metrics (labels 1..C), run directories with logs, plots and an HTML
/// report, and progress bars. Conventions of the metrics: MEREval's `Metrics`.
extension LuaVM {
    func installEvalModule() {
        defineType("run", methods: {
            self.setFunction("log", "eval.run.log", doc: """
                run:log{epoch=..., fold=..., loss=..., acc=...}
                Appends one row to log.csv (numbers or strings). Columns: the first row's keys, fold and epoch
                first; a later row with new keys widens the header (the file is rewritten).
                """, method: true) { call in
                try call.expectAtMost(2)
                let box = try call.runBox(1)
                try box.run.log(try call.logRow(2))
                return 0
            }
            self.setFunction("checkpoint", "eval.run.checkpoint", doc: """
                run:checkpoint(model [, opt] [, {name="checkpoint"}])
                Writes the model's state dict and the optimiser's state (moments, steps, lr) to
                <run dir>/<name>.safetensors, atomically; model:load(path) and opt:load(path) read it back.
                Returns the path.
                """, method: true) { call in
                try call.expectAtMost(4)
                let box = try call.runBox(1)
                let model = try call.module(2)
                var optimizer: Optimizer?
                var optionsIndex: Int32 = 3
                if !call.isNil(3) && !call.isTable(3) { optimizer = try call.optimizer(3); optionsIndex = 4 }
                let o = try call.options(optionsIndex, allowed: ["name"])
                let name = try o?.string("name") ?? "checkpoint"
                guard !name.isEmpty, !name.contains("/") else { throw call.error(optionsIndex, "option 'name': expected a file name without '/', got \"\(name)\"") }
                let path = box.run.path + "/" + name + ".safetensors"
                try Checkpoint.save(path: path, model: model, optimizer: optimizer)
                call.push(path)
                return 1
            }
            self.setFunction("fold_result", "eval.run.fold_result", doc: """
                run:fold_result{subject, pred, target}
                Records one fold's test predictions (tables or tensors of labels 1..C; pred may be (N, C) scores).
                """, method: true) { call in
                try call.expectAtMost(2)
                let box = try call.runBox(1)
                guard let o = try call.options(2, allowed: ["subject", "pred", "target"]) else {
                    throw call.error(2, "expected a table {subject, pred, target}")
                }
                guard let subject = try o.value("subject", { i -> String in
                    if call.isNumber(i) { return formatNumber(try call.number(i)) }
                    return try call.string(i)
                }) else { throw call.error(2, "option 'subject' is missing (the test subject of this fold)") }
                guard let pred = try o.value("pred", { try call.classLabels($0) }) else { throw call.error(2, "option 'pred' is missing") }
                guard let target = try o.value("target", { try call.classLabels($0) }) else { throw call.error(2, "option 'target' is missing") }
                guard pred.count == target.count else {
                    throw call.error(2, "pred has \(pred.count) labels but target has \(target.count) (subject \(subject))")
                }
                try box.run.addFold(FoldResult(subject: subject, pred: pred, target: target))
                return 0
            }
            self.setFunction("finish", "eval.run.finish", doc: """
                run:finish{classes = {"negative", "positive", ...}}
                Scores the collected folds (pooled over folds, and the per-fold mean) and writes metrics.json,
                curves.png, confusion.png and report.html; returns the metrics table
                {accuracy, uf1, uar, n, confusion, per_class, per_fold = {accuracy, uf1, uar, folds}, dir}.
                """, method: true) { call in
                try call.expectAtMost(2)
                let box = try call.runBox(1)
                let o = try call.options(2, allowed: ["classes"])
                let classes = try o?.value("classes", { try call.stringList($0, what: "a table of class names") }) ?? []
                let result = try box.run.finish(classes: classes)
                call.pushRunResult(result, dir: box.run.path)
                return 1
            }
        }, field: { call in
            let box = try call.runBox(1)
            switch lua_type(call.L, 2) == LUA_TSTRING ? String(cString: mer_tostring(call.L, 2, nil)) : "" {
            case "dir": call.push(box.run.path)
            case "name": call.push(box.run.name)
            default: call.pushNil()
            }
            return 1
        })
        setFunction("__tostring", "eval.run.__tostring") { call in
            let box = try call.runBox(1)
            call.push("run \(box.run.name) in \(box.run.path) (\(box.run.rows.count) log rows, \(box.run.folds.count) folds)")
            return 1
        }
        mer_pop(L, 1)

        defineType("progress", methods: {
            self.setFunction("update", "eval.progress.update", doc: """
                p:update(k [, {epoch=..., loss=..., ...}])
                Step k of n reached; the fields are shown after the bar (fold, epoch, batch, loss, acc first).
                """, method: true) { call in
                try call.expectAtMost(3)
                let box = try call.progressBox(1)
                let k = try call.integer(2)
                box.progress.update(k, fields: try call.progressFields(3))
                return 0
            }
            self.setFunction("done", "eval.progress.done", doc: "p:done()\nPrints the final line (elapsed time, rate).", method: true) { call in
                try call.expectAtMost(1)
                let box = try call.progressBox(1)
                box.progress.done()
                if let f = box.file { fflush(f) }
                return 0
            }
        }, field: { call in
            let box = try call.progressBox(1)
            switch lua_type(call.L, 2) == LUA_TSTRING ? String(cString: mer_tostring(call.L, 2, nil)) : "" {
            case "total": call.push(box.progress.total)
            case "current": call.push(box.progress.current)
            default: call.pushNil()
            }
            return 1
        })
        mer_pop(L, 1)

        lua_createtable(L, 0, 8)
        setFunction("metrics", "eval.metrics", doc: """
            eval.metrics(pred, target [, nclasses])
            Accuracy, UF1, UAR and the confusion matrix of labels 1..C (tables or tensors; pred may be (N, C)
            scores, taken by argmax). nclasses defaults to the largest label seen.
            Returns {accuracy, uf1, uar, n, confusion (rows = true class), per_class = {{precision, recall, f1, support}, ...}}.
            UF1 skips classes absent from both pred and target; UAR averages recall over classes present in target.
            """) { call in
            try call.expectAtMost(3)
            let pred = try call.classLabels(1)
            let target = try call.classLabels(2)
            let c = try call.classCount(3, labels: pred + target)
            call.pushMetrics(try Metrics.compute(pred: pred, target: target, classes: c), classes: nil)
            return 1
        }
        setFunction("pooled", "eval.pooled", doc: """
            eval.pooled({{pred, target}, ...} [, nclasses])
            The protocol's figures: every fold's predictions concatenated, then scored once (as eval.metrics),
            plus per_fold = {accuracy, uf1, uar} (the unweighted mean of each fold's own figures).
            """) { call in
            try call.expectAtMost(2)
            guard call.isTable(1) else { throw call.error(1, "expected a list of {pred, target} tables, got \(call.typeName(1))") }
            let n = Int(lua_rawlen(call.L, 1))
            var folds: [(pred: [Int], target: [Int])] = []
            for k in 0..<n {
                lua_rawgeti(call.L, 1, lua_Integer(k + 1))
                defer { mer_pop(call.L, 1) }
                let t = lua_gettop(call.L)
                guard call.isTable(t) else { throw call.error(1, "element \(k + 1) is \(call.typeName(t)), expected a table {pred, target}") }
                func part(_ name: String, _ pos: lua_Integer) throws -> [Int] {
                    lua_pushstring(call.L, name)
                    lua_rawget(call.L, t)
                    if lua_type(call.L, -1) == LUA_TNIL { mer_pop(call.L, 1); lua_rawgeti(call.L, t, pos) }
                    defer { mer_pop(call.L, 1) }
                    do { return try call.classLabels(lua_gettop(call.L)) } catch let e as LuaError {
                        throw call.error(1, "element \(k + 1): \(name): " + e.message.components(separatedBy: ": ").dropFirst(2).joined(separator: ": "))
                    }
                }
                folds.append((try part("pred", 1), try part("target", 2)))
            }
            let c = try call.classCount(2, labels: folds.flatMap { $0.pred + $0.target })
            call.pushMetrics(try Metrics.pooled(folds: folds, classes: c), classes: nil)
            let mean = try Metrics.perFoldMean(folds: folds, classes: c)
            call.pushFoldMean(mean, subjects: nil)
            lua_setfield(call.L, -2, "per_fold")
            return 1
        }
        setFunction("run", "eval.run", doc: """
            eval.run{name, dir="runs", seed, config = {key = value, ...}} or eval.run{resume = dir}
            Opens <dir>/<name>-<yyyyMMdd-HHmmss>/ with recipe.lua (a copy of the running script, arg[0]),
            config.json (arguments, seed, threads, config, versions, CPU) and log.csv. A seed also reseeds the
            generator (as mer.seed). Returns a run: run.dir, run:log{...}, run:fold_result{...}, run:finish{...}.
            """) { call in
            try call.expectAtMost(1)
            guard let o = try call.options(1, allowed: ["name", "dir", "seed", "config", "resume"]) else {
                throw call.error(1, "expected a table {name, dir, seed, config}")
            }
            // resume = an existing run directory: reopen it (config and log kept) instead of creating one.
            // A resume directory without config.json yet (the first of several --fold runs) is created there.
            let resume = try o.string("resume")
            if let existing = resume, FileManager.default.fileExists(atPath: existing + "/config.json") {
                if let s = try o.integer("seed") { Generator.seed(UInt64(max(0, s))) }
                call.vm.pushObject(RunBox(try RunDirectory.reopen(path: existing)), typeName: "run")
                return 1
            }
            guard let name = try o.string("name") ?? resume.map({ ($0 as NSString).lastPathComponent }) else {
                throw call.error(1, "option 'name' is missing (the run's name)")
            }
            let dir = try o.string("dir") ?? "runs"
            let seed = try o.integer("seed")
            if let s = seed, s < 0 { throw call.error(1, "option 'seed': expected a non-negative integer, got \(s)") }
            let config = try o.value("config", { try call.stringMap($0) }) ?? [:]
            if let s = seed { Generator.seed(UInt64(s)) }
            let (recipe, arguments) = call.scriptArguments()
            let run = try RunDirectory.create(name: name, parent: dir, recipe: recipe, arguments: arguments,
                                              seed: seed.map(UInt64.init), threads: Parallel.threads, config: config,
                                              version: LuaVM.version, exactPath: resume)
            call.vm.pushObject(RunBox(run), typeName: "run")
            return 1
        }
        setFunction("progress", "eval.progress", doc: """
            eval.progress(n, label [, {unit="it", interval=10, file}])
            A progress bar over n steps: p:update(k, {loss=...}), p:done(). On a terminal one line is redrawn
            (at most 10 times a second); otherwise (or with file=path, appended to) plain lines are printed at
            the first step, at each quarter and every `interval` seconds, and a final line on p:done().
            """) { call in
            try call.expectAtMost(3)
            let n = try call.integer(1)
            guard n >= 0 else { throw call.error(1, "expected a non-negative number of steps, got \(n)") }
            let label = call.isNil(2) ? "progress" : try call.string(2)
            let o = try call.options(3, allowed: ["unit", "interval", "file"])
            let box = ProgressBox()
            var write: ((String) -> Void)? = nil
            var terminal: Bool? = nil
            if let path = try o?.string("file") {
                guard let f = fopen(path, "a") else { throw call.error(3, "option 'file': cannot open \(path): \(String(cString: strerror(errno)))") }
                box.file = f
                write = { s in fputs(s, f) }
                terminal = isatty(fileno(f)) != 0
            }
            let interval = try o?.number("interval") ?? 10
            guard interval > 0 else { throw call.error(3, "option 'interval': expected a positive number of seconds, got \(interval)") }
            box.progress = MEREval.Progress(total: n, label: label, unit: try o?.string("unit") ?? "it", interval: interval,
                                    isTerminal: terminal, write: write)
            call.vm.pushObject(box, typeName: "progress")
            return 1
        }
        lua_setglobal(L, "eval")
    }
}

extension LuaCall {
    func runBox(_ i: Int32) throws -> RunBox {
        if let r = object(i, typeName: "run", as: RunBox.self) { return r }
        throw error(i, "expected a run (eval.run), got \(typeName(i))")
    }

    func progressBox(_ i: Int32) throws -> ProgressBox {
        if let p = object(i, typeName: "progress", as: ProgressBox.self) { return p }
        throw error(i, "expected a progress bar (eval.progress), got \(typeName(i))")
    }

    /// Class labels 1..C from a table or a tensor (an (N, C) tensor gives its argmax), 0-based.
    func classLabels(_ i: Int32) throws -> [Int] {
        if let t = object(i, typeName: "tensor", as: Tensor.self) {
            if t.rank == 2 {
                return try t.argmax(dim: 1).toArray().map { Int($0) }
            }
            guard t.rank <= 1 else { throw error(i, "expected labels (a 1-D tensor) or (N, C) scores, got a tensor of shape \(formatList(t.shape))") }
            return try t.toArray().enumerated().map { k, v in
                guard v == v.rounded(), v >= 1 else { throw error(i, "label \(k + 1) is \(formatNumber(Double(v))), expected an integer class 1..C") }
                return Int(v) - 1
            }
        }
        guard isTable(i) else { throw error(i, "expected class labels (a table or tensor of integers 1..C), got \(typeName(i))") }
        return try integerList(i, what: "a table of class labels 1..C", allowVarargs: false, minimum: 1).map { $0 - 1 }
    }

    /// The class count at `i`, or the largest label seen.
    func classCount(_ i: Int32, labels: [Int]) throws -> Int {
        if isNil(i) { return max(1, (labels.max() ?? 0) + 1) }
        let c = try integer(i)
        guard c >= 1 else { throw error(i, "expected a positive number of classes, got \(c)") }
        if let top = labels.max(), top >= c { throw error(i, "a label is \(top + 1) but nclasses is \(c)") }
        return c
    }

    func stringList(_ i: Int32, what: String) throws -> [String] {
        guard isTable(i) else { throw error(i, "expected \(what), got \(typeName(i))") }
        let n = Int(lua_rawlen(L, i))
        return try (0..<n).map { k in
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { mer_pop(L, 1) }
            guard lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER else {
                throw error(i, "expected \(what), got a table whose element \(k + 1) is \(typeName(lua_gettop(L)))")
            }
            return String(cString: mer_tostring(L, -1, nil))
        }
    }

    /// The string-keyed entries of the table at `i`: (key, value) with the value a number, string or boolean.
    func namedScalars(_ i: Int32, what: String) throws -> [(String, LogValue)] {
        guard isTable(i) else { throw error(i, "expected \(what), got \(typeName(i))") }
        let t = lua_absindex(L, i)
        var out: [(String, LogValue)] = []
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            defer { mer_pop(L, 1) }
            guard lua_type(L, -2) == LUA_TSTRING else { mer_pop(L, 2); throw error(i, "\(what): keys must be names ({loss=0.5})") }
            let key = String(cString: mer_tostring(L, -2, nil))
            switch lua_type(L, -1) {
            case LUA_TNUMBER: out.append((key, .number(lua_tonumberx(L, -1, nil))))
            case LUA_TSTRING: out.append((key, .text(String(cString: mer_tostring(L, -1, nil)))))
            case LUA_TBOOLEAN: out.append((key, .text(lua_toboolean(L, -1) != 0 ? "true" : "false")))
            default:
                let tn = typeName(lua_gettop(L))
                mer_pop(L, 2)
                throw error(i, "\(what): '\(key)' is \(tn), expected a number or a string")
            }
        }
        return out
    }

    func logRow(_ i: Int32) throws -> [String: LogValue] {
        let pairs = try namedScalars(i, what: "a table of values {epoch=1, loss=0.5}")
        guard !pairs.isEmpty else { throw error(i, "the row is empty") }
        return Dictionary(pairs, uniquingKeysWith: { a, _ in a })
    }

    func stringMap(_ i: Int32) throws -> [String: String] {
        Dictionary(try namedScalars(i, what: "a table {key = value}").map { ($0.0, $0.1.label) }, uniquingKeysWith: { a, _ in a })
    }

    /// Fields for a progress line: fold, epoch, batch, loss, acc first, the others sorted.
    func progressFields(_ i: Int32) throws -> [(String, String)] {
        if isNil(i) { return [] }
        let pairs = try namedScalars(i, what: "a table of fields {loss=0.5}")
        let front = ["fold", "epoch", "batch", "loss", "acc"]
        let sorted = pairs.sorted { a, b in
            let ia = front.firstIndex(of: a.0) ?? front.count, ib = front.firstIndex(of: b.0) ?? front.count
            return ia != ib ? ia < ib : a.0 < b.0
        }
        return sorted.map { k, v in
            if case .number(let x) = v, x != x.rounded() || abs(x) >= 1e15 { return (k, String(format: "%.4g", x)) }
            return (k, v.label)
        }
    }

    /// The running script (arg[0], else the outermost Lua chunk loaded from a file) and its
    /// arguments (arg[1..n]), read raw from the global `arg`.
    func scriptArguments() -> (recipe: String?, arguments: [String]) {
        var recipe: String?
        var arguments: [String] = []
        mer_pushglobaltable(L)
        lua_pushstring(L, "arg")
        lua_rawget(L, -2)
        if lua_type(L, -1) == LUA_TTABLE {
            lua_rawgeti(L, -1, 0)
            if lua_type(L, -1) == LUA_TSTRING { recipe = String(cString: mer_tostring(L, -1, nil)) }
            mer_pop(L, 1)
            let n = lua_rawlen(L, -1)
            if n > 0 {
                for k in 1...Int(n) {
                    lua_rawgeti(L, -1, lua_Integer(k))
                    if lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER { arguments.append(String(cString: mer_tostring(L, -1, nil))) }
                    mer_pop(L, 1)
                }
            }
        }
        mer_pop(L, 2)
        if recipe == nil {
            var ar = lua_Debug()
            var level: Int32 = 1
            while lua_getstack(L, level, &ar) != 0 {
                if lua_getinfo(L, "S", &ar) != 0, let src = ar.source {
                    let s = String(cString: src)
                    if s.hasPrefix("@") { recipe = String(s.dropFirst()) }
                }
                level += 1
            }
        }
        return (recipe, arguments)
    }

    func pushMetrics(_ m: Metrics, classes: [String]?) {
        lua_createtable(L, 0, 8)
        push(m.accuracy); lua_setfield(L, -2, "accuracy")
        push(m.uf1); lua_setfield(L, -2, "uf1")
        push(m.uar); lua_setfield(L, -2, "uar")
        push(m.count); lua_setfield(L, -2, "n")
        lua_createtable(L, Int32(m.classes), 0)
        for (r, row) in m.confusion.enumerated() {
            pushIntegers(row)
            lua_rawseti(L, -2, lua_Integer(r + 1))
        }
        lua_setfield(L, -2, "confusion")
        lua_createtable(L, Int32(m.classes), 0)
        for (k, c) in m.perClass.enumerated() {
            lua_createtable(L, 0, 5)
            push(c.precision); lua_setfield(L, -2, "precision")
            push(c.recall); lua_setfield(L, -2, "recall")
            push(c.f1); lua_setfield(L, -2, "f1")
            push(c.support); lua_setfield(L, -2, "support")
            if let names = classes, k < names.count { push(names[k]); lua_setfield(L, -2, "class") }
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        lua_setfield(L, -2, "per_class")
    }

    func pushFoldMean(_ f: FoldMean, subjects: [String]?) {
        lua_createtable(L, 0, 4)
        push(f.accuracy); lua_setfield(L, -2, "accuracy")
        push(f.uf1); lua_setfield(L, -2, "uf1")
        push(f.uar); lua_setfield(L, -2, "uar")
        lua_createtable(L, Int32(f.folds.count), 0)
        for (k, m) in f.folds.enumerated() {
            lua_createtable(L, 0, 5)
            if let s = subjects, k < s.count { push(s[k]); lua_setfield(L, -2, "subject") }
            push(m.count); lua_setfield(L, -2, "n")
            push(m.accuracy); lua_setfield(L, -2, "accuracy")
            push(m.uf1); lua_setfield(L, -2, "uf1")
            push(m.uar); lua_setfield(L, -2, "uar")
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        lua_setfield(L, -2, "folds")
    }

    func pushRunResult(_ r: RunResult, dir: String) {
        if let p = r.pooled { pushMetrics(p, classes: r.classes) } else { lua_createtable(L, 0, 4) }
        pushFoldMean(r.perFold, subjects: r.folds.map(\.subject))
        lua_setfield(L, -2, "per_fold")
        lua_createtable(L, Int32(r.classes.count), 0)
        for (k, c) in r.classes.enumerated() { push(c); lua_rawseti(L, -2, lua_Integer(k + 1)) }
        lua_setfield(L, -2, "classes")
        push(dir); lua_setfield(L, -2, "dir")
    }
}
