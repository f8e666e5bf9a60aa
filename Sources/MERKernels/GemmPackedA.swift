/// op(A) packed once, for products that reuse the same A call after call (an inference's
/// convolution weights, a Winograd layer's transformed filters): the driver then reads its
/// micro-panels from here instead of packing A on every call.
///
/// Layout: the K blocks the driver will use (⌈k / kc⌉ blocks of `kc`, the last shorter), each
/// as ⌈m / MR⌉ micro-panels of len×MR floats, exactly what `GemmPacking.packA` writes for a
/// whole M range: block p0 starts at p0·mPad floats and row panel r/MR at (r/MR)·len·MR within
/// it. The driver's per-thread row ranges and M blocks start at multiples of MR, so every
/// (K block, row block) it visits is a contiguous run here, and the products are
/// bit-identical to packing on the fly (tiny products, which skip packing, read their
/// elements back from the panels in the same order).
public final class PackedMatrix: @unchecked Sendable {
    public let transA: Bool
    public let m, k: Int
    /// The K block the product must use (`min(kcMax, k)` of its blocking).
    public let kc: Int
    /// m rounded up to whole micro-panels.
    let mPad: Int
    let panels: UnsafeMutablePointer<Float>

    /// Whether `panels` is this object's own allocation (false: it borrows a caller's buffer).
    private let ownsPanels: Bool

    /// Packs op(A) (m×k; `transA`: A stored k×m) for a product whose blocking has K block
    /// `kcMax`. Work and memory: one copy of op(A), padded to whole panels.
    public convenience init(transA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, kcMax: Int) {
        self.init(uninitializedTransA: transA, m: m, k: k, kcMax: kcMax)
        pack(a, lda: lda)
    }

    /// Writes op(A) (stored as `transA` says, leading dimension `lda`) into the panels.
    func pack(_ a: UnsafePointer<Float>, lda: Int) {
        var p0 = 0
        while p0 < k {
            let len = min(kc, k - p0)
            GemmPacking.packA(transA: transA, a: a, lda: lda, i0: 0, p0: p0, mc: m, kc: len, dst: panels + p0 * mPad)
            p0 += len
        }
    }

    /// An operand whose panels the caller writes (`panelOffset` says where each element goes),
    /// in memory of its own.
    public convenience init(uninitializedTransA transA: Bool, m: Int, k: Int, kcMax: Int) {
        let floats = PackedMatrix.floats(m: m, k: k)
        let panels = UnsafeMutableRawPointer.allocate(byteCount: max(1, floats) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, floats))
        self.init(panels: panels, owned: true, transA: transA, m: m, k: k, kcMax: kcMax)
    }

    /// An operand laid out in `panels` (at least `floats(m:k:)` floats, 64-byte aligned), which
    /// the caller keeps alive and writes: a scratch copy made once per call and used by many
    /// products (a Winograd layer's filters across its chunks).
    convenience init(borrowing panels: UnsafeMutablePointer<Float>, transA: Bool, m: Int, k: Int, kcMax: Int) {
        self.init(panels: panels, owned: false, transA: transA, m: m, k: k, kcMax: kcMax)
    }

    private init(panels: UnsafeMutablePointer<Float>, owned: Bool, transA: Bool, m: Int, k: Int, kcMax: Int) {
        precondition(m > 0 && k > 0 && kcMax > 0, "PackedMatrix: empty or unblocked operand")
        self.transA = transA
        self.m = m
        self.k = k
        kc = min(kcMax, k)
        mPad = PackedMatrix.paddedRows(m)
        self.panels = panels
        ownsPanels = owned
    }

    deinit { if ownsPanels { panels.deallocate() } }

    /// m rounded up to whole micro-panels.
    @inline(__always)
    static func paddedRows(_ m: Int) -> Int { (m + GemmKernel.mr - 1) / GemmKernel.mr * GemmKernel.mr }

    /// Floats an m×k operand's panels take (saturating, for budget checks on hostile shapes).
    static func floats(m: Int, k: Int) -> Int { paddedRows(m).saturatingTimes(k) }

    /// Where op(A)[i][p] lies in the panels of an m×k operand with K block `kc` (its
    /// `min(kcMax, k)`); rows i ≥ m up to the panel edge are the zero padding.
    @inline(__always)
    static func panelOffset(_ i: Int, _ p: Int, m: Int, k: Int, kc: Int) -> Int {
        let mr = GemmKernel.mr, mPad = paddedRows(m)
        let p0 = p / kc * kc, len = min(kc, k - p0)
        return p0 * mPad + (i / mr) * len * mr + (p - p0) * mr + i % mr
    }

    /// Bytes held.
    public var bytes: Int { PackedMatrix.bytes(m: m, k: k) }

    /// Bytes a packed m×k operand holds (saturating, for budget checks before packing).
    public static func bytes(m: Int, k: Int) -> Int { floats(m: m, k: k).saturatingTimes(4) }

    /// The packed block of K block `p0` (length `len`) for rows from `row` (a multiple of MR).
    @inline(__always)
    func block(p0: Int, row: Int, len: Int) -> UnsafeMutablePointer<Float> {
        panels + p0 * mPad + row * len
    }

    /// op(A)[i][p], read back from its panel (for the small-product loop).
    @inline(__always)
    func element(_ i: Int, _ p: Int) -> Float {
        panels[PackedMatrix.panelOffset(i, p, m: m, k: k, kc: kc)]
    }

    /// Whether a product of this shape and K block may read its A from here.
    func fits(transA: Bool, m: Int, k: Int, kcMax: Int) -> Bool {
        self.transA == transA && self.m == m && self.k == k && kc == min(kcMax, k)
    }
}
