import CLua
import CLuaBridge
import Foundation
import MERKernels
import MERTensor

/// The `mer` global: version, seeding, threads, convolution algorithm, precision, clock.
extension LuaVM {
    public static let version = "0.1.0"

    func installMerModule() {
        defineModule("mer", [
            .function("seed", arity: 1, """
                mer.seed(n)
                Reseeds the global random generator (tensor.rand/randn, initialisation, shuffling).
                The same seed and thread count give the same numbers.
                """) { call in
                Generator.seed(UInt64(try call.integer(1, in: 0...Int.max, what: "a non-negative integer seed")))
                return 0
            },
            .function("threads", arity: 1, """
                mer.threads([n])
                Sets the number of worker threads the kernels use (1..256); returns the current number.
                """) { call in
                if !call.isNil(1) { Parallel.threads = try call.integer(1, in: 1...256, what: "a thread count between 1 and 256") }
                return call.push(Parallel.threads)
            },
            .function("rng_state", arity: 0, """
                mer.rng_state()
                The global generator's state as a string, for checkpoints (mer.set_rng_state restores it).
                """) { call in
                call.push(Generator.global.state.map { String($0, radix: 16) }.joined(separator: ":"))
            },
            .function("set_rng_state", arity: 1, "mer.set_rng_state(s)\nRestores a state from mer.rng_state().") { call in
                let words = try call.string(1).split(separator: ":").compactMap { UInt64($0, radix: 16) }
                guard words.count == 4 || words.count == 6 else { throw call.error(1, "expected a state string from mer.rng_state()") }
                Generator.global.state = words
                return 0
            },
            .function("time", arity: 0, "mer.time()\nSeconds from a monotonic clock, with sub-microsecond resolution (for timing).") { call in
                var ts = timespec()
                clock_gettime(CLOCK_MONOTONIC, &ts)
                return call.push(Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9)
            },
            .function("cores", arity: 0, "mer.cores()\nNumber of CPU cores this process may run on (its affinity mask: taskset, cpusets, Slurm's binding); the default thread count.") { call in call.push(Parallel.availableCores) },
            .function("conv_algorithm", arity: 1, """
                mer.conv_algorithm([mode])
                Chooses how 3x3 stride-1 convolutions (dilation 1, groups 1) are computed:
                "auto" (Winograd F(2x2,3x3)/F(4x4,3x3) only for the shapes where it measured faster,
                the default), "direct" (always the im2col GEMM path) or "winograd" (Winograd for
                every such shape). Other convolutions are always direct. Returns the current mode.
                Winograd results differ from direct ones by rounding only (relative error ~1e-5).
                """) { call in
                if !call.isNil(1) {
                    let name = try call.string(1)
                    guard let mode = ConvAlgorithm(rawValue: name) else {
                        throw call.error(1, "expected \"auto\", \"direct\" or \"winograd\", got \"\(name)\"")
                    }
                    ConvAlgorithm.mode = mode
                }
                return call.push(ConvAlgorithm.mode.rawValue)
            },
            .function("autocast", arity: 2, """
                mer.autocast([mode [, fn]])
                Mixed precision for the products of convolutions, linear layers and matmul. "bf16"
                rounds their operands to bfloat16 and multiplies with float32 accumulation
                (AVX512_BF16 CPUs, ~2x the multiply-adds per instruction); weights, gradients,
                activations and everything else stay float32, and so do Winograd convolutions (in
                bf16 their transforms would amplify the rounding to ~8 % of the output; see
                mer.conv_algorithm). "off" (the default) multiplies in float32. Relative error of a
                bf16 product: ~2e-3. With fn: runs fn() in that mode, restores the previous
                mode afterwards (also on an error) and returns fn's results; the backward pass of
                anything fn computed multiplies in the same mode. Without fn: sets the mode for what
                follows and returns it; with no argument returns the current mode.
                """) { call in
                if call.isNil(1) { return call.push(AutocastMode(GemmPrecision.current).rawValue) }
                let mode = try call.choice(1, AutocastMode.self), precision = mode.precision
                if precision == .bfloat16 && !GemmPrecision.bfloat16Supported {
                    throw call.error(1, "\"bf16\" needs a CPU with AVX512_BF16, which this one lacks (use \"off\")")
                }
                if call.isNil(2) {
                    GemmPrecision.current = precision
                    return call.push(mode.rawValue)
                }
                return try call.callFunction(2) { run in GemmPrecision.with(precision) { run() } }
            },
            .function("max_memory", arity: 1, """
                mer.max_memory([bytes])
                Sets the most memory tensors may hold (a request past it is an error: "not enough memory");
                returns the budget and the bytes in use now. Default: the machine's physical memory.
                """) { call in
                if !call.isNil(1) { MemoryBudget.limitBytes = try call.integer(1, in: 1...Int.max, what: "a positive byte count") }
                call.push(MemoryBudget.limitBytes)
                call.push(MemoryBudget.liveBytes)
                return 2
            },
        ])
        pushModuleTable("mer")
        lua_pushstring(L, LuaVM.version)
        lua_setfield(L, -2, "version")
        mer_pop(L, 1)
    }

    func installModules() {
        lua_createtable(L, 0, 256)
        lua_setfield(L, mer_registryindex(), "mer.docs")
        installTensorType()
        installTensorModule()
        installMerModule()
        installFileFunctions()
        installNNModule()
        installModels()
        installLosses()
        installOptim()
        installImageModule()
        installDataModule()
        installSyntheticData()
        installAugmentation()
        installEvalModule()
        installPlotModule()
        installHelp()
        installDisplay()
    }
}

/// `mer.autocast`'s mode names, as `LuaCall.choice` reads them.
enum AutocastMode: String, CaseIterable {
    case off, bf16

    init(_ p: GemmPrecision) { self = p == .bfloat16 ? .bf16 : .off }
    var precision: GemmPrecision { self == .bf16 ? .bfloat16 : .float32 }
}
