/// A convolution's weights in the form its forward pass multiplies them, made once and reused
/// while the weights do not change (inference): the packed GEMM panels of the direct path,
/// or a Winograd layer's transformed filters packed per position ξ. At batch 1 these were
/// repeated on every call: the paper model's 1-sample inference spent ~6 % of its time in
/// `transformFilters` and ~17 % in the GEMM driver, mostly packing weights and filters (perf).
///
/// `ConvKernels.forward` uses them only if they were made for the path and blocking it takes
/// now (an algorithm switch in between makes them unused, not wrong); the products are
/// bit-identical to packing on the fly.
public final class ConvPreparedWeights: @unchecked Sendable {
    enum Form {
        /// The direct path's A operand (cout × K), packed for K block `kc`.
        case gemm(PackedMatrix)
        /// U[ξ]ᵀ (cout × cin) per transformed position ξ, for `tile`.
        case winograd(WinogradKernels.Tile, [PackedMatrix])
    }
    let form: Form
    /// The geometry they were made for.
    public let shape: ConvShape
    /// Bytes held.
    public let bytes: Int

    init(_ form: Form, shape: ConvShape) {
        self.form = form
        self.shape = shape
        switch form {
        case .gemm(let p): bytes = p.bytes
        case .winograd(_, let ps): bytes = ps.reduce(0) { $0 + $1.bytes }
        }
    }

    /// Bytes `prepare` would hold for `s` (to check against a memory budget first); 0 when
    /// the forward pass of `s` has nothing to prepare (grouped convolutions, no images, the
    /// few-tap path, which reads the weights as they are).
    public static func bytes(for s: ConvShape) -> Int {
        guard s.n > 0, s.groups == 1, s.problem == nil, !ConvKernels.narrowHandles(s) else { return 0 }
        if let tile = ConvAlgorithm.winogradTile(for: s, pass: .forward, filtersPrepared: true) {
            let alpha = tile.rawValue + 2
            return (alpha * alpha).saturatingTimes(PackedMatrix.bytes(m: s.cout, k: s.cin))
        }
        return PackedMatrix.bytes(m: s.cout, k: s.cin * s.kh * s.kw)
    }

    /// The forward pass's weights of `s`, prepared for the path `ConvKernels.forward` takes now
    /// (nil for grouped convolutions, an empty batch or the few-tap path).
    public static func prepare(_ s: ConvShape, weight: UnsafePointer<Float>) -> ConvPreparedWeights? {
        guard s.n > 0, s.groups == 1, s.problem == nil, !ConvKernels.narrowHandles(s) else { return nil }
        if let tile = ConvAlgorithm.winogradTile(for: s, pass: .forward, filtersPrepared: true) {
            return ConvPreparedWeights(.winograd(tile, WinogradKernels.packFilters(s, tile: tile, weight: weight)), shape: s)
        }
        let l = ConvLowering(s)
        let packed = PackedMatrix(transA: false, m: s.cout, k: l.k, a: weight, lda: l.k,
                                  kcMax: ConvKernels.forwardBlocking(s, l).kc)
        return ConvPreparedWeights(.gemm(packed), shape: s)
    }

    /// Whether `ConvKernels.forward` of `s` would use these now (same layer, same path, same
    /// tile and K blocking).
    public func serves(_ s: ConvShape) -> Bool {
        guard s.n > 0 else { return false }
        if let tile = ConvAlgorithm.winogradTile(for: s, pass: .forward, filtersPrepared: true) { return winograd(for: s, tile: tile) != nil }
        return gemm(for: s) != nil
    }

    /// Whether inference keeps prepared weights with the weight tensors (`Tensor.conv2dBatchNorm`).
    /// `mer-bench --no-weight-cache` turns it off to measure what it saves.
    nonisolated(unsafe) public static var reusedInInference = true

    /// The direct path's packed weights, if these are for `s`'s layer (any batch or image
    /// size) and the K block its forward uses now.
    func gemm(for s: ConvShape) -> PackedMatrix? {
        guard case .gemm(let p) = form, sameLayer(s) else { return nil }
        let l = ConvLowering(s)
        return p.fits(transA: false, m: s.cout, k: l.k, kcMax: ConvKernels.forwardBlocking(s, l).kc) ? p : nil
    }

    /// The packed transformed filters, if these are for `s`'s layer at `tile`.
    func winograd(for s: ConvShape, tile: WinogradKernels.Tile) -> [PackedMatrix]? {
        guard case .winograd(let t, let ps) = form, t == tile, sameLayer(s),
              WinogradKernels.filtersFit(ps, s, tile: tile) else { return nil }
        return ps
    }

    private func sameLayer(_ s: ConvShape) -> Bool {
        var a = s, b = shape
        a.n = 0; b.n = 0; a.h = 0; b.h = 0; a.w = 0; b.w = 0
        return a == b
    }
}
