/// 16×16 transpose of float32 blocks in registers, for packing routines whose source runs
/// along the other dimension than their destination (a GEMM's 12-row A panels from row-major
/// A, Winograd's channel-vectorised layouts from tile-vectorised transforms).
///
/// Four rounds of the perfect shuffle: round s interleaves rows i and i + 8 (i < 8) into
/// rows 2i and 2i + 1 (the low and high halves of the 32-lane zip). Each round moves one bit
/// of the column index into the row index, so after four the block is transposed. A zip is
/// two `vpermt2ps`: 64 shuffles per 256 floats, where the scatters or gathers they replace
/// took one memory access per float.
enum Transpose16 {
    typealias V = SIMD16<Float>
    /// The 16 rows of a block (row i = lanes i·16 …).
    typealias Block = (V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V)

    /// (a0, b0, a1, b1, …, a7, b7) and (a8, b8, …, a15, b15). Written as lane lists, which
    /// LLVM folds into one two-source permute each (`SIMD32`'s evenHalf/oddHalf setters went
    /// through the stack).
    @inline(__always)
    private static func zip(_ a: V, _ b: V) -> (V, V) {
        (V(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]),
         V(a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15]))
    }

    /// One perfect-shuffle round: (r0, r8) → rows 0, 1; (r1, r9) → rows 2, 3; …
    @inline(__always)
    private static func round(_ r: Block) -> Block {
        let (o0, o1) = zip(r.0, r.8)
        let (o2, o3) = zip(r.1, r.9)
        let (o4, o5) = zip(r.2, r.10)
        let (o6, o7) = zip(r.3, r.11)
        let (o8, o9) = zip(r.4, r.12)
        let (o10, o11) = zip(r.5, r.13)
        let (o12, o13) = zip(r.6, r.14)
        let (o14, o15) = zip(r.7, r.15)
        return (o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10, o11, o12, o13, o14, o15)
    }

    /// The transpose of `r`: lane j of row i becomes lane i of row j.
    @inline(__always)
    static func transpose(_ r: Block) -> Block { round(round(round(round(r)))) }
}
