import CLua
import CLuaBridge
import Foundation
import MERKernels
import MERTensor

/// The `mer` global: version, seeding, threads, convolution algorithm, clock.
extension LuaVM {
    public static let version = "0.1.0"

    func installMerModule() {
        lua_createtable(L, 0, 8)
        lua_pushstring(L, LuaVM.version)
        lua_setfield(L, -2, "version")
        setFunction("seed", "mer.seed", doc: """
            mer.seed(n)
            Reseeds the global random generator (tensor.rand/randn, initialisation, shuffling).
            The same seed and thread count give the same numbers.
            """) { call in
            try call.expectAtMost(1)
            let n = try call.integer(1)
            guard n >= 0 else { throw call.error(1, "expected a non-negative integer seed, got \(n)") }
            Generator.seed(UInt64(n))
            return 0
        }
        setFunction("threads", "mer.threads", doc: """
            mer.threads([n])
            Sets the number of worker threads the kernels use (1..256); returns the current number.
            """) { call in
            try call.expectAtMost(1)
            if !call.isNil(1) {
                let n = try call.integer(1)
                guard n >= 1 && n <= 256 else { throw call.error(1, "expected a thread count between 1 and 256, got \(n)") }
                Parallel.threads = n
            }
            call.push(Parallel.threads)
            return 1
        }
        setFunction("conv_algorithm", "mer.conv_algorithm", doc: """
            mer.conv_algorithm([mode])
            Chooses how 3x3 stride-1 convolutions (dilation 1, groups 1) are computed:
            "auto" (Winograd F(2x2,3x3)/F(4x4,3x3) only for the shapes where it measured faster,
            the default), "direct" (always the im2col GEMM path) or "winograd" (Winograd for
            every such shape). Other convolutions are always direct. Returns the current mode.
            Winograd results differ from direct ones by rounding only (relative error ~1e-5).
            """) { call in
            try call.expectAtMost(1)
            if !call.isNil(1) {
                let name = try call.string(1)
                guard let mode = ConvAlgorithm(rawValue: name) else {
                    throw call.error(1, "expected \"auto\", \"direct\" or \"winograd\", got \"\(name)\"")
                }
                ConvAlgorithm.mode = mode
            }
            call.push(ConvAlgorithm.mode.rawValue)
            return 1
        }
        setFunction("rng_state", "mer.rng_state", doc: """
            mer.rng_state()
            The global generator's state as a string, for checkpoints (mer.set_rng_state restores it).
            """) { call in
            try call.expectAtMost(0)
            call.push(Generator.global.state.map { String($0, radix: 16) }.joined(separator: ":"))
            return 1
        }
        setFunction("set_rng_state", "mer.set_rng_state", doc: "mer.set_rng_state(s)\nRestores a state from mer.rng_state().") { call in
            try call.expectAtMost(1)
            let words = try call.string(1).split(separator: ":").compactMap { UInt64($0, radix: 16) }
            guard words.count == 4 || words.count == 6 else { throw call.error(1, "expected a state string from mer.rng_state()") }
            Generator.global.state = words
            return 0
        }
        setFunction("time", "mer.time", doc: "mer.time()\nSeconds from a monotonic clock, with sub-microsecond resolution (for timing).") { call in
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            call.push(Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9)
            return 1
        }
        setFunction("cores", "mer.cores", doc: "mer.cores()\nNumber of CPU cores online.") { call in
            call.push(Parallel.availableCores)
            return 1
        }
        lua_setglobal(L, "mer")
    }

    func installModules() {
        luaL_newmetatable(L, "mer.docs.holder") // keeps names unique; the docs table itself:
        mer_pop(L, 1)
        lua_createtable(L, 0, 256)
        lua_setfield(L, mer_registryindex(), "mer.docs")
        installTensorType()
        installTensorModule()
        installMerModule()
        installNNModule()
        installModels()
        installLosses()
        installOptim()
        installImageModule()
        installDataModule()
        installSyntheticData()
        installAugmentation()
        installEvalModule()
        installHelp()
    }
}
