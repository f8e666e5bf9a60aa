/// Average pooling's backward as a gather: every input pixel sums, 16 pixels at a time in
/// registers, the dOut/divisor of the windows that hold it, and is written once.
///
/// The scatter form (each output adds its dOut/divisor to the 16-float rows of its window, one
/// tap after another) stored and reloaded overlapping unaligned vectors one float apart, and
/// every reload waited for the store before it (no store forwarding across a partial overlap):
/// 3 × 3 pooling at stride 1 on DBFEM quick's 15 × 15 Inception grid took 3.3 ms per call at
/// batch 32 (`mer-bench --model-profile quick`, avg_pool2d backward 10 ms a step).
///
/// Bit-identical to `avgBackwardReference` (PoolKernelTests): the reference visits the outputs
/// row by row, left to right, so a pixel receives its terms in output order (oy, then ox); here
/// each pixel adds them in that order too (window rows ascending, then taps kx = kw − 1 … 0,
/// i.e. ox = ix + padW − kx ascending), starting from +0 as the reference's zeroed gradient.
/// Lanes whose ox lies outside the output read +0 from the quotient rows' zero border; adding
/// +0 leaves a sum that started at +0 unchanged (it is never −0). The quotients are the
/// reference's own (dOut / `avgWindow`'s divisor). Windows are geometric ranges clipped to the
/// input (`avgWindow`), so row iy lies in the windows of oy with oy·sh − ph ≤ iy < oy·sh − ph + kh.
extension PoolKernels {
    /// gradInput (n,c,h,w) from gradOutput (n,c,hout,wout); overwrites gradInput. Stride 1
    /// horizontally (any vertical stride, padding, ceil mode); other strides run the reference.
    public static func avgBackward(_ s: PoolShape, countIncludePad: Bool, gradOutput: UnsafePointer<Float>,
                                   gradInput: UnsafeMutablePointer<Float>) {
        guard s.n > 0 else { return }
        guard s.strideW == 1 else {
            avgBackwardReference(s, countIncludePad: countIncludePad, gradOutput: gradOutput, gradInput: gradInput)
            return
        }
        let hout = s.hout, wout = s.wout, plane = s.h * s.w, oplane = hout * wout
        // Quotient rows q[oy][left + ox] = dOut[oy][ox] / divisor, +0 elsewhere. The block of
        // pixels ix … ix + 15 reads columns left + ix + padW − kx + (0 … 15): at least
        // left − kw + 1 + padW ≥ 1, at most left + w + padW + 14 (pixels past the row are
        // computed and dropped).
        let left = s.kw
        let width = left + max(wout, s.w + s.padW + 16) + 16
        let divisors = Staging.divisors(s, countIncludePad: countIncludePad)
        divisors.withUnsafeBufferPointer { divBuffer in
            let div = divBuffer.baseAddress!
            Parallel.forRanges(s.n * s.c) { planes in
                let q = UnsafeMutablePointer<Float>.allocate(capacity: hout * width + oplane)
                defer { q.deallocate() }
                q.update(repeating: 0, count: hout * width)   // the border stays +0 for every plane
                let quotients = q + hout * width
                for pc in planes {
                    let dOut = gradOutput + pc * oplane, dIn = gradInput + pc * plane
                    // The plane's quotients 16 at a time (the rows are short: 15 on the quick
                    // Inception grid, where a scalar divide per output was half of the time),
                    // then each row into its bordered place.
                    var i = 0
                    while i + 16 <= oplane {
                        let g = UnsafeRawPointer(dOut + i).loadUnaligned(as: SIMD16<Float>.self)
                        let d = UnsafeRawPointer(div + i).loadUnaligned(as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(quotients + i).storeBytes(of: g / d, as: SIMD16<Float>.self)
                        i += 16
                    }
                    while i < oplane { quotients[i] = dOut[i] / div[i]; i += 1 }
                    for oy in 0..<hout {
                        (q + oy * width + left).update(from: quotients + oy * wout, count: wout)
                    }
                    for iy in 0..<s.h {
                        // Output rows whose windows hold row iy, ascending.
                        let reach = iy + s.padH - s.kh + 1
                        let lo = reach <= 0 ? 0 : (reach + s.strideH - 1) / s.strideH
                        let hi = min(hout - 1, (iy + s.padH) / s.strideH)
                        var ix = 0
                        while ix < s.w {
                            var acc = SIMD16<Float>(repeating: 0)
                            if lo <= hi {
                                for oy in lo...hi {
                                    let at = q + oy * width + left + ix + s.padW
                                    for kx in stride(from: s.kw - 1, through: 0, by: -1) {
                                        acc += UnsafeRawPointer(at - kx).loadUnaligned(as: SIMD16<Float>.self)
                                    }
                                }
                            }
                            storeLanes(acc, dIn + iy * s.w + ix, count: min(16, s.w - ix))
                            ix += 16
                        }
                    }
                }
            }
        }
    }
}
