/// Which algorithm `ConvKernels.forward / backwardData / backwardWeight` use for the
/// convolutions Winograd can compute (3×3, stride 1, dilation 1, groups 1; see WinogradConv.swift).
///
/// - `direct`: the implicit-im2col GEMM path always (the reference the Winograd tests compare with).
/// - `winograd`: Winograd for every supported shape, with the tile `auto` would pick or F(4×4)
///   where `auto` would stay direct.
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
        case .winograd: return autoTile(for: s, pass: pass) ?? .f4
        case .auto: return autoTile(for: s, pass: pass)
        }
    }

    /// The measured rule (mer-bench --winograd, 2 threads, batch 32, see the table in
    /// WinogradKernels' figures below). Winograd replaces 9 multiply-adds per output pixel and
    /// input channel by α²/m² (2.25 for F(4,3)) in the GEMMs, but adds per-tile transforms whose
    /// cost is per channel, not per channel pair: the GEMM share shrinks with the channel count,
    /// so narrow layers (the 2-channel first conv, 32-wide quick-config blocks) stay direct.
    public static func autoTile(for s: ConvShape, pass: Pass) -> WinogradKernels.Tile? {
        let narrow = min(s.cin, s.cout)
        if narrow < autoMinChannels { return nil }
        return .f4
    }

    /// Below this many channels (the smaller of cin, cout) `auto` stays direct.
    nonisolated(unsafe) public static var autoMinChannels = 32
}
