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
    /// `filtersPrepared`: a forward pass whose weights are prepared once for many calls
    /// (inference, `ConvPreparedWeights`), so the filter transform costs it nothing.
    public static func winogradTile(for s: ConvShape, pass: Pass, filtersPrepared: Bool = false) -> WinogradKernels.Tile? {
        guard s.n > 0, WinogradKernels.supports(s) else { return nil }
        switch mode {
        case .direct: return nil
        case .winograd: return tile(for: s)
        case .auto: return autoTile(for: s, pass: pass, filtersPrepared: filtersPrepared && pass == .forward)
        }
    }

    /// The measured rule (`mer-bench --winograd`: 2 threads, the DBFEM layers at batch 32 (quick)
    /// and 16 (paper) and the probe shapes, timed side by side on the shared 2-core Zen 4 VM,
    /// 2026-11-30 01:00–01:17 UTC, 1-minute load 1.7–3.5 with other builds running). Ratios are
    /// direct time / Winograd F(4,3) time per pass, forward / backward-data / backward-weight.
    ///
    /// Winograd replaces 9 multiply-adds per output pixel and channel pair by α²/m² in the GEMMs
    /// (4 for F(2,3), 2.25 for F(4,3)) but adds per-tile transforms whose cost grows with one
    /// channel count, not with the pair, and its GEMMs have K = cin instead of 9·cin: with few
    /// channels the transforms and the short-K GEMMs lose.
    /// - 2 → 64 @112 (first ResNet12 conv): 0.41 / 0.27 / 0.48; 2 → 32 @64 0.38 / 0.19 / 0.34.
    /// - 8 and 16 channels (probes → 32 @64, 16 → 16 @64): mixed, 0.71–1.88; 16 → 32 backward-data
    ///   and backward-weight 1.00–1.28, 8 → 32 backward-data 0.71–1.10.
    /// - 29–32 channels win in every pass (three rounds at load 3.0–3.4 for forward / data, and
    ///   three of the final code's weight pass at load 2.0): 32 → 32 @64 1.57–2.82 / 1.21–2.23 /
    ///   1.02–1.12, 32 → 64 @32 1.36–1.69 / 1.39–1.56 / 1.16–1.22, Inception 29 → 58 @32
    ///   1.28–1.68 / 1.33–1.41 / 1.09–1.80 and @56 1.11–1.71 / 1.28–1.33 / 1.20–2.14.
    /// - Wider layers win more (load 1.7): 64 → 64 @112 1.57 / 1.93 / 1.40, 160 → 160 @56
    ///   2.14 / 2.07 / 2.12, 320 → 320 @28 2.24 / 2.26 / 2.35, 640 → 640 @14 2.31 / 2.24 / 2.51.
    ///
    /// Tile: F(4,3) unless its overhang makes its GEMM work larger than F(2,3)'s, i.e.
    /// α²·⌈hout/m⌉·⌈wout/m⌉ (36·tiles₄ against 16·tiles₂), which happens only for outputs of 1–2
    /// rows or columns. F(4,3) measured faster than F(2,3) on every DBFEM grid (8…112; 640 → 640
    /// @14 58 against 74 ms forward despite the 16/14 overhang): per output pixel F(2,3)
    /// transforms 4 values against F(4,3)'s 2.25. Where the two tie on that count (the 5×5 and
    /// 6×6 probes) they ran within ~10 % of each other, either way round from run to run; the
    /// tie goes to F(4,3) to keep one rule.
    /// The three passes share the rule: no pass had a different channel crossover. (Probe
    /// 128 → 128 @5 backward-data and -weight ran 0.85–0.96× of direct: no DBFEM layer is that
    /// small.)
    public static func autoTile(for s: ConvShape, pass: Pass, filtersPrepared: Bool = false) -> WinogradKernels.Tile? {
        if filtersPrepared { return preparedTile(for: s) }
        if min(s.cin, s.cout) < autoMinChannels { return nil }
        let t = tile(for: s)
        return tiles(s, t) < autoMinTiles ? nil : t
    }

    /// The rule for a forward pass whose filters are prepared once for many calls (inference
    /// with `ConvPreparedWeights`), measured at batch 1 (`mer-bench --winograd --batch 1`,
    /// "infer" rows, 2 threads, 2026-11-30, after the GEMM's edge kernels made a partial
    /// panel of 16 or 17 columns cost its own width), ms direct / F(2,3) / F(4,3):
    /// - U costs nothing per call, and the narrow layers' chunks run one per worker (`run`),
    ///   so Winograd wins from 16 tiles and 8 channels up: 32 → 32 @64 0.43 / 0.32 / 0.17,
    ///   8 → 32 @64 0.15 / 0.12 / 0.08, 64 → 128 @16 (16 tiles) 0.18 / 0.14 / 0.10, Inception
    ///   72 → 173 @15 (16 tiles) 0.27 / 0.20 / 0.13, 160 → 160 @56 6.74 / 3.87 / 2.14.
    /// - The 14×14 maps of the widest layers take F(4,3) too (16 tiles): 640 → 640 6.70 / 4.01
    ///   / 3.10, 320 → 640 3.43 / 2.01 / 1.61. (Before the edge kernels F(4,3)'s 16 columns
    ///   filled a 32-wide panel and F(2,3)'s 49 tiles won: 4.72 against 5.73 at 640 → 640.)
    /// - Maps too small for 16 tiles of F(4,3) but with 16 of F(2,3) (7×7, 8×8) take F(2,3)
    ///   when both channel counts are ≥ 64: 256 → 256 @8 0.35 / 0.23 / 0.28, 128 → 256 @8
    ///   0.18 / 0.13 / 0.15, 128 → 128 @7 0.09 / 0.08 / 0.10; only these wide layers were
    ///   measured there. Fewer tiles stay direct: 4 → 32 @64 0.10 / 0.16 / 0.09 is a tie, and
    ///   on 4–6 pixel maps direct wins (128 → 128 @6 0.07 / 0.08 / 0.10, @4 0.03 / 0.06 / 1.10).
    static func preparedTile(for s: ConvShape) -> WinogradKernels.Tile? {
        if min(s.cin, s.cout) < 8 { return nil }
        let t = tile(for: s)
        if tiles(s, t) >= 16 { return t }
        if min(s.cin, s.cout) >= 64 && tiles(s, .f2) >= 16 { return .f2 }
        return nil
    }

    /// Output tiles of one call (batch × tiles per image) at tile `t`.
    static func tiles(_ s: ConvShape, _ t: WinogradKernels.Tile) -> Int { s.n * tilesPerImage(s, t) }

    /// Output tiles of one image at tile `t` (⌈hout/m⌉·⌈wout/m⌉).
    static func tilesPerImage(_ s: ConvShape, _ t: WinogradKernels.Tile) -> Int {
        let m = t.rawValue
        return ((s.hout + m - 1) / m) * ((s.wout + m - 1) / m)
    }

    /// The tile with the smaller GEMM work (see `autoTile`).
    public static func tile(for s: ConvShape) -> WinogradKernels.Tile {
        36 * tilesPerImage(s, .f4) <= 16 * tilesPerImage(s, .f2) ? .f4 : .f2
    }

    /// Below this many channels (the smaller of cin, cout) `auto` stays direct: between the
    /// measured 16 (mixed) and 29 (every pass faster).
    nonisolated(unsafe) public static var autoMinChannels = 24

    /// Below this many output tiles per call (batch × tiles per image) `auto` stays direct:
    /// between the measured 16 (slower on wide layers) and 49 (faster or equal).
    nonisolated(unsafe) public static var autoMinTiles = 48
}
