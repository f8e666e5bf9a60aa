import CLua
import CLuaBridge
import MERNN
import MERTensor

/// The seed paper's building blocks and model in `nn`: attention (CBAM), fusion (CAFFM,
/// concat), the ResNet12 / ResNet18/34 global branches, the Inception local branch, DBFEM.
extension LuaVM {
    func installModels() {
        lua_getglobal(L, "nn")
        func constructor(_ key: String, doc: String, arity: Int32, _ make: @escaping (LuaCall) throws -> Module) {
            setFunction(key, "nn.\(key)", doc: doc) { call in
                try call.expectAtMost(arity)
                call.pushModule(try make(call))
                return 1
            }
        }
        constructor("ChannelAttention", doc: """
            nn.ChannelAttention(c [, {reduction=16}])
            CBAM channel attention: x * sigmoid(MLP(avgpool x) + MLP(maxpool x)), one shared MLP c -> c/r -> c.
            """, arity: 2) { call in
            let c = try call.positiveInteger(1)
            let o = try call.options(2, allowed: ["reduction"])
            return try ChannelAttention(c, reduction: try o?.value("reduction") { try call.positiveInteger($0) } ?? 16)
        }
        constructor("SpatialAttention", doc: """
            nn.SpatialAttention([{kernel=7}])
            CBAM spatial attention: x * sigmoid(BN(conv kxk([max_c x, mean_c x]))).
            """, arity: 1) { call in
            let o = try call.options(1, allowed: ["kernel"])
            return try SpatialAttention(kernel: try o?.value("kernel") { try call.positiveInteger($0) } ?? 7)
        }
        constructor("CBAM", doc: """
            nn.CBAM(c [, {reduction=16, kernel=7}])
            Convolutional block attention (Woo et al., ECCV 2018): channel attention, then spatial attention.
            """, arity: 2) { call in
            let c = try call.positiveInteger(1)
            let o = try call.options(2, allowed: ["reduction", "kernel"])
            return try CBAM(c, reduction: try o?.value("reduction") { try call.positiveInteger($0) } ?? 16,
                            kernel: try o?.value("kernel") { try call.positiveInteger($0) } ?? 7)
        }
        constructor("CAFFM", doc: """
            nn.CAFFM(cg, cl, c [, {reduction=16, kernel=7}])
            Attention fusion of a global map g (cg channels) and a local map l (cl): f(g, l) = w*g' + (1-w)*l'
            with g', l' projected to c channels, l' pooled to g's grid, w from channel + spatial attention.
            """, arity: 4) { call in
            let cg = try call.positiveInteger(1), cl = try call.positiveInteger(2), c = try call.positiveInteger(3)
            let o = try call.options(4, allowed: ["reduction", "kernel"])
            return try CAFFM(cg, cl, c, reduction: try o?.value("reduction") { try call.positiveInteger($0) } ?? 16,
                             kernel: try o?.value("kernel") { try call.positiveInteger($0) } ?? 7)
        }
        constructor("ConcatFusion", doc: """
            nn.ConcatFusion(cg, cl)
            The no-attention baseline: f(g, l) = [g ; avgpool_to_g_grid(l)] with cg + cl channels.
            """, arity: 2) { call in
            try ConcatFusion(try call.positiveInteger(1), try call.positiveInteger(2))
        }
        constructor("ResNet12", doc: """
            nn.ResNet12(cin [, {widths={64, 160, 320, 640}}])
            The global branch: 4 residual blocks of three 3x3 conv-BN(-LeakyReLU 0.1) with a 1x1 shortcut, each
            followed by 2x2 max-pooling. Output (N, widths[#widths], H/16, W/16).
            """, arity: 2) { call in
            let cin = try call.positiveInteger(1)
            let o = try call.options(2, allowed: ["widths"])
            return try ResNet12(cin, widths: try o?.value("widths") { try call.integerList($0, what: "a table of positive widths", allowVarargs: false, minimum: 1) } ?? [64, 160, 320, 640])
        }
        constructor("ResNet", doc: """
            nn.ResNet(depth, cin [, {widths={64, 128, 256, 512}}])
            torchvision's ResNet18 (depth 18) or ResNet34 (depth 34) without its classifier, for the depth ablation.
            """, arity: 3) { call in
            let depth = try call.integer(1)
            guard depth == 18 || depth == 34 else { throw call.error(1, "expected depth 18 or 34, got \(depth)") }
            let cin = try call.positiveInteger(2)
            let o = try call.options(3, allowed: ["widths"])
            return try ResNet(depth: depth, cin, widths: try o?.value("widths") { try call.integerList($0, what: "a table of 4 positive widths", allowVarargs: false, minimum: 1) } ?? [64, 128, 256, 512])
        }
        constructor("InceptionBranch", doc: """
            nn.InceptionBranch(cin [, {width=1}])
            The local branch: Inception-v3 stem, Inception-A x2, grid reduction, Inception-B (1x7 / 7x1);
            width scales every channel count.
            """, arity: 2) { call in
            let cin = try call.positiveInteger(1)
            let o = try call.options(2, allowed: ["width"])
            let width = try o?.float("width") ?? 1
            guard width > 0 && width <= 4 else { throw call.error(2, "option 'width': expected a number in (0, 4], got \(width)") }
            return try InceptionBranch(cin, width: width)
        }
        constructor("DBFEM", doc: """
            nn.DBFEM{in_channels=2, classes=5, global="resnet12", widths={64,160,320,640}, fusion="caffm",
                     attention=true, branches="both", fused_channels=256, reduction=16, dropout=0.5,
                     inception_width=0.9, config="paper"|"quick"}
            The seed paper's dual-branch network: ResNet12 (or resnet18/resnet34) global branch and Inception
            local branch, each with CBAM, fused by CAFFM (or "concat"), then GAP, dropout, linear.
            branches="global"|"local" gives the single-branch ablations; config="quick" sets widths 32-64-128-256.
            """, arity: 1) { call in
            let allowed = ["in_channels", "classes", "global", "widths", "fusion", "attention", "branches",
                           "fused_channels", "reduction", "dropout", "inception_width", "config"]
            let o = try call.options(1, allowed: allowed)
            var opts = DBFEMOptions()
            if let config = try o?.string("config") {
                switch config {
                case "paper": opts = .paper
                case "quick": opts = .quick
                default: throw call.error(1, "option 'config': expected \"paper\" or \"quick\", got \"\(config)\"")
                }
            }
            if let v = try o?.value("in_channels", { try call.positiveInteger($0) }) { opts.inChannels = v }
            if let v = try o?.value("classes", { try call.positiveInteger($0) }) { opts.classes = v }
            if let v = try o?.string("global") { opts.global = v }
            if let v = try o?.value("widths", { try call.integerList($0, what: "a table of positive widths", allowVarargs: false, minimum: 1) }) { opts.widths = v }
            if let v = try o?.string("fusion") { opts.fusion = v }
            if let v = try o?.boolean("attention") { opts.attention = v }
            if let v = try o?.string("branches") { opts.branches = v }
            if let v = try o?.value("fused_channels", { try call.positiveInteger($0) }) { opts.fusedChannels = v }
            if let v = try o?.value("reduction", { try call.positiveInteger($0) }) { opts.reduction = v }
            if let v = try o?.float("dropout") { opts.dropout = v }
            if let v = try o?.float("inception_width") { opts.inceptionWidth = v }
            return try DBFEM(opts)
        }
        mer_pop(L, 1)
    }
}
