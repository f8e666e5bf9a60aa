import MERKernels
import MERNN
import MERTensor
#if canImport(Glibc)
import Glibc
#endif

/// Whole-model timings of DBFEM (ARCHITECTURE.md, "Reference speed on this machine type"),
/// next to the PyTorch figures given there.
struct ModelConfig {
    var name: String
    var size: Int
    var options: DBFEMOptions
    var batch: Int
    /// ARCHITECTURE.md: train GFLOP per sample (forward + backward), PyTorch train
    /// ms/sample and 1-sample inference ms on this machine type, 2 threads.
    var documentedTrainGFLOP: Double
    var pytorchTrainMs: Double
    var pytorchInferMs: Double

    static let paper = ModelConfig(name: "paper", size: 112, options: .paper, batch: 16,
                                   documentedTrainGFLOP: 44.4, pytorchTrainMs: 170, pytorchInferMs: 50)
    static let quick = ModelConfig(name: "quick", size: 64, options: .quick, batch: 32,
                                   documentedTrainGFLOP: 4.2, pytorchTrainMs: 23, pytorchInferMs: 11)
    static let all = [quick, paper]

    var widthsText: String { (options.widths ?? [64, 160, 320, 640]).map(String.init).joined(separator: "-") }
}

struct ModelResult {
    var config: String
    var size, batch, params, threads: Int
    var widths: String
    var trainMsPerSample: Double
    var inferMs: Double
    var pytorchTrainMs, pytorchInferMs: Double
    /// Documented train FLOPs / our time.
    var trainGflops: Double
    /// Peak resident set after the training steps (the issue's memory target is training's).
    var trainRssMB: Double
    /// Peak resident set after the inferences too (prepared inference weights come on top).
    var peakRssMB: Double
    var trainRatio: Double { trainMsPerSample / pytorchTrainMs }
    var inferRatio: Double { inferMs / pytorchInferMs }
}

enum ModelBench {
    /// One training step: forward, a cross-entropy-shaped scalar loss, backward.
    static func trainStep(_ model: DBFEM, _ x: Tensor) throws {
        for p in model.parameters() { p.grad = nil }
        let logits = try model(x)
        try logits.logSoftmax(dim: 1).mean().backward()
    }

    static func input(_ c: ModelConfig, batch: Int) throws -> Tensor {
        try Tensor.randn([batch, c.options.inChannels, c.size, c.size], generator: Generator(seed: 42))
    }

    static func run(_ ctx: BenchContext) -> [ModelResult] {
        Parallel.threads = ctx.options.threads
        var out: [ModelResult] = []
        for c in ModelConfig.all where ctx.options.modelFilter.map({ c.name == $0 }) ?? true {
            do {
                resetPeakRSS()
                let model = try DBFEM(c.options, generator: Generator(seed: 1))
                let x = try input(c, batch: c.batch)
                let steps = ctx.options.quick ? 1 : (c.name == "paper" ? 3 : 5)
                try trainStep(model, x)  // warm-up: allocator, GEMM buffers
                var total = 0.0
                for _ in 0..<steps {
                    let t0 = PeakFLOPs.now()
                    try trainStep(model, x)
                    total += PeakFLOPs.now() - t0
                }
                let trainMs = total / Double(steps) / Double(c.batch) * 1e3
                let trainRss = peakRSSMegabytes()
                model.eval()
                let one = try input(c, batch: 1)
                var infer = Double.infinity
                try GradMode.disabled {
                    _ = try model(one)
                    for _ in 0..<(ctx.options.quick ? 2 : 5) {
                        let t0 = PeakFLOPs.now()
                        _ = try model(one)
                        infer = min(infer, PeakFLOPs.now() - t0)
                    }
                }
                out.append(ModelResult(config: c.name, size: c.size, batch: c.batch, params: model.parameterCount,
                                       threads: ctx.options.threads, widths: c.widthsText, trainMsPerSample: trainMs,
                                       inferMs: infer * 1e3, pytorchTrainMs: c.pytorchTrainMs, pytorchInferMs: c.pytorchInferMs,
                                       trainGflops: c.documentedTrainGFLOP / (trainMs / 1e3), trainRssMB: trainRss,
                                       peakRssMB: peakRSSMegabytes()))
            } catch {
                fputs("mer-bench: model \(c.name) failed: \(error)\n", stderr)
            }
        }
        return out
    }

    /// `--model-profile paper|quick|paper-infer|quick-infer [--profile-reps N]`: training
    /// steps (forward, loss, backward, Adam step) or 1-sample eval forwards in a steady loop
    /// (for `perf record` too), then a table of time per operation type and its share of the
    /// step (`OpProfile`), from a second, equally long loop with the profiler on.
    static func profile(_ o: BenchOptions, config spec: String) {
        Parallel.threads = o.threads
        let inferOnly = spec.hasSuffix("-infer")
        let name = inferOnly ? String(spec.dropLast(6)) : spec
        guard let c = ModelConfig.all.first(where: { $0.name == name }) else { BenchOptions.fail("--model-profile needs paper or quick") }
        do {
            let model = try DBFEM(c.options, generator: Generator(seed: 1))
            let step: () throws -> Void
            let what: String
            if inferOnly {
                model.eval()
                let x = try input(c, batch: 1)
                step = { try GradMode.disabled { _ = try model(x) } }
                what = "DBFEM \(name) 1-sample inference"
            } else {
                let x = try input(c, batch: c.batch)
                let opt = try Adam(model.parameters(), lr: 1e-4)
                step = {
                    try trainStep(model, x)
                    let t0 = PeakFLOPs.now()
                    try opt.step()
                    if OpProfile.isEnabled { OpProfile.charge("optimizer step (Adam)", seconds: PeakFLOPs.now() - t0); OpProfile.mark() }
                }
                what = "DBFEM \(name) training, batch \(c.batch)"
            }
            try step()
            let t0 = PeakFLOPs.now()
            for _ in 0..<o.profileReps { try step() }
            let ms = (PeakFLOPs.now() - t0) / Double(o.profileReps) * 1e3
            let perSample = inferOnly ? "" : String(format: ", %.2f ms/sample", ms / Double(c.batch))
            print("\(what), \(o.threads) threads: \(String(format: "%.1f", ms)) ms/step\(perSample) over \(o.profileReps) steps (storage pool: \(StoragePool.capacityBytes > 0 ? "on" : "off"))")

            OpProfile.start()
            let p0 = PeakFLOPs.now()
            for _ in 0..<o.profileReps { try step() }
            let profiledMs = (PeakFLOPs.now() - p0) / Double(o.profileReps) * 1e3
            let table = OpProfile.stop()
            printProfile(table, stepMs: profiledMs, steps: o.profileReps)
        } catch {
            BenchOptions.fail("model profile failed: \(error)")
        }
    }

    /// The profile as a table, largest first; "other" is the step's time no op was charged.
    static func printProfile(_ table: [String: OpProfile.Entry], stepMs: Double, steps: Int) {
        let rows = table.map { (name: $0.key, ms: $0.value.seconds * 1e3 / Double(steps), calls: Double($0.value.calls) / Double(steps)) }
            .sorted { $0.ms > $1.ms }
        let charged = rows.reduce(0) { $0 + $1.ms }
        print("profiled: \(String(format: "%.1f", stepMs)) ms/step (profiler on)")
        print("operation                                    calls/step    ms/step    share")
        for r in rows + [(name: "other (outside ops)", ms: max(0, stepMs - charged), calls: 0)] {
            let name = r.name.count > 44 ? String(r.name.prefix(44)) : r.name.padding(toLength: 44, withPad: " ", startingAt: 0)
            print(name + String(format: " %10.1f %10.2f %7.1f %%", r.calls, r.ms, 100 * r.ms / stepMs))
        }
    }

    /// VmHWM (peak resident set) of this process, in MB (1e6 bytes); NaN if unreadable.
    static func peakRSSMegabytes() -> Double {
        guard let f = fopen("/proc/self/status", "r") else { return .nan }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(cString: line)
            if s.hasPrefix("VmHWM:") {
                let kb = s.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first.flatMap { Double($0) } ?? .nan
                return kb * 1024 / 1e6
            }
        }
        return .nan
    }

    /// Writing 5 to /proc/self/clear_refs resets VmHWM (Linux ≥ 4.0), so each config's
    /// peak is its own rather than the largest so far.
    static func resetPeakRSS() {
        guard let f = fopen("/proc/self/clear_refs", "w") else { return }
        fputs("5", f)
        fclose(f)
    }
}
