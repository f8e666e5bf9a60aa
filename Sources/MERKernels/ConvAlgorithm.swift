/// Which algorithm `ConvKernels.forward / backwardData / backwardWeight` use for the
/// convolutions Winograd can compute (3×3, stride 1, dilation 1, groups 1; see WinogradConv.swift).
///
/// - `direct`: the implicit-im2col GEMM path always (the reference the Winograd tests compare with).
/// - `winograd`: Winograd for every supported shape, with the tile `tile(for:)` picks.
/// - `auto`: Winograd only where it measured faster on this machine type (`autoTile`).
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    case auto, direct, winograd

    /// The process-wide choice (Lua: `mer.conv_algorithm`).
    nonisolated(unsafe) public static var mode: ConvAlgorithm = .auto

    /// The three passes of a convolution layer, which `auto` judges separately.
    public enum Pass: String, Sendable, CaseIterable { case forward, backwardData, backwardWeight }

    /// The Winograd tile `mode` selects for `s` and `pass`, or nil for the direct kernel.
    public static func winogradTile(for s: ConvShape, pass: Pass) -> WinogradKernels.Tile? {
        guard s.n > 0, WinogradKernels.supports(s) else { return nil }
        switch mode {
        case .direct: return nil
        case .winograd: return tile(for: s)
        case .auto: return autoTile(for: s, pass: pass)
        }
    }

    /// The measured rule (`mer-bench --winograd`: 2 threads, the DBFEM layers at batch 32 (quick)
    /// and 16 (paper) and the probe shapes, timed side by side on the shared 2-core Zen 4 VM,
    /// 2026-11-30, 1-minute load 3.4 → 2.8 with other builds running; ratios are direct time /
    /// Winograd F(4,3) time, per pass fwd / data / weight).
    ///
    /// Winograd replaces 9 multiply-adds per output pixel and channel pair by α²/m² in the GEMMs
    /// (4 for F(2,3), 2.25 for F(4,3)) but adds per-tile transforms whose cost grows with one
    /// channel count, not with the pair: with few channels the transforms dominate.
    /// - 2 → 64 @112 (first ResNet12 conv): 0.50 / 0.26 / 0.44; probes 4, 8, 16 → 32 @64: 0.25–0.86.
    /// - 29–32 channels still lose: 32 → 32 @64 0.71 / 0.72 / 0.61, 32 → 64 @32 1.01 / 0.79 / 0.95,
    ///   Inception 29 → 58 @32 0.92 / 0.70 / 0.88 (at @56 1.26 / 1.06 / 1.17).
    /// - From 58 channels every pass wins: 58 → 86 @15 1.27 / 1.08 / 1.10, 64 → 64 @32
    ///   1.20 / 1.15 / 1.09, 64 → 64 @112 1.28 / 1.73 / 1.54, 160 → 160 @56 1.75 / 2.07 / 2.12,
    ///   320 → 320 @28 2.22 / 2.22 / 2.51, 640 → 640 @14 2.41 / 2.33 / 2.67.
    ///
    /// Tile: F(4,3) unless its overhang makes its GEMM work no smaller than F(2,3)'s, i.e.
    /// α²·⌈hout/m⌉·⌈wout/m⌉ (36·tiles₄ against 16·tiles₂); ties go to F(2,3), whose transforms are
    /// cheaper and more accurate. Every DBFEM grid (8…112) has F(4,3) ahead on that count and
    /// measured 1.2–2× faster than F(2,3) (640 → 640 @14: 57 against 96 ms forward despite the
    /// 16/14 overhang). At 128 channels the 6×6 tie ran 1.83 / 1.95 / 2.14 ms on F(2,3) against
    /// 2.33 / 1.93 / 2.09 on F(4,3), 5×5 1.95 / 1.75 / 1.76 against 1.77 / 1.87 / 1.80, while 4×4
    /// and 7×7 favour F(4,3) (7×7: 2.93 / 3.21 / 3.16 against 1.92 / 2.07 / 2.16).
    /// The three passes share the rule: no pass had a different channel crossover. (One probe
    /// pass, 128 → 128 @5 backward-weight, ran 0.93× of direct on F(2,3): no DBFEM layer is that small.)
    ///
    /// Tiles: U holds α²/9 = 4× the weights and is rebuilt and streamed from memory every call,
    /// so with few tiles per call (batch-1 inference on small grids) the GEMMs are bound by
    /// reading U. Batch 1 (`--batch 1`, load ~5): 16 tiles lose on wide layers (640 → 640 @14
    /// forward 0.50×, 320 → 640 @14 0.55×, 256 → 256 @8 (4 tiles) 0.14–0.51×) and are mixed at
    /// 58–173 channels @15 (0.79–1.33×); 49 tiles (@27–28) win or tie (320 → 320 @28 1.02 /
    /// 1.43 / 2.07, Inception @27 1.09–1.64); 196 and 784 tiles win (1.5–2.5× at 64–160 @56–112,
    /// except 64 → 160 @56 backward-data 0.78×). Hence Winograd only from `autoMinTiles` tiles.
    public static func autoTile(for s: ConvShape, pass: Pass) -> WinogradKernels.Tile? {
        if min(s.cin, s.cout) < autoMinChannels { return nil }
        let t = tile(for: s), m = t.rawValue
        let tiles = s.n * ((s.hout + m - 1) / m) * ((s.wout + m - 1) / m)
        return tiles < autoMinTiles ? nil : t
    }

    /// The tile with the smaller GEMM work (see `autoTile`).
    public static func tile(for s: ConvShape) -> WinogradKernels.Tile {
        let work4 = 36 * ((s.hout + 3) / 4) * ((s.wout + 3) / 4)
        let work2 = 16 * ((s.hout + 1) / 2) * ((s.wout + 1) / 2)
        return work4 < work2 ? .f4 : .f2
    }

    /// Below this many channels (the smaller of cin, cout) `auto` stays direct: between the
    /// measured 32 (slower) and 58 (all passes faster).
    nonisolated(unsafe) public static var autoMinChannels = 48

    /// Below this many output tiles per call (batch × tiles per image) `auto` stays direct:
    /// between the measured 16 (slower on wide layers) and 49 (faster or equal).
    nonisolated(unsafe) public static var autoMinTiles = 48
}
