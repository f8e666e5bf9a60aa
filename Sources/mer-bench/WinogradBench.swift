import MERKernels

/// `--winograd`: direct vs Winograd F(2×2,3×3) / F(4×4,3×3) on the DBFEM's 3×3 stride-1 layers,
/// each pass timed separately, and the forward pass again with prepared weights ("infer", as
/// inference runs it); the table behind `ConvAlgorithm.autoTile`.
///
/// Layers: ResNet12 (two convs per width: the stage's first, cin → width, and width → width)
/// and the Inception branch's stride-1 3×3 convs (width 0.9: Conv2d_2a 29→58, Conv2d_4a 72→173,
/// Inception-A / reduction 58→86 and 86→86), at the quick config (64 px, batch 32) and the
/// paper config (112 px, batch 16), then a few probe shapes. GFLOP/s count the direct multiply-adds (2·n·cout·hout·wout·cin·9)
/// for every algorithm, so a faster algorithm shows as a higher rate, possibly above the peak.
let winogradBenchLayers: [(String, ConvShape)] = {
    func conv(_ n: Int, _ cin: Int, _ cout: Int, _ size: Int) -> ConvShape {
        ConvShape(n: n, cin: cin, h: size, w: size, cout: cout, kh: 3, kw: 3, padH: 1, padW: 1)
    }
    var layers: [(String, ConvShape)] = []
    for (cfg, n, size, widths) in [("quick", 32, 64, [32, 64, 128, 256]), ("paper", 16, 112, [64, 160, 320, 640])] {
        var side = size, cin = 2
        for wd in widths {
            layers.append(("\(cfg) res12 \(cin)->\(wd) @\(side)", conv(n, cin, wd, side)))
            layers.append(("\(cfg) res12 \(wd)->\(wd) @\(side)", conv(n, wd, wd, side)))
            cin = wd; side /= 2
        }
        // Inception stem after the stride-2 conv (size/2), then the 3×3/2 max-pool grid.
        let stem = size / 2, grid = (stem - 3) / 2 + 1
        layers.append(("\(cfg) incep 29->58 @\(stem)", conv(n, 29, 58, stem)))
        layers.append(("\(cfg) incep 72->173 @\(grid)", conv(n, 72, 173, grid)))
        layers.append(("\(cfg) incep 58->86 @\(grid)", conv(n, 58, 86, grid)))
        layers.append(("\(cfg) incep 86->86 @\(grid)", conv(n, 86, 86, grid)))
    }
    // Not DBFEM layers: probes for the rule's edges (few channels; grids where F(4,3)'s tiles
    // overhang the image more than F(2,3)'s).
    for c in [4, 8, 16] { layers.append(("probe \(c)->32 @64", conv(32, c, 32, 64))) }
    layers.append(("probe 16->16 @64", conv(32, 16, 16, 64)))
    for side in [4, 5, 6, 7] { layers.append(("probe 128->128 @\(side)", conv(32, 128, 128, side))) }
    return layers
}()

struct WinogradRow {
    var name: String
    var pass: ConvAlgorithm.Pass
    /// The forward pass with prepared weights (inference), shown as "infer".
    var prepared = false
    /// Seconds per call: direct, F(2,3), F(4,3).
    var direct, f2, f4: Double
    var flops: Double
    var auto: WinogradKernels.Tile?
}

enum WinogradBench {
    static func run(_ ctx: BenchContext) -> [WinogradRow] {
        let reps = ctx.options.quick ? 1 : 3
        Parallel.threads = ctx.options.threads
        var rows: [WinogradRow] = []
        for (name, shape) in winogradBenchLayers where ctx.options.convFilter.map({ name.contains($0) }) ?? true {
            var s = shape
            if let n = ctx.options.batch { s.n = n }
            let b = ConvBuffers(s)
            let saved = ConvAlgorithm.mode
            ConvAlgorithm.mode = .direct
            let direct = [Bench.bestTime(reps: reps) { b.forward() },
                          Bench.bestTime(reps: reps) { b.backwardData() },
                          Bench.bestTime(reps: reps) { b.backwardWeight() }]
            ConvAlgorithm.mode = saved
            var wino: [WinogradKernels.Tile: [Double]] = [:]
            for tile in WinogradKernels.Tile.allCases {
                wino[tile] = [
                    Bench.bestTime(reps: reps) {
                        WinogradKernels.forward(s, tile: tile, input: b.input, weight: b.weight, bias: b.bias, output: b.output)
                    },
                    Bench.bestTime(reps: reps) {
                        WinogradKernels.backwardData(s, tile: tile, gradOutput: b.gradOut, weight: b.weight, gradInput: b.gradIn)
                    },
                    Bench.bestTime(reps: reps) {
                        WinogradKernels.backwardWeight(s, tile: tile, input: b.input, gradOutput: b.gradOut,
                                                       gradWeight: b.gradW, gradBias: b.gradB)
                    },
                ]
            }
            let label = name + (ctx.options.batch.map { " b\($0)" } ?? "")
            for (k, pass) in ConvAlgorithm.Pass.allCases.enumerated() {
                rows.append(WinogradRow(name: label, pass: pass,
                                        direct: direct[k], f2: wino[.f2]![k], f4: wino[.f4]![k],
                                        flops: s.forwardFLOPs, auto: ConvAlgorithm.autoTile(for: s, pass: pass)))
            }
            // Inference: the forward pass with its weights prepared once (ConvPreparedWeights),
            // packed GEMM panels for direct, packed transformed filters for Winograd.
            ConvAlgorithm.mode = .direct
            let packed = ConvPreparedWeights.prepare(s, weight: b.weight)
            let directPrepared = Bench.bestTime(reps: reps) {
                ConvKernels.forward(s, input: b.input, weight: b.weight, bias: b.bias, output: b.output, prepared: packed)
            }
            ConvAlgorithm.mode = saved
            var winoPrepared: [WinogradKernels.Tile: Double] = [:]
            for tile in WinogradKernels.Tile.allCases {
                let filters = WinogradKernels.packFilters(s, tile: tile, weight: b.weight)
                winoPrepared[tile] = Bench.bestTime(reps: reps) {
                    WinogradKernels.forward(s, tile: tile, input: b.input, weight: b.weight, bias: b.bias, output: b.output,
                                            packedFilters: filters)
                }
            }
            rows.append(WinogradRow(name: label, pass: .forward, prepared: true, direct: directPrepared,
                                    f2: winoPrepared[.f2]!, f4: winoPrepared[.f4]!, flops: s.forwardFLOPs,
                                    auto: ConvAlgorithm.autoTile(for: s, pass: .forward, filtersPrepared: true)))
        }
        return rows
    }

    static func table(_ rows: [WinogradRow], peakAll: Double, threads: Int) -> String {
        func f(_ x: Double, _ d: Int) -> String {
            var p = 1.0
            for _ in 0..<d { p *= 10 }
            let r = (x * p).rounded() / p
            var s = "\(r)"
            if let dot = s.firstIndex(of: ".") {
                let frac = s.distance(from: dot, to: s.endIndex) - 1
                if frac < d { s += String(repeating: "0", count: d - frac) }
            }
            return s
        }
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
        func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? " " + s : String(repeating: " ", count: w - s.count) + s }
        let passName: [ConvAlgorithm.Pass: String] = [.forward: "fwd", .backwardData: "data", .backwardWeight: "weight"]
        var s = "\n" + pad("winograd 3x3 s1 (\(threads) threads)", 34) + pad("pass", 7) + lpad("direct ms", 10) + lpad("F2 ms", 9)
            + lpad("F4 ms", 9) + lpad("GF/s dir", 9) + lpad("F2", 7) + lpad("F4", 7) + lpad("best×", 7) + lpad("%peak", 7)
            + lpad("auto", 6) + "\n"
        for r in rows {
            let g = { (t: Double) in r.flops / t / 1e9 }
            let best = min(r.f2, r.f4)
            let autoT = r.auto.map { $0 == .f2 ? r.f2 : r.f4 } ?? r.direct
            s += pad(r.name, 34) + pad(r.prepared ? "infer" : passName[r.pass]!, 7) + lpad(f(r.direct * 1e3, 2), 10) + lpad(f(r.f2 * 1e3, 2), 9)
                + lpad(f(r.f4 * 1e3, 2), 9) + lpad(f(g(r.direct), 1), 9) + lpad(f(g(r.f2), 1), 7) + lpad(f(g(r.f4), 1), 7)
                + lpad(f(r.direct / best, 2), 7) + lpad(f(100 * g(autoT) / peakAll, 0), 7)
                + lpad(r.auto.map { $0 == .f2 ? "F2" : "F4" } ?? "dir", 6) + "\n"
        }
        s += "(GF/s: direct-equivalent FLOPs (2·n·cout·hout·wout·cin·9) / time; best× = direct / best Winograd time;\n"
        s += " %peak = the auto choice's GF/s against the measured all-thread FMA peak \(f(peakAll, 1)) GFLOP/s)\n"
        return s
    }
}
