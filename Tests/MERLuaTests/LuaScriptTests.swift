import Foundation
import MERLua
import XCTest

/// Runs every `Tests/Lua/*.lua` file in a fresh host; a failure shows the Lua file:line.
final class LuaScriptTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let luaTests = packageRoot.appendingPathComponent("Tests/Lua")

    /// Runs Tests/Lua/`name` in a fresh VM; `recipeLibraries` adds Scripts/lib (experiment, cli).
    func runLuaFile(_ name: String, recipeLibraries: Bool = false) {
        let vm = LuaVM()
        let libraries = [Self.luaTests.appendingPathComponent("lib").path]
            + (recipeLibraries ? [Self.packageRoot.appendingPathComponent("Scripts/lib").path] : [])
        vm.setModuleSearchPath(scriptDirectory: Self.luaTests.path, libraries: libraries)
        let path = Self.luaTests.appendingPathComponent(name).path
        if case .failed(let message) = vm.run(file: path) {
            XCTFail("\(name):\n\(message)")
        }
    }

    func testEveryLuaFileIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.luaTests.path).filter { $0.hasSuffix(".lua") }.sorted()
        XCTAssertEqual(files, ["ablation_tables.lua", "api_behaviour.lua", "autocast.lua", "bad_arguments.lua", "conv_algorithm.lua", "eval.lua", "files.lua", "image_data.lua", "memory.lua", "nn_bad_arguments.lua", "nn_layers.lua", "nn_lua_modules.lua", "nn_models.lua", "optim_losses.lua", "plot.lua", "recipe_cli.lua", "registry_battery.lua", "run_dir_fuzz.lua", "synthetic_augment.lua", "tensor_basics.lua"],
                       "add a test method for each new Tests/Lua file")
    }

    func testTensorBasics() { runLuaFile("tensor_basics.lua") }
    func testOptimAndLosses() { runLuaFile("optim_losses.lua") }
    func testModels() { runLuaFile("nn_models.lua") }
    func testRecipeOptions() { runLuaFile("recipe_cli.lua", recipeLibraries: true) }
    func testAblationTablesOverSeeds() { runLuaFile("ablation_tables.lua", recipeLibraries: true) }
    func testImageAndData() {
        // The fixtures' paths are relative to the package root.
        FileManager.default.changeCurrentDirectoryPath(Self.packageRoot.path)
        runLuaFile("image_data.lua")
    }
    func testBadArguments() { runLuaFile("bad_arguments.lua") }
    func testMemoryStaysBounded() { runLuaFile("memory.lua") }
    func testNNLayers() { runLuaFile("nn_layers.lua") }
    func testNNLuaModules() { runLuaFile("nn_lua_modules.lua") }
    func testNNBadArguments() { runLuaFile("nn_bad_arguments.lua") }
    func testEval() { runLuaFile("eval.lua") }
    func testSyntheticAugmentFlow() { runLuaFile("synthetic_augment.lua") }
    func testAPIBehaviourUsersExpect() { runLuaFile("api_behaviour.lua") }
    func testEveryRegisteredBindingSurvivesWrongArguments() { runLuaFile("registry_battery.lua") }
    func testFilesWithoutAShell() { runLuaFile("files.lua") }
    /// Damaged run directories reopened by merge and resume (MER_RUNDIR_FUZZ_COUNT for long runs).
    func testDamagedRunDirectoriesGiveErrorsNamingTheirFiles() { runLuaFile("run_dir_fuzz.lua", recipeLibraries: true) }
    func testPlotFiguresAndDisplay() { runLuaFile("plot.lua") }
    func testAutocastBFloat16() { runLuaFile("autocast.lua", recipeLibraries: true) }

    /// The Markdown reference is made from the registered help texts: every module has a
    /// section, every binding an entry with its signature, fields are marked.
    func testAPIReferenceListsEveryBinding() {
        let vm = LuaVM()
        let doc = vm.apiReference()
        for heading in ["## tensor", "## nn", "## nn.F", "## nn.Module", "## optim", "## optim.optimizer", "## image",
                        "## data", "## data.dataset", "## eval", "## eval.run", "## plot", "## plot.figure", "## mer"] {
            XCTAssertTrue(doc.contains("\n\(heading)\n"), "missing section \(heading)")
        }
        for entry in ["### `tensor.zeros{d1, d2, ...} or tensor.zeros(d1, d2, ...)`", "### `t:reshape{d1, ...}`",
                      "### `nn.Conv2d(cin, cout, k [, {stride=1, padding=0, dilation=1, groups=1, bias=true}])`",
                      "### `t.grad` (field)", "### `opt.lr` (field)", "### `run.dir` (field)", "### `help([x])`",
                      "### `display(x, ... [, {id = name}])`", "### `fig:save(path)`"] {
            XCTAssertTrue(doc.contains(entry), "missing \(entry)")
        }
        XCTAssertEqual(vm.undocumentedEntries, [])
        XCTAssertGreaterThan(doc.components(separatedBy: "\n### ").count, 150)
    }
    func testConvAlgorithm() { runLuaFile("conv_algorithm.lua") }

    /// A Lua module's Swift side is usable from Swift while its table lives, and the VM
    /// closing releases everything (no cycle keeps the module alive).
    func testLuaModulesAreReleasedWithTheirVM() throws {
        weak var weakVM: LuaVM?
        do {
            let vm = LuaVM()
            weakVM = vm
            guard case .ok = vm.run(code: """
                local M = nn.Module:extend("M")
                function M:init() self.w = nn.Parameter(tensor.ones{2}); self.fc = nn.Linear(2, 2) end
                function M:forward(x) return self.fc(x * self.w) end
                keep = nn.Sequential{M(), nn.ReLU()}
                assert(#keep:parameters() == 3)
                """, chunkName: "=test") else { return XCTFail("script failed") }
        }
        XCTAssertNil(weakVM, "the VM must not be kept alive by its modules")
    }

    func testALuaFailureReportsFileAndLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mer-lua-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("fails.lua")
        try "local x = 1\nassert(x == 2, 'x is not 2')\n".write(to: script, atomically: true, encoding: .utf8)
        let vm = LuaVM()
        guard case .failed(let message) = vm.run(file: script.path) else { return XCTFail("expected a failure") }
        XCTAssertTrue(message.contains("fails.lua:2: x is not 2"), message)
        XCTAssertTrue(message.contains("stack traceback:"), message)
    }

    func testBindingErrorsCarryTheCallersLine() throws {
        let vm = LuaVM()
        guard case .failed(let message) = vm.run(code: "local a = 1\nlocal t = tensor.zeros('x')", chunkName: "@chunk.lua") else {
            return XCTFail("expected a failure")
        }
        XCTAssertTrue(message.hasPrefix("chunk.lua:2: tensor.zeros: argument 1: expected a table of non-negative integers (the shape), got string"), message)
    }

    func testCompletion() {
        let vm = LuaVM()
        XCTAssertEqual(vm.completions(for: "tensor.ze"), ["tensor.zeros"])
        XCTAssertTrue(vm.completions(for: "ten").contains("tensor"))
        XCTAssertTrue(vm.completions(for: "whi").contains("while"))
        vm.run(code: "t = tensor.ones{2}", chunkName: "=test")
        XCTAssertEqual(vm.completions(for: "t:resh"), ["t:reshape"])
        XCTAssertTrue(vm.completions(for: "t:").contains("t:backward"))
        XCTAssertEqual(vm.completions(for: "mer.se"), ["mer.seed", "mer.set_rng_state"])
        XCTAssertEqual(vm.completions(for: "nosuch.x"), [])
        XCTAssertEqual(vm.completions(for: "nn.Con"), ["nn.Concat", "nn.ConcatFusion", "nn.Conv2d"])
        XCTAssertTrue(vm.completions(for: "nn.F.").contains("nn.F.conv2d"))
        vm.run(code: "m = nn.Linear(2, 2)", chunkName: "=test")
        XCTAssertEqual(vm.completions(for: "m:state"), ["m:state_dict", "m:state_dict_keys"])
    }
}
