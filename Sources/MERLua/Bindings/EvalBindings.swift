import CLua
import CLuaBridge
import Foundation
import MERKernels
import MERNN
import MEREval
import MERFiles
import MERTensor

/// A run directory handed to Lua.
final class RunBox: LuaObject {
    static let luaTypeName = "run"
    static let expected = "a run (eval.run)"
    let run: RunDirectory
    init(_ r: RunDirectory) { run = r }
}

/// A progress bar handed to Lua, with the file it writes to when not stdout.
final class ProgressBox: LuaObject {
    static let luaTypeName = "progress"
    static let expected = "a progress bar (eval.progress)"
    var progress: MEREval.Progress!
    var file: UnsafeMutablePointer<FILE>?
    deinit { if let f = file { fclose(f) } }
}

struct RunOptions {
    var name: String?, dir = "runs", seed: UInt64?, config: [(String, Scalar)] = [], resume: String?
    static let declared: [Option<RunOptions>] = [
        Option("name", \.name, Read.string), Option("dir", \.dir, Read.string), Option("seed", \.seed, Read.seed),
        Option("config", \.config, Reader { try $0.namedScalars($1, what: "a table {key = value}") }), Option("resume", \.resume, Read.string),
    ]
}

struct FoldOptions {
    var subject: String?, pred: [Int]?, target: [Int]?
    static let declared: [Option<FoldOptions>] = [
        Option("subject", \.subject, Reader { call, i in call.isNumber(i) ? formatNumber(try call.number(i)) : try call.string(i) }),
        Option("pred", \.pred, Reader { try $0.classLabels($1) }), Option("target", \.target, Reader { try $0.classLabels($1) }),
    ]
}

struct ProgressOptions {
    var unit = "it", interval = 10.0, file: String?
    static let declared: [Option<ProgressOptions>] = [
        Option("unit", \.unit, Read.string), Option("file", \.file, Read.string),
        Option("interval", \.interval, Read.number(in: 1e-9...Double.greatestFiniteMagnitude, "a positive number of seconds")),
    ]
}

/// The `eval` global: metrics (labels 1..C), run directories with logs, plots and an HTML
/// report, and progress bars. Conventions of the metrics: MEREval's `Metrics`.
extension LuaVM {
    func installEvalModule() {
        defineType(RunBox.self, prefix: "eval.run", methods: [
            Method("log", arity: 1, """
                run:log{epoch=..., fold=..., loss=..., acc=...}
                Appends one row to log.csv (numbers or strings). Columns: the first row's keys, fold and epoch
                first; a later row with new keys widens the header (the file is rewritten).
                """) { call, box in
                try box.run.log(try call.logRow(2))
                return 0
            },
            Method("checkpoint", arity: 3, """
                run:checkpoint(model [, opt] [, {name="checkpoint"}])
                Writes the model's state dict and the optimiser's state (moments, steps, lr) to
                <run dir>/<name>.safetensors, atomically; model:load(path) and opt:load(path) read it back.
                Returns the path.
                """) { call, box in
                let model = try call.module(2)
                let optimizer: Optimizer? = call.isNil(3) || call.isTable(3) ? nil : try call.arg(3)
                let optionsIndex: Int32 = optimizer == nil ? 3 : 4
                let name = try call.option(optionsIndex, "name", Read.string) ?? "checkpoint"
                guard !name.isEmpty, !name.contains("/") else {
                    throw call.error(optionsIndex, "expected a file name without '/', got \"\(name)\"").within(optionsIndex, "option 'name'")
                }
                let path = box.run.path + "/" + name + ".safetensors"
                try Checkpoint.save(path: path, model: model, optimizer: optimizer)
                return call.push(path)
            },
            Method("fold_result", arity: 1, """
                run:fold_result{subject, pred, target}
                Records one fold's test predictions (tables or tensors of labels 1..C; pred may be (N, C) scores).
                """) { call, box in
                guard !call.isNil(2) else { throw call.error(2, "expected a table {subject, pred, target}") }
                let o = try call.options(2, FoldOptions.declared, FoldOptions())
                guard let subject = o.subject else { throw call.error(2, "option 'subject' is missing (the test subject of this fold)") }
                guard let pred = o.pred else { throw call.error(2, "option 'pred' is missing") }
                guard let target = o.target else { throw call.error(2, "option 'target' is missing") }
                guard pred.count == target.count else {
                    throw call.error(2, "pred has \(pred.count) labels but target has \(target.count) (subject \(subject))")
                }
                try box.run.addFold(FoldResult(subject: subject, pred: pred, target: target))
                return 0
            },
            Method("finish", arity: 1, """
                run:finish{classes = {"negative", "positive", ...}}
                Scores the collected folds (pooled over folds, and the per-fold mean) and writes metrics.json,
                curves.png, confusion.png and report.html; returns the metrics table
                {accuracy, uf1, uar, n, confusion, per_class, per_fold = {accuracy, uf1, uar, folds}, dir}.
                """) { call, box in
                let classes = try call.option(2, "classes", Reader { try $0.stringList($1, what: "a table of class names") }) ?? []
                return call.pushRunResult(try box.run.finish(classes: classes), dir: box.run.path)
            },
        ], properties: [
            Property("dir", "run.dir\nThe run directory's path.", get: { call, box in call.push(box.run.path) }),
            Property("name", "run.name\nThe run's name.", get: { call, box in call.push(box.run.name) }),
            Property("config", """
                run.config
                The config the run was created with (config.json's "config"), key → value as text; for a
                resumed run, the stored one, so a recipe can refuse to continue with other settings.
                """, get: { call, box in
                let config = box.run.settings.filter { $0.0.hasPrefix("config.") }
                return call.pushRecord(config.map { key, text in (String(key.dropFirst(7)), { call.push(text) }) })
            }),
        ], meta: [
            .meta("__tostring") { call in
                let box: RunBox = try call.arg(1)
                return call.push("run \(box.run.name) in \(box.run.path) (\(box.run.rows.count) log rows, \(box.run.folds.count) folds)")
            },
        ])

        defineType(ProgressBox.self, prefix: "eval.progress", methods: [
            Method("update", arity: 2, """
                p:update(k [, {epoch=..., loss=..., ...}])
                Step k of n reached; the fields are shown after the bar (fold, epoch, batch, loss, acc first).
                """) { call, box in
                // Bounded so the bar's arithmetic (k * 4, k * 100) cannot overflow.
                box.progress.update(try call.integer(2, in: 0...(1 << 40), what: "a step number >= 0"), fields: try call.progressFields(3))
                return 0
            },
            Method("done", arity: 0, "p:done()\nPrints the final line (elapsed time, rate).") { _, box in
                box.progress.done()
                if let f = box.file { fflush(f) }
                return 0
            },
        ], properties: [
            Property("total", "p.total\nThe number of steps.", get: { call, box in call.push(box.progress.total) }),
            Property("current", "p.current\nThe last step reported.", get: { call, box in call.push(box.progress.current) }),
        ])

        defineModule("eval", [
            .function("metrics", arity: 3, """
                eval.metrics(pred, target [, nclasses])
                Accuracy, UF1, UAR and the confusion matrix of labels 1..C (tables or tensors; pred may be (N, C)
                scores, taken by argmax). nclasses defaults to the largest label seen.
                Returns {accuracy, uf1, uar, n, confusion (rows = true class), per_class = {{precision, recall, f1, support}, ...}}.
                UF1 skips classes absent from both pred and target; UAR averages recall over classes present in target.
                """) { call in
                let pred = try call.classLabels(1), target = try call.classLabels(2)
                let c = try call.classCount(3, labels: pred + target)
                return call.pushMetrics(try Metrics.compute(pred: pred, target: target, classes: c), classes: nil)
            },
            .function("pooled", arity: 2, """
                eval.pooled({{pred, target}, ...} [, nclasses])
                The protocol's figures: every fold's predictions concatenated, then scored once (as eval.metrics),
                plus per_fold = {accuracy, uf1, uar} (the unweighted mean of each fold's own figures).
                """) { call in
                guard call.isTable(1) else { throw call.error(1, "expected a list of {pred, target} tables, got \(call.typeName(1))") }
                let folds = try call.elements(1, count: Int(lua_rawlen(call.L, 1))) { t -> (pred: [Int], target: [Int]) in
                    guard call.isTable(t) else { throw call.error(t, "expected a table {pred, target}, got \(call.typeName(t))") }
                    func part(_ name: String, _ position: lua_Integer) throws -> [Int] {
                        // Raw: a metamethod on a script's table may raise, and no raise may cross Swift.
                        lua_pushstring(call.L, name)
                        if lua_rawget(call.L, t) == LUA_TNIL { mer_pop(call.L, 1); lua_rawgeti(call.L, t, position) }
                        defer { mer_pop(call.L, 1) }
                        do { return try call.classLabels(call.top) } catch let e as ArgumentError where e.argument == call.top {
                            throw e.within(t, name)
                        }
                    }
                    return (try part("pred", 1), try part("target", 2))
                }
                let c = try call.classCount(2, labels: folds.flatMap { $0.pred + $0.target })
                call.pushMetrics(try Metrics.pooled(folds: folds, classes: c), classes: nil)
                call.pushFoldMean(try Metrics.perFoldMean(folds: folds, classes: c), subjects: nil)
                lua_setfield(call.L, -2, "per_fold")
                return 1
            },
            .function("run", arity: 1, """
                eval.run{name, dir="runs", seed, config = {key = value, ...}} or eval.run{resume = dir}
                Opens <dir>/<name>-<yyyyMMdd-HHmmss>/ with recipe.lua (a copy of the running script, arg[0]),
                config.json (arguments, seed, threads, config, versions, CPU) and log.csv. A seed also reseeds the
                generator (as mer.seed). Returns a run: run.dir, run:log{...}, run:fold_result{...}, run:finish{...}.
                """) { call in
                guard !call.isNil(1) else { throw call.error(1, "expected a table {name, dir, seed, config}") }
                let o = try call.options(1, RunOptions.declared, RunOptions())
                if let s = o.seed { Generator.seed(s) }
                // resume = an existing run directory: reopen it (config and log kept) instead of creating one.
                // A resume directory without config.json yet (the first of several --fold runs) is created there.
                if let existing = o.resume, FileManager.default.fileExists(atPath: existing + "/config.json") {
                    return call.push(RunBox(try RunDirectory.reopen(path: existing)))
                }
                guard let name = o.name ?? o.resume.map({ ($0 as NSString).lastPathComponent }) else {
                    throw call.error(1, "option 'name' is missing (the run's name)")
                }
                let (recipe, arguments) = call.scriptArguments()
                let config = Dictionary(o.config.map { ($0.0, $0.1.json) }, uniquingKeysWith: { a, _ in a })
                return call.push(RunBox(try RunDirectory.create(name: name, parent: o.dir, recipe: recipe, arguments: arguments,
                                                                seed: o.seed, threads: Parallel.threads, config: config,
                                                                version: LuaVM.version, exactPath: o.resume)))
            },
            .function("progress", arity: 3, """
                eval.progress(n, label [, {unit="it", interval=10, file}])
                A progress bar over n steps: p:update(k, {loss=...}), p:done(). On a terminal one line is redrawn
                (at most 10 times a second); in a notebook one display is updated in place (at most twice a
                second); otherwise (or with file=path, appended to) plain lines are printed at the first step,
                at each quarter and every `interval` seconds, and a final line on p:done().
                """) { call in
                let n = try call.integer(1, in: 0...(1 << 40), what: "a non-negative number of steps")
                let label = call.isNil(2) ? "progress" : try call.string(2)
                let o = try call.options(3, ProgressOptions.declared, ProgressOptions())
                let box = ProgressBox()
                var write: ((String) -> Void)? = nil
                var terminal: Bool? = nil
                if let path = o.file {
                    // Through SafeFile: a symbolic link or a FIFO at `path` is refused, not followed or waited on.
                    let fd: Int32
                    do { fd = try SafeFile.openForAppending(path) } catch {
                        throw call.error(3, "\(error)").within(3, "option 'file'")
                    }
                    guard let f = fdopen(fd, "a") else {
                        close(fd)
                        throw call.error(3, "cannot open \(path): \(String(cString: strerror(errno)))").within(3, "option 'file'")
                    }
                    box.file = f
                    write = { s in fputs(s, f) }
                    terminal = isatty(fileno(f)) != 0
                }
                if o.file == nil, let sink = call.vm.displaySink {
                    box.progress = NotebookProgress.make(total: n, label: label, unit: o.unit, sink: sink)
                } else {
                    box.progress = MEREval.Progress(total: n, label: label, unit: o.unit, interval: o.interval, isTerminal: terminal, write: write)
                }
                return call.push(box)
            },
        ])
    }
}

extension LuaCall {
    func logRow(_ i: Int32) throws -> [String: LogValue] {
        let pairs = try namedScalars(i, what: "a table of values {epoch=1, loss=0.5}")
        guard !pairs.isEmpty else { throw error(i, "the row is empty") }
        return Dictionary(pairs.map { ($0.0, $0.1.logValue) }, uniquingKeysWith: { a, _ in a })
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
            return (k, v.logValue.label)
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

    /// {accuracy, uf1, uar, n, confusion (rows = true class), per_class = {{precision, recall, f1, support [, class]}, ...}}
    @discardableResult func pushMetrics(_ m: Metrics, classes: [String]?) -> Int32 {
        pushRecord([
            ("accuracy", { push(m.accuracy) }), ("uf1", { push(m.uf1) }), ("uar", { push(m.uar) }), ("n", { push(m.count) }),
            ("confusion", { pushList(m.confusion) { pushIntegers($0) } }),
            ("per_class", { pushList(Array(m.perClass.enumerated())) { e in
                let name = classes.flatMap { e.offset < $0.count ? $0[e.offset] : nil }
                pushRecord([("precision", { push(e.element.precision) }), ("recall", { push(e.element.recall) }),
                            ("f1", { push(e.element.f1) }), ("support", { push(e.element.support) })]
                           + (name.map { n in [("class", { push(n) })] } ?? []))
            } }),
        ])
    }

    /// {accuracy, uf1, uar, folds = {{[subject,] n, accuracy, uf1, uar}, ...}}: the unweighted mean over folds.
    @discardableResult func pushFoldMean(_ f: FoldMean, subjects: [String]?) -> Int32 {
        pushRecord([
            ("accuracy", { push(f.accuracy) }), ("uf1", { push(f.uf1) }), ("uar", { push(f.uar) }),
            ("folds", { pushList(Array(f.folds.enumerated())) { e in
                let subject = subjects.flatMap { e.offset < $0.count ? $0[e.offset] : nil }
                pushRecord([("n", { push(e.element.count) }), ("accuracy", { push(e.element.accuracy) }),
                            ("uf1", { push(e.element.uf1) }), ("uar", { push(e.element.uar) })]
                           + (subject.map { s in [("subject", { push(s) })] } ?? []))
            } }),
        ])
    }

    func pushRunResult(_ r: RunResult, dir: String) -> Int32 {
        if let p = r.pooled { pushMetrics(p, classes: r.classes) } else { lua_createtable(L, 0, 4) }
        for (key, value) in [("per_fold", { self.pushFoldMean(r.perFold, subjects: r.folds.map(\.subject)) }),
                             ("classes", { self.pushStrings(r.classes) }), ("dir", { self.push(dir) })] as [(String, () -> Int32)] {
            _ = value()
            lua_setfield(L, -2, key)
        }
        return 1
    }
}

/// Log rows and run configs keep a Lua value's kind: integers, numbers, strings, booleans.
extension Scalar {
    var logValue: LogValue {
        switch self {
        case .integer(let n): return .number(Double(n))
        case .number(let x): return .number(x)
        case .string(let s): return .text(s)
        case .boolean(let b): return .text(b ? "true" : "false")
        }
    }

    var json: JSONValue {
        switch self {
        case .integer(let n): return .int(n)
        case .number(let x): return x.isFinite ? .exactNumber(x) : .string(String(x))
        case .string(let s): return .string(s)
        case .boolean(let b): return .bool(b)
        }
    }
}
