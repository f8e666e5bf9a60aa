import XCTest
import MERNN
import MERTensor
import MERTestSupport

/// The whole model: an independent parameter count from the layer shapes, forward and
/// backward at the paper and quick sizes, every option combination, option errors.
final class DBFEMTests: XCTestCase {
    // MARK: Parameter count from the architecture (not from the module tree)

    static func conv(_ ci: Int, _ co: Int, _ kh: Int, _ kw: Int) -> Int { ci * co * kh * kw }
    static func bn(_ c: Int) -> Int { 2 * c }
    static func linear(_ i: Int, _ o: Int) -> Int { i * o + o }
    /// conv (no bias) + BN
    static func cbn(_ ci: Int, _ co: Int, _ kh: Int, _ kw: Int) -> Int { conv(ci, co, kh, kw) + bn(co) }

    static func resnet12(_ cin: Int, _ widths: [Int]) -> Int {
        var p = 0, c = cin
        for w in widths {
            p += cbn(c, w, 3, 3) + 2 * cbn(w, w, 3, 3) + cbn(c, w, 1, 1)
            c = w
        }
        return p
    }

    static func cbam(_ c: Int) -> Int {
        let h = max(1, c / 16)
        return linear(c, h) + linear(h, c) + conv(2, 1, 7, 7) + bn(1)
    }

    /// Inception branch at width m: (params, out channels).
    static func inception(_ cin: Int, _ m: Float) -> (Int, Int) {
        func r(_ c: Int) -> Int { max(1, Int((Float(c) * m).rounded())) }
        var p = cbn(cin, r(32), 3, 3) + cbn(r(32), r(64), 3, 3) + cbn(r(64), r(80), 1, 1) + cbn(r(80), r(192), 3, 3)
        var c = r(192)
        for pool in [32, 64] {
            p += cbn(c, r(64), 1, 1) + cbn(c, r(48), 1, 1) + cbn(r(48), r(64), 5, 5)
                + cbn(c, r(64), 1, 1) + cbn(r(64), r(96), 3, 3) + cbn(r(96), r(96), 3, 3) + cbn(c, r(pool), 1, 1)
            c = r(64) + r(64) + r(96) + r(pool)
        }
        p += cbn(c, r(384), 3, 3) + cbn(c, r(64), 1, 1) + cbn(r(64), r(96), 3, 3) + cbn(r(96), r(96), 3, 3)
        c += r(384) + r(96)
        let c7 = r(128), c192 = r(192)
        p += cbn(c, c192, 1, 1)
            + cbn(c, c7, 1, 1) + cbn(c7, c7, 1, 7) + cbn(c7, c192, 7, 1)
            + cbn(c, c7, 1, 1) + 3 * cbn(c7, c7, 7, 1) + cbn(c7, c192, 1, 7)
            + cbn(c, c192, 1, 1)
        return (p, 4 * c192)
    }

    static func caffm(_ cg: Int, _ cl: Int, _ c: Int) -> Int {
        let h = max(1, 2 * c / 16)
        return cbn(cg, c, 1, 1) + cbn(cl, c, 1, 1) + linear(2 * c, h) + linear(h, c) + conv(4, 1, 7, 7)
    }

    static func dbfem(widths: [Int]) -> Int {
        let (pi, cl) = inception(2, 0.9)
        let cg = widths.last!
        return resnet12(2, widths) + cbam(cg) + pi + cbam(cl) + caffm(cg, cl, 256) + linear(256, 5)
    }

    func testParameterCounts() throws {
        let paperCount = Self.dbfem(widths: [64, 160, 320, 640])
        let quickCount = Self.dbfem(widths: [32, 64, 128, 256])
        print("DBFEM parameters: paper \(paperCount), quick \(quickCount), inception(0.9) \(Self.inception(2, 0.9).0)")
        XCTAssertEqual(paperCount, 15_456_479)
        XCTAssertEqual(quickCount, 4_892_359)
        XCTAssertEqual(Self.inception(2, 1).0, try InceptionBranch(2, width: 1).parameterCount)
        let paper = try DBFEM(.paper), quick = try DBFEM(.quick)
        XCTAssertEqual(paper.parameterCount, paperCount)
        XCTAssertEqual(quick.parameterCount, quickCount)
        XCTAssertEqual((paper.localBranch?.parameterCount)!, Self.inception(2, 0.9).0)
        XCTAssertEqual(paper.localBranch?.outChannels, 692)
        // The documented figures: 15.5 M and 4.9 M.
        XCTAssertEqual(Double(paperCount) / 1e6, 15.5, accuracy: 0.05)
        XCTAssertEqual(Double(quickCount) / 1e6, 4.9, accuracy: 0.05)
    }

    func testNamesAndDescription() throws {
        let m = try DBFEM(.quick)
        XCTAssertEqual(m.children.map { $0.name }, ["global_branch", "global_cbam", "local_branch", "local_cbam", "fusion", "dropout", "head"])
        let k = m.stateDict().map { $0.name }
        print("DBFEM state-dict keys: \(k.count)")
        for name in ["global_branch.blocks.0.body.0.weight", "global_branch.blocks.3.short.1.running_mean",
                     "global_cbam.ca.mlp.0.weight", "global_cbam.sa.bn.running_var", "local_branch.Conv2d_1a_3x3.conv.weight",
                     "local_branch.Mixed_6b.branch_pool.bn.num_batches_tracked", "local_cbam.sa.conv.weight",
                     "fusion.proj_g.0.weight", "fusion.proj_l.1.running_mean", "fusion.mlp.2.bias", "fusion.conv.weight",
                     "head.weight", "head.bias"] {
            XCTAssertTrue(k.contains(name), name)
        }
        XCTAssertEqual(Set(k).count, k.count)
        XCTAssertEqual(k.count, 96 + 10 + Self.inceptionKeyCount + 10 + 2 * 6 + 4 + 1 + 2)
        let text = "\(m)"
        XCTAssertTrue(text.hasPrefix("DBFEM(2 -> 5, global=resnet12, fusion=caffm"), text)
        XCTAssertTrue(text.contains("[4.89M params]"), text)
        XCTAssertTrue(text.contains("(global_branch): ResNet12(2, widths=[32, 64, 128, 256])"), text)
        XCTAssertTrue(text.contains("(fusion): CAFFM(global=256, local=692, out=256, reduction=16)"), text)
        XCTAssertTrue(text.contains("(head): Linear(256, 5)  [1285 params]"), text)
    }

    /// Inception: 4 stem BasicConv2d + 7 + 7 + 4 + 10 = 32 BasicConv2d of 6 keys each.
    static let inceptionKeyCount = 32 * 6

    func checkTrainStep(_ m: DBFEM, size: Int) throws {
        let x = try Tensor.randn([2, 2, size, size], generator: Generator(seed: 9))
        let logits = try m(x)
        XCTAssertEqual(logits.shape, [2, 5])
        try logits.logSoftmax(dim: 1).mean().backward()
        for (name, p) in m.namedParameters() {
            guard let g = p.grad else { XCTFail("\(name): no gradient"); continue }
            XCTAssertEqual(g.shape, p.shape, name)
            XCTAssertTrue(g.toArray().allSatisfy { $0.isFinite }, "\(name): non-finite gradient")
        }
        XCTAssertTrue(m.namedParameters().contains { $0.tensor.grad!.toArray().contains { $0 != 0 } })
        // Eval mode: deterministic (dropout off, running statistics).
        m.eval()
        let a = try GradMode.disabled { try m(x) }, b = try GradMode.disabled { try m(x) }
        XCTAssertEqual(a.toArray(), b.toArray())
        XCTAssertTrue(a.toArray().allSatisfy { $0.isFinite })
    }

    func testPaperConfigTrainStep() throws {
        try checkTrainStep(try DBFEM(.paper, generator: Generator(seed: 1)), size: 112)
    }

    func testQuickConfigTrainStep() throws {
        try checkTrainStep(try DBFEM(.quick, generator: Generator(seed: 2)), size: 64)
    }

    /// Inference folds every BatchNorm into its convolution (with the residual additions and
    /// activations in the epilogue): the separate ops' outputs, bit for bit, with ResNet12 and
    /// ResNet18 (BasicBlock, stem) as the global branch, and no BN pass left over.
    func testInferenceFoldsBatchNormIntoConvolutions() throws {
        defer { BatchNorm2d.foldsIntoConvolution = true }
        let x = try Tensor.randn([2, 2, 64, 64], generator: Generator(seed: 5))
        for global in [DBFEMOptions.Global.resnet12, .resnet18] {
            var o = DBFEMOptions()
            o.global = global; o.widths = [8, 16, 16, 32]; o.inceptionWidth = 0.2; o.fusedChannels = 16
            let m = try DBFEM(o, generator: Generator(seed: 6))
            // Running statistics away from (0, 1), as after training.
            for (k, b) in m.namedBuffers().enumerated() where b.name.hasSuffix("running_mean") || b.name.hasSuffix("running_var") {
                let v = try Tensor.rand(b.tensor.shape, generator: Generator(seed: 100 + UInt64(k)))
                try b.tensor.copy(from: b.name.hasSuffix("var") ? v.adding(scalar: 0.5) : v.adding(scalar: -0.5))
            }
            m.eval()
            func run(folded: Bool) throws -> (y: [Float], ops: [String: OpProfile.Entry]) {
                BatchNorm2d.foldsIntoConvolution = folded
                OpProfile.start()
                let y = try GradMode.disabled { try m(x) }
                return (y.toArray(), OpProfile.stop())
            }
            let folded = try run(folded: true), separate = try run(folded: false)
            // Every convolution BN follows in DBFEM is bias-free, and the fold does BN's own
            // arithmetic, so inference gives the unfused model's bits.
            XCTAssertEqual(folded.y, separate.y, "\(global)")
            XCTAssertNotNil(folded.ops["conv2d_batch_norm"], "\(global) \(folded.ops.keys.sorted())")
            XCTAssertTrue(folded.ops.keys.filter { $0.hasPrefix("batch_norm") }.isEmpty, "\(global) \(folded.ops.keys.sorted())")
            XCTAssertFalse(separate.ops.keys.filter { $0.hasPrefix("batch_norm") }.isEmpty)
            // With a tape (eval mode, parameters requiring grad) nothing is folded, so backward works.
            OpProfile.start()
            try m(x).sum().backward()
            XCTAssertNil(OpProfile.stop()["conv2d_batch_norm"])
        }
    }

    func testEveryOptionCombination() throws {
        let x = try Tensor.randn([2, 2, 64, 64], generator: Generator(seed: 3))
        for global in DBFEMOptions.Global.allCases {
            for fusion in DBFEMOptions.Fusion.allCases {
                for attention in [true, false] {
                    for branches in DBFEMOptions.Branches.allCases {
                        var o = DBFEMOptions()
                        o.global = global; o.fusion = fusion; o.attention = attention; o.branches = branches
                        o.widths = [8, 8, 16, 16]; o.inceptionWidth = 0.1; o.fusedChannels = 16; o.classes = 3
                        let label = "\(global) \(fusion) attention=\(attention) \(branches)"
                        let m = try DBFEM(o, generator: Generator(seed: 4))
                        XCTAssertEqual(try m(x).shape, [2, 3], label)
                        let names = Set(m.children.map { $0.name })
                        XCTAssertEqual(names.contains("global_branch"), branches != .local, label)
                        XCTAssertEqual(names.contains("local_branch"), branches != .global, label)
                        XCTAssertEqual(names.contains("fusion"), branches == .both, label)
                        XCTAssertEqual(names.contains("global_cbam") || names.contains("local_cbam"), attention, label)
                        if branches == .both {
                            let cl = m.localBranch!.outChannels
                            XCTAssertEqual(m.featureChannels, fusion == .caffm ? 16 : 16 + cl, label)
                        }
                    }
                }
            }
        }
    }

    func testOptionErrors() {
        func fails(_ edit: (inout DBFEMOptions) -> Void, _ text: String, line: UInt = #line) {
            var o = DBFEMOptions()
            edit(&o)
            XCTAssertThrowsError(try DBFEM(o), line: line) { XCTAssertTrue("\($0)".contains(text), "\($0)", line: line) }
        }
        // Unknown global/fusion/branches names are unrepresentable (enums); nn.DBFEM refuses them by name.
        fails({ $0.widths = [] }, "widths must not be empty")
        fails({ $0.widths = [8, 0] }, "widths must be positive")
        fails({ $0.global = .resnet18; $0.widths = [8, 16] }, "resnet18 needs 4 widths")
        fails({ $0.classes = 0 }, "classes must be positive")
        fails({ $0.dropout = 1 }, "dropout must be in [0, 1)")
        fails({ $0.fusedChannels = 0 }, "fused_channels must be positive")
        fails({ $0.inceptionWidth = 0 }, "inception_width must be positive")
        XCTAssertThrowsError(try DBFEM(.quick)(try Tensor.zeros([1, 3, 64, 64]))) {
            XCTAssertTrue("\($0)".contains("expected (N, 2, H, W)"), "\($0)")
        }
    }
}
