/// How much scratch memory a convolution pass takes besides its inputs and outputs, so
/// that the tensor layer can check it against the memory budget before running the pass.
///
/// Why it matters: the lowering's column buffers grow with (input channels · taps) × output
/// pixels, which can be thousands of times the output (a 1000-channel 1×1 input padded by
/// 3000 asked for 144 GB and aborted the process). The figures are upper bounds computed
/// from the same decisions the kernels make (algorithm, tile, worker count), saturating
/// instead of overflowing.
extension ConvKernels {
    /// `filtersPrepared`: as for `ConvAlgorithm.winogradTile` (the forward pass of inference
    /// with `ConvPreparedWeights`, which may take another path).
    public static func scratchBytes(_ s: ConvShape, pass: ConvAlgorithm.Pass, filtersPrepared: Bool = false) -> Int {
        guard s.n > 0 else { return 0 }
        if let tile = ConvAlgorithm.winogradTile(for: s, pass: pass, filtersPrepared: filtersPrepared) {
            return WinogradKernels.scratchFloats(s, tile: tile, pass: pass).saturatingTimes(4)
        }
        if pass == .forward && ConvKernels.narrowHandles(s) { return ConvKernels.narrowScratchFloats(s).saturatingTimes(4) }
        let l = ConvLowering(s)
        switch pass {
        case .forward:
            let packed = ConvKernels.packsWeightsPerCall(s, l) ? PackedMatrix.bytes(m: s.cout, k: l.k) : 0
            // (The implicit path allocates no columns; counted all the same, as before.)
            return l.parts.saturatingTimes(l.forwardColsCount(s.n, implicit: false)).saturatingTimes(4).saturatingPlus(packed)
        case .backwardData:
            return l.parts.saturatingTimes(l.dataColsCount(s.n)).saturatingTimes(4)
        case .backwardWeight:
            return l.parts.saturatingTimes(s.cout.saturatingTimes(l.k).saturatingPlus(l.paddedImageCount)).saturatingTimes(4)
        }
    }
}

extension WinogradKernels {
    /// Floats of workspace one pass takes (see `run` and `runWeight`): the transformed filters,
    /// plus per-worker transformed-input and product buffers of one chunk of tiles.
    static func scratchFloats(_ s: ConvShape, tile: Tile, pass: ConvAlgorithm.Pass) -> Int {
        let forwardLike = pass != .backwardData
        let geo = Geometry(n: s.n, cIn: forwardLike ? s.cin : s.cout, cOut: forwardLike ? s.cout : s.cin,
                           inH: forwardLike ? s.h : s.hout, inW: forwardLike ? s.w : s.wout,
                           outH: forwardLike ? s.hout : s.h, outW: forwardLike ? s.wout : s.w,
                           offY: 0, offX: 0, m: tile.rawValue)
        let a2 = geo.alpha * geo.alpha, workers = max(Parallel.threads, weightSlots)
        // U as packed panels (cout rounded up to whole 12-row panels, each ξ on whole lines).
        let u = a2.saturatingTimes(geo.cIn.saturatingTimes(geo.cOut + GemmKernel.mr).saturatingPlus(16))
        let v = a2.saturatingTimes(geo.cIn).saturatingTimes(geo.tp)
        let m = a2.saturatingTimes(geo.tp).saturatingTimes(geo.cOut + 16)
        let rows = (geo.rowsPerChunk + 1).saturatingTimes(geo.alpha).saturatingTimes(geo.rowWidth)
        return workers.saturatingTimes(u.saturatingPlus(v).saturatingPlus(m).saturatingPlus(rows).saturatingPlus(1024))
    }
}

extension Int {
    func saturatingTimes(_ other: Int) -> Int {
        let (r, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? Int.max : r
    }
    func saturatingPlus(_ other: Int) -> Int {
        let (r, overflow) = addingReportingOverflow(other)
        return overflow ? Int.max : r
    }
}
