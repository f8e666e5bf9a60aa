import MERKernels
import MERNN
import MERTensor
#if canImport(Glibc)
import Glibc
#endif

/// Command line: `mer-bench [--json] [--quick] [--threads N] [--kc N] [--mc N] [--nc N] [--sizes a,b,..]`
///                [--no-conv] [--conv S] [--profile fwd|data|weight] [--profile-reps N]
///
/// --json     print exactly one JSON object (see Report.swift)
/// --quick    fewer repetitions and a shorter peak measurement (smoke runs, CI)
/// --threads  the "all threads" count (default: Parallel.availableCores)
/// --kc/--mc/--nc  override Gemm.blocking (tuning experiments)
/// --sizes    GEMM cube sizes (default 512,1024,2048)
/// --no-conv  skip the conv table
/// --conv S   only the conv layers whose name contains S
/// --model     only the whole-model table (DBFEM paper and quick configs; peak probe kept)
/// --no-model  skip the whole-model table
/// --model-only paper|quick   run only that model configuration
/// --model-profile paper|quick|paper-infer|quick-infer [--profile-reps N]
///            DBFEM training steps (or 1-sample eval forwards) in a steady loop (no tables, no peak probe), for `perf record`
/// --by-layer  with --model-profile: one row per convolution geometry and algorithm instead of one "conv2d" row
/// --winograd  only the direct vs Winograd table (DBFEM 3×3 stride-1 layers, each pass), with
///            the FMA peak measured before and after it (a drop means other load on the cores);
///            --conv S filters its layers, --batch N overrides their batch size;
///            with --profile, profiles those layers instead of the conv table's
/// --algorithm auto|direct|winograd   ConvAlgorithm.mode for everything run (default auto)
/// --winograd-tiles N   WinogradKernels.targetTiles (tiles per chunk; tuning experiments)
/// --winograd-worker-pairs N   WinogradKernels.perWorkerMaxChannelPairs (tuning experiments)
/// --no-pool / --pool-mb N   StoragePool.capacityBytes 0 / N MiB (memory experiments)
/// --spin-us N   Parallel.spinMicroseconds: how long idle worker threads poll before sleeping
/// --gemm-min-work N   Gemm.minimumWorkPerThread: multiply-adds each thread must get before a product is split
/// --profile fwd|data|weight [--profile-reps N]
///            run only that conv pass N times on each selected layer (on --threads threads,
///            no GEMM rows, no peak probe): a steady loop for `perf record`
struct BenchOptions {
    var json = false
    var quick = false
    var threads = Parallel.availableCores
    var sizes = [512, 1024, 2048]
    var noConv = false
    /// Only conv layers whose name contains this substring (nil: all).
    var convFilter: String? = nil
    /// Profiling: run only this conv pass (fwd, data, weight) `profileReps` times, no table.
    var profilePass: String? = nil
    var profileReps = 20
    /// Whole-model table: on by default; `--model` runs only it, `--no-model` skips it.
    var modelOnly = false
    var noModel = false
    var modelFilter: String? = nil
    var modelProfile: String? = nil
    /// `--winograd`: only the direct vs Winograd table.
    var winograd = false
    /// `--batch N`: batch size of the `--winograd` layers (default: each config's own).
    var batch: Int? = nil

    static func parse(_ args: [String]) -> BenchOptions {
        var o = BenchOptions()
        var i = 1
        func value(_ flag: String) -> String {
            i += 1
            guard i < args.count else { fail("\(flag) needs a value") }
            return args[i]
        }
        func int(_ flag: String) -> Int {
            let s = value(flag)
            guard let v = Int(s), v > 0 else { fail("\(flag) needs a positive integer, got '\(s)'") }
            return v
        }
        while i < args.count {
            switch args[i] {
            case "--json": o.json = true
            case "--quick": o.quick = true
            case "--no-conv": o.noConv = true
            case "--model": o.modelOnly = true
            case "--no-model": o.noModel = true
            case "--model-only":
                let m = value("--model-only")
                guard ["paper", "quick"].contains(m) else { fail("--model-only needs paper or quick, got '\(m)'") }
                o.modelFilter = m
            case "--model-profile":
                let m = value("--model-profile")
                guard ["paper", "quick", "paper-infer", "quick-infer"].contains(m) else {
                    fail("--model-profile needs paper, quick, paper-infer or quick-infer, got '\(m)'")
                }
                o.modelProfile = m
            case "--threads": o.threads = int("--threads")
            case "--winograd": o.winograd = true
            case "--batch": o.batch = int("--batch")
            case "--winograd-tiles": WinogradKernels.targetTiles = int("--winograd-tiles")
            case "--winograd-worker-pairs": WinogradKernels.perWorkerMaxChannelPairs = int("--winograd-worker-pairs")
            case "--algorithm":
                let a = value("--algorithm")
                guard let mode = ConvAlgorithm(rawValue: a) else { fail("--algorithm needs auto, direct or winograd, got '\(a)'") }
                ConvAlgorithm.mode = mode
            case "--by-layer": OpProfile.byConvShape = true
            case "--no-fold": BatchNorm2d.foldsIntoConvolution = false   // inference: BN as separate ops
            case "--no-pool": StoragePool.capacityBytes = 0               // every buffer back to malloc
            case "--pool-mb": StoragePool.capacityBytes = int("--pool-mb") << 20  // cap on the cached bytes
            case "--gemm-min-work": Gemm.minimumWorkPerThread = int("--gemm-min-work")  // multiply-adds per thread before a split
            case "--spin-us": Parallel.spinMicroseconds = Double(int("--spin-us"))  // 0: helpers sleep at once
            case "--no-weight-cache": ConvPreparedWeights.reusedInInference = false  // inference packs weights per call
            case "--no-narrow": ConvKernels.narrowInputKernel = false   // few-tap convolutions through GEMM
            case "--bf16":                                                 // products in bfloat16 (mer.autocast)
                guard GemmPrecision.bfloat16Supported else { fail("--bf16 needs a CPU with AVX512_BF16") }
                GemmPrecision.current = .bfloat16
            case "--conv": o.convFilter = value("--conv")
            case "--profile":
                let p = value("--profile")
                guard ["fwd", "data", "weight"].contains(p) else { fail("--profile needs fwd, data or weight, got '\(p)'") }
                o.profilePass = p
            case "--profile-reps": o.profileReps = int("--profile-reps")
            case "--kc": Gemm.blocking.kc = int("--kc")
            case "--mc": Gemm.blocking.mc = int("--mc")
            case "--nc": Gemm.blocking.nc = int("--nc")
            case "--sizes":
                let s = value("--sizes")
                let v = s.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
                guard !v.isEmpty else { fail("--sizes needs a comma-separated list, got '\(s)'") }
                o.sizes = v
            case "-h", "--help":
                print("usage: mer-bench [--json] [--quick] [--threads N] [--kc N] [--mc N] [--nc N] [--sizes a,b,...] [--no-conv] [--conv S] [--model | --no-model] [--model-only paper|quick] [--model-profile paper|quick[-infer] [--by-layer]] [--profile fwd|data|weight] [--profile-reps N] [--winograd [--batch N]] [--algorithm auto|direct|winograd] [--winograd-tiles N] [--winograd-worker-pairs N] [--no-fold] [--no-pool] [--pool-mb N] [--spin-us N] [--gemm-min-work N] [--no-weight-cache] [--no-narrow] [--bf16]")
                exit(0)
            default: fail("unknown argument '\(args[i])' (try --help)")
            }
            i += 1
        }
        return o
    }

    static func fail(_ msg: String) -> Never {
        fputs("mer-bench: \(msg)\n", stderr)
        exit(2)
    }
}

enum Bench {
    static func main(_ args: [String]) {
        let o = BenchOptions.parse(args)
        if let pass = o.profilePass {
            convProfile(o, pass: pass)
            return
        }
        if let m = o.modelProfile {
            ModelBench.profile(o, config: m)
            return
        }
        if o.modelOnly && o.noModel { BenchOptions.fail("--model and --no-model exclude each other") }
        let peakSeconds = o.quick ? 0.2 : 1.0
        let perCore = PeakFLOPs.measure(threads: 1, seconds: peakSeconds)
        let all = PeakFLOPs.measure(threads: o.threads, seconds: peakSeconds)
        if o.winograd {
            let ctx = BenchContext(options: o, peakPerCore: perCore, peakAll: all)
            let loadBefore = loadAverage()
            let rows = WinogradBench.run(ctx)
            let after = PeakFLOPs.measure(threads: o.threads, seconds: peakSeconds)
            print("FMA peak on \(o.threads) threads: \(all) GFLOP/s before, \(after) after (best slice: the hardware, not the load)")
            print("1-minute load average (other processes included): \(loadBefore) before, \(loadAverage()) after")
            print(WinogradBench.table(rows, peakAll: all, threads: o.threads))
            return
        }
        let ctx = BenchContext(options: o, peakPerCore: perCore, peakAll: all)
        let gemm = o.modelOnly ? [] : gemmBenchmarks(ctx)
        let conv = o.noConv || o.modelOnly ? [] : convBenchmarks(ctx, gemm: gemm)
        let model = o.noModel ? [] : ModelBench.run(ctx)
        let report = Report(peakPerCore: perCore, peakAll: all, threads: o.threads, gemm: gemm, conv: conv, model: model,
                            sections: (gemm: !o.modelOnly, conv: !o.modelOnly && !o.noConv, model: !o.noModel))
        print(o.json ? report.json() : report.table())
    }

    /// Best (minimum) wall time of `reps` runs of `body`, after one untimed warm-up run.
    static func bestTime(reps: Int, _ body: () -> Void) -> Double {
        body()
        var best = Double.infinity
        for _ in 0..<max(1, reps) {
            let t0 = PeakFLOPs.now()
            body()
            best = min(best, PeakFLOPs.now() - t0)
        }
        return best
    }
}

struct BenchContext {
    var options: BenchOptions
    var peakPerCore: Double
    var peakAll: Double
    /// The peak a run on `threads` threads is judged against: per-core peak × threads.
    func peak(threads: Int) -> Double { peakPerCore * Double(threads) }
    /// Thread counts to run: 1 and the "all" count (once if they are equal).
    var threadCounts: [Int] { options.threads == 1 ? [1] : [1, options.threads] }
}

/// The 1-minute load average from /proc/loadavg ("?" where there is none): the machine is
/// shared, and a load above the thread count means the timings include waiting.
func loadAverage() -> String {
    guard let f = fopen("/proc/loadavg", "r") else { return "?" }
    defer { fclose(f) }
    var buf = [CChar](repeating: 0, count: 64)
    guard fgets(&buf, 64, f) != nil else { return "?" }
    return String(cString: buf).split(separator: " ").first.map(String.init) ?? "?"
}

/// A deterministic pseudo-random fill (SplitMix64) so runs are comparable.
func fillRandom(_ p: UnsafeMutablePointer<Float>, count: Int, seed: UInt64) {
    var s = seed
    for i in 0..<count {
        s &+= 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        p[i] = Float(z >> 40) / Float(1 << 24) - 0.5
    }
}
