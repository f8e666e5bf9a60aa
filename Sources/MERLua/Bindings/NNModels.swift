import CLua
import CLuaBridge
import MERNN
import MERTensor

/// `nn.DBFEM{config = ...}`: the presets.
enum DBFEMConfig: String, CaseIterable { case paper, quick }

/// Reduction and kernel of CBAM-style attention (Woo et al.'s defaults).
struct AttentionOptions {
    var reduction = 16, kernel = 7
    static let declared: [Option<AttentionOptions>] = [Option("reduction", \.reduction, Read.positive), Option("kernel", \.kernel, Read.positive)]
}

extension DBFEMOptions {
    /// `config` first: a preset that the other keys then refine.
    static let declared: [Option<DBFEMOptions>] = [
        Option("config") { call, i, o in o = try call.choice(i, DBFEMConfig.self) == .quick ? .quick : .paper },
        Option("in_channels", \.inChannels, Read.positive), Option("classes", \.classes, Read.positive),
        Option("global", \.global, Read.choice(DBFEMOptions.Global.self)),
        Option("widths", \.widths, Read.integers("a table of positive widths", minimum: 1)),
        Option("fusion", \.fusion, Read.choice(DBFEMOptions.Fusion.self)), Option("attention", \.attention, Read.boolean),
        Option("branches", \.branches, Read.choice(DBFEMOptions.Branches.self)),
        Option("fused_channels", \.fusedChannels, Read.positive), Option("reduction", \.reduction, Read.positive),
        Option("dropout", \.dropout, Read.float), Option("inception_width", \.inceptionWidth, Read.float(in: 1e-6...4, "a number in (0, 4]")),
    ]
}

/// The seed paper's building blocks and model in `nn`: attention (CBAM), fusion (CAFFM,
/// concat), the ResNet12 / ResNet18/34 global branches, the Inception local branch, DBFEM.
extension LuaVM {
    func installModels() {
        defineModule("nn", [
            .layer("ChannelAttention", arity: 2, """
                nn.ChannelAttention(c [, {reduction=16}])
                CBAM channel attention: x * sigmoid(MLP(avgpool x) + MLP(maxpool x)), one shared MLP c -> c/r -> c.
                """) { call in
                let c = try call.positiveInteger(1)
                return try ChannelAttention(c, reduction: try call.option(2, "reduction", Read.positive) ?? 16)
            },
            .layer("SpatialAttention", arity: 1, """
                nn.SpatialAttention([{kernel=7}])
                CBAM spatial attention: x * sigmoid(BN(conv kxk([max_c x, mean_c x]))).
                """) { call in try SpatialAttention(kernel: try call.option(1, "kernel", Read.positive) ?? 7) },
            .layer("CBAM", arity: 2, """
                nn.CBAM(c [, {reduction=16, kernel=7}])
                Convolutional block attention (Woo et al., ECCV 2018): channel attention, then spatial attention.
                """) { call in
                let c = try call.positiveInteger(1)
                let o = try call.options(2, AttentionOptions.declared, AttentionOptions())
                return try CBAM(c, reduction: o.reduction, kernel: o.kernel)
            },
            .layer("CAFFM", arity: 4, """
                nn.CAFFM(cg, cl, c [, {reduction=16, kernel=7}])
                Attention fusion of a global map g (cg channels) and a local map l (cl): f(g, l) = w*g' + (1-w)*l'
                with g', l' projected to c channels, l' pooled to g's grid, w from channel + spatial attention.
                """) { call in
                let cg = try call.positiveInteger(1), cl = try call.positiveInteger(2), c = try call.positiveInteger(3)
                let o = try call.options(4, AttentionOptions.declared, AttentionOptions())
                return try CAFFM(cg, cl, c, reduction: o.reduction, kernel: o.kernel)
            },
            .layer("ConcatFusion", arity: 2, """
                nn.ConcatFusion(cg, cl)
                The no-attention baseline: f(g, l) = [g ; avgpool_to_g_grid(l)] with cg + cl channels.
                """) { call in try ConcatFusion(try call.positiveInteger(1), try call.positiveInteger(2)) },
            .layer("ResNet12", arity: 2, """
                nn.ResNet12(cin [, {widths={64, 160, 320, 640}}])
                The global branch: 4 residual blocks of three 3x3 conv-BN(-LeakyReLU 0.1) with a 1x1 shortcut, each
                followed by 2x2 max-pooling. Output (N, widths[#widths], H/16, W/16).
                """) { call in
                let cin = try call.positiveInteger(1)
                return try ResNet12(cin, widths: try call.option(2, "widths", Read.integers("a table of positive widths", minimum: 1)) ?? [64, 160, 320, 640])
            },
            .layer("ResNet", arity: 3, """
                nn.ResNet(depth, cin [, {widths={64, 128, 256, 512}}])
                torchvision's ResNet18 (depth 18) or ResNet34 (depth 34) without its classifier, for the depth ablation.
                """) { call in
                let depth = try call.integer(1)
                guard depth == 18 || depth == 34 else { throw call.error(1, "expected depth 18 or 34, got \(depth)") }
                let cin = try call.positiveInteger(2)
                let widths = try call.option(3, "widths", Read.integers("a table of 4 positive widths", minimum: 1))
                return try ResNet(depth: depth, cin, widths: widths ?? [64, 128, 256, 512])
            },
            .layer("InceptionBranch", arity: 2, """
                nn.InceptionBranch(cin [, {width=1}])
                The local branch: Inception-v3 stem, Inception-A x2, grid reduction, Inception-B (1x7 / 7x1);
                width scales every channel count.
                """) { call in
                let cin = try call.positiveInteger(1)
                let width = try call.option(2, "width", Read.float(in: 1e-6...4, "a number in (0, 4]")) ?? 1
                return try InceptionBranch(cin, width: width)
            },
            .layer("DBFEM", arity: 1, """
                nn.DBFEM{in_channels=2, classes=5, global="resnet12", widths={64,160,320,640}, fusion="caffm",
                         attention=true, branches="both", fused_channels=256, reduction=16, dropout=0.5,
                         inception_width=0.9, config="paper"|"quick"}
                The seed paper's dual-branch network: ResNet12 (or resnet18/resnet34) global branch and Inception
                local branch, each with CBAM, fused by CAFFM (or "concat"), then GAP, dropout, linear.
                branches="global"|"local" gives the single-branch ablations; config="quick" sets widths 32-64-128-256.
                """) { call in try DBFEM(try call.options(1, DBFEMOptions.declared, DBFEMOptions())) },
        ])
    }
}
