/// Forward convolutions with few taps per output: cin·kh·kw ≤ `narrowMaxTaps`, stride 1,
/// dilation 1, one group, not 1×1. These are the first convolution of DBFEM's global branch,
/// which reads the 2-channel onset–apex input (3×3 2 → 32 @64 in quick, 2 → 64 @112 in
/// paper). Lowered to GEMM their K of 2–18 made each 12×32 register tile store its 384 floats
/// after 2–18 k steps, and the implicit im2col built K × P panels for a few multiply-adds
/// each: 26 GFLOP/s on one thread for 3×3 2 → 32 @64 at batch 1, against 80–90 for the other
/// direct layers (`mer-bench --model-profile quick-infer --by-layer --threads 1`).
///
/// Here the image is copied once into zero-padded planes, 16 neighbouring outputs of a row are
/// one vector, each tap is one unaligned load, and 8 output channels share it. Each output is
/// the GEMM path's FMA chain (k = (ci·kh + ky)·kw + kx in order, from +0, padding taps
/// included as zeros; K ≤ 64 is one K block there), so the two paths give the same bits
/// (ConvTests compare them with `narrowInputKernel` off). The bias or epilogue follows as
/// on the GEMM path (`finishForward`).
extension ConvKernels {
    /// Whether `forward` takes this path where it applies (tests compare with it off).
    nonisolated(unsafe) public static var narrowInputKernel = true

    /// Most taps (cin·kh·kw) per output this path takes: one K block of the GEMM path, and few
    /// enough that its weights for 8 channels stay in L1.
    static let narrowMaxTaps = 64

    /// Most floats of padded image copy and weights this path allocates (16 MB; the batch's
    /// first layers take 0.1–2 MB): larger inputs go through GEMM's implicit im2col, which
    /// needs no copy.
    static let narrowMaxScratchFloats = 1 << 22

    /// Not 1×1 kernels: their GEMM takes the input planes as B unpacked and ran faster (2 → 32
    /// @64, batch 1, 2 threads: 16 µs a call against 28 here, where the 8 channels' stores
    /// dominate); 3×3 2 → 32 @64 ran 70 µs through GEMM and 34 here.
    static func narrowHandles(_ s: ConvShape) -> Bool {
        narrowInputKernel && s.n > 0 && s.groups == 1 && s.strideH == 1 && s.strideW == 1 && s.dilH == 1 && s.dilW == 1
            && s.kh * s.kw > 1 && s.cin * s.kh * s.kw <= narrowMaxTaps && narrowScratchFloats(s) <= narrowMaxScratchFloats
    }

    /// Whether `forward` takes the few-tap path for `s` now (for tests).
    public static func takesNarrowPath(_ s: ConvShape) -> Bool { narrowHandles(s) }

    /// Rows and row width of the padded planes (padH zero rows above and below; padW zero
    /// columns on the left and zeros on the right up to the last block's farthest load,
    /// x0 + kw − 1 + 15).
    static func narrowPlane(_ s: ConvShape) -> (rows: Int, width: Int) {
        let blocks = (s.wout + 15) / 16
        return (s.h + 2 * s.padH, max(s.w + 2 * s.padW, blocks * 16 + s.kw - 1))
    }

    /// Floats `narrowForward` allocates: the padded planes and the weights in 8-channel groups
    /// (saturating: called on any valid shape).
    static func narrowScratchFloats(_ s: ConvShape) -> Int {
        let (rows, width) = narrowPlane(s)
        let planes = s.n.saturatingTimes(s.cin).saturatingTimes(rows.saturatingTimes(width))
        return planes.saturatingPlus(((s.cout + 7) / 8 * 8).saturatingTimes(s.cin * s.kh * s.kw))
    }

    /// output (n, cout, hout, wout) = the raw correlation sums (no bias), `narrowHandles(s)`.
    static func narrowForward(_ s: ConvShape, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                              output: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        let taps = s.cin * s.kh * s.kw, hout = s.hout, wout = s.wout
        let blocks = (wout + 15) / 16
        let (rows, width) = narrowPlane(s)
        let planes = s.n * s.cin, planeSize = rows * width
        let staged = UnsafeMutablePointer<Float>.allocate(capacity: planes * planeSize)
        defer { staged.deallocate() }
        // Weights of 8-channel groups, tap-major (the group's 8 weights of tap k side by side,
        // so one pointer with constant offsets feeds the 8 broadcasts), zeros past cout: every
        // group runs 8 chains.
        let groups = (s.cout + 7) / 8
        let w8 = UnsafeMutablePointer<Float>.allocate(capacity: groups * 8 * taps)
        defer { w8.deallocate() }
        w8.initialize(repeating: 0, count: groups * 8 * taps)
        for co in 0..<s.cout {
            for k in 0..<taps { w8[(co / 8 * taps + k) * 8 + co % 8] = weight[co * taps + k] }
        }
        let box = UncheckedSendable((input, staged, UnsafePointer(w8), output))
        Parallel.forRanges(planes, threads: planes * planeSize >= Parallel.minimumElements ? Parallel.threads : 1) { range in
            for pl in range {
                let dst = box.value.1 + pl * planeSize, src = box.value.0 + pl * s.h * s.w
                dst.initialize(repeating: 0, count: planeSize)
                for y in 0..<s.h { (dst + (y + s.padH) * width + s.padW).update(from: src + y * s.w, count: s.w) }
            }
        }
        let units = s.n * hout
        let work = units * groups * blocks * taps
        Parallel.forRanges(units, threads: work >= 4096 ? Parallel.threads : 1) { range in
            let (_, staged, w8, output) = box.value
            for unit in range {
                let img = unit / hout, oy = unit % hout
                let image = staged + img * s.cin * planeSize
                for g in 0..<groups {
                    let wg = w8 + g * 8 * taps
                    let count = min(8, s.cout - g * 8)
                    for xb in 0..<blocks {
                        let x0 = xb * 16
                        var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V()
                        var k = 0
                        for ci in 0..<s.cin {
                            for ky in 0..<s.kh {
                                let row = UnsafeRawPointer(image + ci * planeSize + (oy + ky) * width + x0)
                                for kx in 0..<s.kw {
                                    let x = row.loadUnaligned(fromByteOffset: 4 * kx, as: V.self)
                                    let wk = wg + k * 8
                                    a0 = a0.addingProduct(V(repeating: wk[0]), x)
                                    a1 = a1.addingProduct(V(repeating: wk[1]), x)
                                    a2 = a2.addingProduct(V(repeating: wk[2]), x)
                                    a3 = a3.addingProduct(V(repeating: wk[3]), x)
                                    a4 = a4.addingProduct(V(repeating: wk[4]), x)
                                    a5 = a5.addingProduct(V(repeating: wk[5]), x)
                                    a6 = a6.addingProduct(V(repeating: wk[6]), x)
                                    a7 = a7.addingProduct(V(repeating: wk[7]), x)
                                    k += 1
                                }
                            }
                        }
                        let lanes = min(16, wout - x0)
                        @inline(__always) func put(_ i: Int, _ acc: V) {
                            guard i < count else { return }
                            let q = output + ((img * s.cout + g * 8 + i) * hout + oy) * wout + x0
                            if lanes == 16 { UnsafeMutableRawPointer(q).storeBytes(of: acc, as: V.self) }
                            else { for l in 0..<lanes { q[l] = acc[l] } }
                        }
                        put(0, a0); put(1, a1); put(2, a2); put(3, a3); put(4, a4); put(5, a5); put(6, a6); put(7, a7)
                    }
                }
            }
        }
    }
}
