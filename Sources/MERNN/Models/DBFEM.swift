import MERTensor

/// Options of `DBFEM`; every detail the seed paper leaves open is one of these.
public struct DBFEMOptions {
    /// Input channels (2: onset and apex frames stacked).
    public var inChannels = 2
    public var classes = 5
    /// The global branch: the paper's ResNet12, or torchvision's ResNet18/34 (its ablation).
    public enum Global: String, CaseIterable { case resnet12, resnet18, resnet34 }
    /// CAFFM (the paper's attention fusion) or concatenation (its no-CAFFM baseline).
    public enum Fusion: String, CaseIterable { case caffm, concat }
    /// Both branches, or one of them alone for the single-branch ablations (no fusion then).
    public enum Branches: String, CaseIterable { case both, global, local }

    public var global = Global.resnet12
    /// Stage widths of the global branch; nil takes the branch's default
    /// (ResNet12 64-160-320-640, ResNet18/34 64-128-256-512). ResNet18/34 need exactly 4.
    public var widths: [Int]? = nil
    public var fusion = Fusion.caffm
    /// CBAM on each branch's output.
    public var attention = true
    public var branches = Branches.both
    /// CAFFM's common channel count c. 256 for both configurations: with it (and the
    /// Inception width below) the totals land on ARCHITECTURE.md's 15.5 M / 4.9 M.
    public var fusedChannels = 256
    /// Reduction ratio r of every CBAM / CAFFM MLP.
    public var reduction = 16
    /// Dropout before the classifier.
    public var dropout: Float = 0.5
    /// Width multiplier of the Inception local branch. 0.9 (Inception-B out 692 channels,
    /// 2.55 M parameters) makes the documented totals; 1.0 is torchvision's widths.
    public var inceptionWidth: Float = 0.9

    public init() {}

    /// The paper configuration: 112×112 input, ResNet12 64-160-320-640 (15.5 M params).
    public static var paper: DBFEMOptions { DBFEMOptions() }
    /// The quick configuration: 64×64 input, ResNet12 32-64-128-256 (4.9 M params).
    public static var quick: DBFEMOptions { var o = DBFEMOptions(); o.widths = [32, 64, 128, 256]; return o }
}

/// Dual-branch feature extraction model of the seed paper ("Micro-expression Recognition
/// Based on Dual-branch Feature Extraction and Fusion", arXiv 2602.23950; ARCHITECTURE.md):
///
///     g = CBAM_g(global_branch(x))     ResNet12 (or ResNet18/34), (N, cg, H/16, W/16)
///     l = CBAM_l(local_branch(x))      Inception-v3 style,         (N, cl, ~H/8, ~W/8)
///     f = fusion(g, l)                 CAFFM (N, c, Hg, Wg) or concat (N, cg+cl, Hg, Wg)
///     logits = head(dropout(mean_{H,W} f))
///
/// Child names (state-dict prefixes), in this order: `global_branch`, `global_cbam`,
/// `local_branch`, `local_cbam`, `fusion`, `dropout`, `head`. Branches and modules an
/// option turns off are absent.
public final class DBFEM: Module {
    public let options: DBFEMOptions
    public let globalBranch: Module?
    public let localBranch: InceptionBranch?
    public let globalCBAM, localCBAM: CBAM?
    public let fusion: Module?
    public let dropout: Dropout
    public let head: Linear
    /// Channels entering the classifier.
    public let featureChannels: Int

    public init(_ options: DBFEMOptions = DBFEMOptions(), generator: Generator = .global) throws {
        let o = options
        guard o.inChannels > 0 else { throw TensorError("DBFEM: in_channels must be positive, got \(o.inChannels)") }
        guard o.classes > 0 else { throw TensorError("DBFEM: classes must be positive, got \(o.classes)") }
        if let w = o.widths {
            guard !w.isEmpty else { throw TensorError("DBFEM: widths must not be empty") }
            guard w.allSatisfy({ $0 > 0 }) else { throw TensorError("DBFEM: widths must be positive, got \(w)") }
            if o.global != .resnet12 && w.count != 4 {
                throw TensorError("DBFEM: \(o.global) needs 4 widths (one per stage), got \(w.count): \(w)")
            }
        }
        guard o.fusedChannels > 0 else { throw TensorError("DBFEM: fused_channels must be positive, got \(o.fusedChannels)") }
        guard o.reduction > 0 else { throw TensorError("DBFEM: reduction must be positive, got \(o.reduction)") }
        guard o.dropout >= 0 && o.dropout < 1 else { throw TensorError("DBFEM: dropout must be in [0, 1), got \(o.dropout)") }
        guard o.inceptionWidth > 0 && o.inceptionWidth.isFinite else {
            throw TensorError("DBFEM: inception_width must be positive, got \(o.inceptionWidth)")
        }
        self.options = o
        let useGlobal = o.branches != .local, useLocal = o.branches != .global

        var cg = 0, cl = 0
        if useGlobal {
            if o.global == .resnet12 {
                let b = try ResNet12(o.inChannels, widths: o.widths ?? [64, 160, 320, 640], generator: generator)
                globalBranch = b; cg = b.outChannels
            } else {
                let b = try ResNet(depth: o.global == .resnet18 ? 18 : 34, o.inChannels,
                                   widths: o.widths ?? [64, 128, 256, 512], generator: generator)
                globalBranch = b; cg = b.outChannels
            }
            globalCBAM = o.attention ? try CBAM(cg, reduction: o.reduction, generator: generator) : nil
        } else { globalBranch = nil; globalCBAM = nil }
        if useLocal {
            let b = try InceptionBranch(o.inChannels, width: o.inceptionWidth, generator: generator)
            localBranch = b; cl = b.outChannels
            localCBAM = o.attention ? try CBAM(cl, reduction: o.reduction, generator: generator) : nil
        } else { localBranch = nil; localCBAM = nil }

        if useGlobal && useLocal {
            if o.fusion == .caffm {
                fusion = try CAFFM(cg, cl, o.fusedChannels, reduction: o.reduction, generator: generator)
                featureChannels = o.fusedChannels
            } else {
                fusion = try ConcatFusion(cg, cl)
                featureChannels = cg + cl
            }
        } else {
            fusion = nil
            featureChannels = useGlobal ? cg : cl
        }
        dropout = try Dropout(o.dropout)
        head = try Linear(featureChannels, o.classes, generator: generator)
        super.init()
        if let m = globalBranch { registerModule("global_branch", m) }
        if let m = globalCBAM { registerModule("global_cbam", m) }
        if let m = localBranch { registerModule("local_branch", m) }
        if let m = localCBAM { registerModule("local_cbam", m) }
        if let m = fusion { registerModule("fusion", m) }
        registerModule("dropout", dropout)
        registerModule("head", head)
    }

    /// The fused feature map before pooling (N, featureChannels, H', W').
    public func features(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == options.inChannels else {
            throw TensorError("DBFEM: expected (N, \(options.inChannels), H, W) input, got shape \(x.shape)")
        }
        var g: Tensor?, l: Tensor?
        if let b = globalBranch {
            g = try b.forward(x)
            if let a = globalCBAM { g = try a.forward(g!) }
        }
        if let b = localBranch {
            l = try b.forward(x)
            if let a = localCBAM { l = try a.forward(l!) }
        }
        if let f = fusion { return try f.forward([g!, l!]) }
        return g ?? l!
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let f = try features(x)
        let (n, c) = (f.shape[0], f.shape[1])
        let pooled = try f.reshape([n, c, f.shape[2] * f.shape[3]]).mean(dim: 2)
        return try head.forward(dropout.forward(pooled))
    }

    public override var extraDescription: String {
        let o = options
        return "\(o.inChannels) -> \(o.classes), global=\(o.global.rawValue), fusion=\(o.fusion.rawValue), attention=\(o.attention), branches=\(o.branches.rawValue)"
    }
}
