import XCTest
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MERTensor
import MERNN

/// Module and optimiser checkpoints: a PyTorch-style state dict with mixed dtypes,
/// mismatch reporting, round trips and atomic saves.
final class CheckpointTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/training")

    var tempDir: URL!

    override func setUpWithError() throws {
        tempDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("checkpoint-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: tempDir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tempDir) }

    func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }
    func temp(_ name: String) -> String { tempDir.appendingPathComponent(name).path }
    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: tempDir.path).sorted() }

    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch let e as TensorError { return e.message } catch { return "\(error)" }
    }

    /// PyTorch's Sequential(Conv2d(2,3,3), BatchNorm2d(3), ReLU, Flatten, Linear(48, 2)).
    func bnModel(seed: UInt64 = 9) throws -> Sequential {
        let g = Generator(seed: seed)
        return Sequential([try Conv2d(2, 3, kernel: (3, 3), generator: g), try BatchNorm2d(3), ReLU(), Flatten(),
                           try Linear(48, 2, generator: g)])
    }

    func testLoadsPyTorchStateDictWithMixedDtypes() throws {
        let path = fixture("bn_state_dict.safetensors")
        let dtypes = Dictionary(try SafeTensors.read(path: path).map { ($0.name, $0.dtype) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(dtypes["1.num_batches_tracked"], "I64")
        XCTAssertEqual(dtypes["0.weight"], "F16")
        XCTAssertEqual(dtypes["0.bias"], "F64")
        XCTAssertEqual(dtypes["1.running_var"], "F16")

        let model = try bnModel()
        try model.load(path: path)
        let sd = Dictionary(model.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(try sd["1.num_batches_tracked"]!.item(), 1234)
        XCTAssertEqual(sd["1.num_batches_tracked"]!.shape, [])

        let io = Dictionary(try SafeTensors.read(path: fixture("bn_io.safetensors")).map { ($0.name, $0.tensor) },
                            uniquingKeysWith: { a, _ in a })
        model.eval()
        let out = try GradMode.disabled { try model(io["input"]!) }
        XCTAssertEqual(out.shape, [2, 2])
        for (a, b) in zip(out.toArray(), io["expected"]!.toArray()) {
            XCTAssertEqual(a, b, accuracy: 1e-5 * Swift.max(1, Swift.abs(b)))
        }
        XCTAssertEqual(try sd["1.num_batches_tracked"]!.item(), 1234, "eval mode does not count batches")
    }

    func testMismatchesAreReportedTogetherNamingTheFile() throws {
        let source = try bnModel(seed: 1)
        var entries = source.stateDict().filter { $0.name != "1.running_mean" }                // missing
        entries.append((name: "5.weight", tensor: try Tensor.zeros([2])))                       // unexpected
        if let i = entries.firstIndex(where: { $0.name == "4.weight" }) {
            entries[i].tensor = try Tensor.zeros([2, 47])                                     // wrong shape
        }
        let path = temp("bad.safetensors")
        try SafeTensors.write(entries, to: path)

        let model = try bnModel(seed: 2)
        let before = model.stateDict().map { $0.tensor.toArray() }
        let m = message { try model.load(path: path) }
        XCTAssertTrue(m.hasPrefix("load_state_dict: 3 problems loading \(path):"), m)
        XCTAssertTrue(m.contains("missing 1.running_mean (shape [3])"), m)
        XCTAssertTrue(m.contains("unexpected 5.weight (shape [2])"), m)
        XCTAssertTrue(m.contains("4.weight: shape [2, 47] in \(path), model expects [2, 48]"), m)
        XCTAssertEqual(model.stateDict().map { $0.tensor.toArray() }, before, "nothing changed")

        // Non-strict: names may differ, shapes still must fit.
        let n = message { try model.load(path: path, strict: false) }
        XCTAssertTrue(n.hasPrefix("load_state_dict: 1 problem loading \(path):"), n)

        XCTAssertTrue(message { try model.load(path: temp("nope.safetensors")) }.hasPrefix("safetensors: cannot read"))
    }

    func testSaveLoadRoundTripGivesIdenticalOutputs() throws {
        let model = try bnModel(seed: 3)
        let x = try Tensor.randn([4, 2, 6, 6], generator: Generator(seed: 4))
        // One training step so the running statistics and counters are not the defaults.
        let opt = try SGD(model.parameters(), lr: 0.1, momentum: 0.9)
        try Loss.crossEntropy(try model(x), Tensor.from([0, 1, 1, 0])).backward()
        try opt.step()
        model.eval()
        let want = try GradMode.disabled { try model(x) }.toArray()

        let path = temp("model.safetensors")
        try model.save(path: path, metadata: ["epoch": "1"])
        XCTAssertEqual(try listing(), ["model.safetensors"], "no temporary file left")
        XCTAssertEqual(try SafeTensors.metadata(path: path)["epoch"], "1")

        let copy = try bnModel(seed: 99)
        copy.eval()
        XCTAssertNotEqual(try GradMode.disabled { try copy(x) }.toArray(), want)
        try copy.load(path: path)
        XCTAssertEqual(try GradMode.disabled { try copy(x) }.toArray(), want)
        XCTAssertEqual(copy.stateDict().map { $0.tensor.toArray() }, model.stateDict().map { $0.tensor.toArray() })
    }

    func testCheckpointWithOptimizerResumesIdentically() throws {
        let x = try Tensor.randn([4, 2, 6, 6], generator: Generator(seed: 5))
        let y = try Tensor.from([1, 0, 1, 1])
        func trainStep(_ m: Module, _ o: Optimizer) throws {
            o.zeroGrad()
            try Loss.crossEntropy(try m(x), y).backward()
            try o.step()
        }
        let model = try bnModel(seed: 6)
        let opt = try AdamW(model.parameters(), lr: 0.003, weightDecay: 0.02)
        let sched = try CosineLR(opt, tMax: 7)
        for _ in 0..<3 { try trainStep(model, opt); sched.step() }

        let path = temp("ckpt.safetensors")
        try Checkpoint.save(path: path, model: model, optimizer: opt, metadata: ["epoch": "\(sched.epoch)"])
        XCTAssertEqual(try listing(), ["ckpt.safetensors"])
        let names = try SafeTensors.read(path: path).map { $0.name }
        XCTAssertTrue(names.contains("optim.0.exp_avg") && names.contains("optim.step"), "\(names)")
        // The model part loads on its own (the optim.* entries are not "unexpected").
        try bnModel().load(path: path)

        let model2 = try bnModel(seed: 7)
        let opt2 = try AdamW(model2.parameters(), lr: 1, weightDecay: 0.02)
        let meta = try Checkpoint.load(path: path, model: model2, optimizer: opt2)
        XCTAssertEqual(opt2.lr, opt.lr, "exact learning rate from the metadata")
        XCTAssertEqual(opt2.stepCount, 3)
        XCTAssertEqual(meta["epoch"], "3")

        for _ in 0..<2 { try trainStep(model, opt); try trainStep(model2, opt2) }
        XCTAssertEqual(model2.stateDict().map { $0.tensor.toArray() }, model.stateDict().map { $0.tensor.toArray() })

        // A model that does not fit: the error names the file, and the optimiser keeps its state.
        let other = Sequential([try Linear(3, 2)])
        let opt4 = try AdamW(other.parameters(), lr: 0.25)
        let otherParams = other.parameters()
        otherParams.forEach { $0.grad = try! Tensor.ones($0.shape) }
        try opt4.step()
        let before4 = try opt4.state().map { $0.tensor.toArray() }
        let e = message { try Checkpoint.load(path: path, model: other, optimizer: opt4) }
        XCTAssertTrue(e.hasPrefix("AdamW.load_state: "), e)   // 4 parameters in the file vs 2 here
        XCTAssertEqual(try opt4.state().map { $0.tensor.toArray() }, before4)
        let sameCount = Sequential([try Linear(3, 2), try Linear(2, 2)])
        let opt5 = try AdamW(model.parameters(), lr: 0.25)
        let e5 = message { try Checkpoint.load(path: path, model: sameCount, optimizer: opt5) }
        XCTAssertTrue(e5.hasPrefix("load_state_dict: ") && e5.contains(path), e5)
        XCTAssertEqual(opt5.lr, 0.25, "optimiser restored after the model failed to load")
        XCTAssertEqual(opt5.stepCount, 0)
        XCTAssertEqual(try opt5.state().count, 2)

        // An optimiser of another type is refused; the optimiser's own file works too.
        let sgd = try SGD(model2.parameters(), lr: 0.1)
        XCTAssertEqual(message { try Checkpoint.load(path: path, model: model2, optimizer: sgd) },
                       "SGD.load_state: \(path) holds AdamW state, not SGD")
        let optPath = temp("opt.safetensors")
        try opt.save(path: optPath)
        let opt3 = try AdamW(model2.parameters(), lr: 0.5)
        try opt3.load(path: optPath)
        XCTAssertEqual(opt3.lr, opt.lr)
        XCTAssertEqual(opt3.stepCount, opt.stepCount)
    }

    /// Optimizer state someone else wrote: absurd step counts and learning rates are errors
    /// naming the file, and the optimizer is left as it was (no trap on load or next step).
    func testHostileOptimizerStateIsRefused() throws {
        let model = Sequential([try Linear(3, 2)])
        let opt = try Adam(model.parameters(), lr: 0.01)
        let path = temp("opt.safetensors")
        func write(step: Float = 1, lr: Float = 0.01, meta: [String: String], parameterStep: Float = 1) throws {
            var entries: [(name: String, tensor: Tensor)] = [("optim.step", try .scalar(step)), ("optim.lr", try .scalar(lr))]
            for (i, p) in model.parameters().enumerated() {
                entries.append(("optim.\(i).exp_avg", try Tensor(zeros: p.shape)))
                entries.append(("optim.\(i).exp_avg_sq", try Tensor(zeros: p.shape)))
                entries.append(("optim.\(i).step", try .scalar(parameterStep)))
            }
            try SafeTensors.write(entries, metadata: meta, to: path)
        }
        let cases: [(Float, Float, [String: String], String)] = [
            (1e20, 0.01, [:], "step: 1e+20 is not a plausible step count"),
            (.infinity, 0.01, [:], "step: expected a single non-negative number"),
            (1, 0.01, ["optim.step": "9223372036854775807"], "step '9223372036854775807' in the metadata is not a step count"),
            (1, 0.01, ["optim.lr": "nan"], "lr nan in the metadata is not a non-negative finite number"),
            (1, 0.01, ["optim.lr": "-5"], "lr -5.0 in the metadata is not a non-negative finite number"),
            (1, 0.01, ["optim.lr": "fast"], "lr 'fast' in the metadata is not a number"),
            (1, .nan, [:], "lr: expected a single non-negative number"),
        ]
        for (step, lr, meta, expected) in cases {
            try write(step: step, lr: lr, meta: meta)
            let e = message { try opt.load(path: path) }
            XCTAssertTrue(e.contains(expected) && e.contains("Adam.load_state"), "expected «\(expected)», got «\(e)»")
            XCTAssertEqual(opt.lr, 0.01); XCTAssertEqual(opt.stepCount, 0)
        }
        for bad in [Float.infinity, 1e20] {
            try write(meta: [:], parameterStep: bad)
            XCTAssertTrue(message { try opt.load(path: path) }.contains("0.step: expected a single non-negative integer (at most 1e15)"))
        }
        try write(step: 7, lr: 0.005, meta: ["optim.lr": "0.005", "optim.step": "7"])
        try opt.load(path: path)
        XCTAssertEqual(opt.stepCount, 7); XCTAssertEqual(opt.lr, 0.005)
    }

    func testFailedSaveLeavesTheOldFile() throws {
        let path = temp("model.safetensors")
        let small = Sequential([try Linear(2, 2, generator: Generator(seed: 1))])
        try small.save(path: path)
        let oldBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(try listing(), ["model.safetensors"])

        // A model whose file exceeds the file-size limit: the write fails half-way.
        let big = Sequential([try Linear(64, 64, generator: Generator(seed: 2))])
        #if canImport(Glibc)
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved), 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var limited = saved
        limited.rlim_cur = 4096
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited), 0)
        let m = message { try big.save(path: path) }
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved), 0)
        signal(SIGXFSZ, previousHandler)
        XCTAssertTrue(m.contains("File too large"), m)
        #endif
        // A target that cannot be replaced (a directory): the rename fails.
        let dir = temp("adir")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        XCTAssertTrue(message { try big.save(path: dir) }.contains("cannot rename"))

        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), oldBytes, "old file untouched")
        XCTAssertEqual(try listing(), ["adir", "model.safetensors"], "no temporary file left")
        let reloaded = Sequential([try Linear(2, 2, generator: Generator(seed: 3))])
        try reloaded.load(path: path)
        XCTAssertEqual(reloaded.stateDict().map { $0.tensor.toArray() }, small.stateDict().map { $0.tensor.toArray() })
    }
}
