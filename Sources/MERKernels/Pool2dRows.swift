/// The pooling forwards used by the tensor layer: `PoolKernels.maxForwardReference` and
/// `avgForwardReference` (Pool2d.swift) with the inner part of each output row computed 16
/// outputs at a time. Where a block of 16 windows lies wholly inside the input horizontally
/// (stride 1 or 2, any kernel and padding), the lanes visit the window in the reference's
/// order (rows, then columns) with the reference's comparison (`v > best || v.isNaN`) or sum,
/// so values and indices are bit-identical to it; the edges and other strides run the
/// reference's per-output code (`maxOne`, `avgOne`, `avgSpread`). Profile (DBFEM quick, batch 32): the scalar pooling forwards
/// were ~6 % of a training step.
extension PoolKernels {
    public static func maxForward(_ s: PoolShape, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                  indices: UnsafeMutablePointer<Int32>) {
        guard s.n > 0 else { return }
        if Staging.helps(s) && s.padW == 0 {
            stagedMaxForward(s, input: input, output: output, indices: indices)
            return
        }
        let hout = s.hout, wout = s.wout, plane = s.h * s.w, oplane = hout * wout
        let (first, last) = simdColumns(s)
        Parallel.forRanges(s.n * s.c) { planes in
            for pc in planes {
                let src = input + pc * plane
                let out = output + pc * oplane, idx = indices + pc * oplane
                for oy in 0..<hout {
                    let ys = maxRows(s, oy: oy)
                    var ox = 0
                    while ox < wout {
                        if let at = blockStart(ox, first: first, last: last), !ys.isEmpty {
                            maxBlock(s, src, ys, x0: at * s.strideW - s.padW, out + oy * wout + at, idx + oy * wout + at)
                            ox = at + 16
                        } else {
                            maxOne(s, src, ys, ox: ox, out + oy * wout + ox, idx + oy * wout + ox)
                            ox += 1
                        }
                    }
                }
            }
        }
    }

    public static func avgForward(_ s: PoolShape, countIncludePad: Bool, input: UnsafePointer<Float>,
                                  output: UnsafeMutablePointer<Float>) {
        guard s.n > 0 else { return }
        if Staging.helps(s) {
            stagedAvgForward(s, countIncludePad: countIncludePad, input: input, output: output)
            return
        }
        let hout = s.hout, wout = s.wout, plane = s.h * s.w, oplane = hout * wout
        let (first, last) = simdColumns(s)
        Parallel.forRanges(s.n * s.c) { planes in
            for pc in planes {
                let src = input + pc * plane, out = output + pc * oplane
                for oy in 0..<hout {
                    var ox = 0
                    while ox < wout {
                        if let at = blockStart(ox, first: first, last: last) {
                            let win = avgWindow(s, oy: oy, ox: at, countIncludePad: countIncludePad)
                            if !win.ys.isEmpty {
                                // Every lane's window is whole horizontally, so all share this divisor.
                                avgBlock(s, src, win.ys, x0: at * s.strideW - s.padW, divisor: win.divisor, out + oy * wout + at)
                                ox = at + 16
                                continue
                            }
                        }
                        out[oy * wout + ox] = avgOne(s, src, avgWindow(s, oy: oy, ox: ox, countIncludePad: countIncludePad))
                        ox += 1
                    }
                }
            }
        }
    }

    /// Output columns [first, last) that 16-wide blocks may cover: block [ox, ox + 16) runs
    /// vectorised when first ≤ ox and ox + 16 ≤ last. Lane l's window starts at
    /// x0 = (ox + l)·sw − pw, so x0 ≥ 0 needs ox ≥ ⌈pw / sw⌉; the loads must end inside the
    /// row: at stride 1, 16 floats from x0 + kx (last read x0 + kw + 14 ≤ w − 1); at stride 2,
    /// 32 floats from x0 + 2⌊kx/2⌋ (last read x0 + 31 + 2⌊(kw − 1)/2⌋ ≤ w − 1, which also
    /// covers lane 15's window, x0 + 30 + kw − 1).
    public static func simdColumns(_ s: PoolShape) -> (first: Int, last: Int) {
        guard s.strideW == 1 || s.strideW == 2 else { return (0, 0) }
        let first = (s.padW + s.strideW - 1) / s.strideW
        let room = s.strideW == 1 ? s.w + s.padW - s.kw - 15 : s.w + s.padW - 32 - 2 * ((s.kw - 1) / 2)
        guard room >= 0 else { return (0, 0) }
        let maxStart = room / s.strideW
        return (first, min(s.wout, maxStart + 16))
    }

    /// Where the forward's next 16-output block starts when output `ox` is next: at `ox` when
    /// the block fits before `last`; else, for the row's tail, at `last − 16`, so the block ends
    /// at `last` and recomputes some outputs already written (each lane's value depends on its
    /// own window only, so they are rewritten with the same bits). nil: no block covers `ox`.
    /// The tail was per-output code before: at 160 @56, 2×2/2 (28 outputs a row, 16 + 12) it
    /// was 83 % of the pooling's time (perf), 0.53 ms per batch-1 call.
    @inline(__always)
    static func blockStart(_ ox: Int, first: Int, last: Int) -> Int? {
        guard ox >= first && ox < last else { return nil }
        if ox + 16 <= last { return ox }
        return last - 16 >= first ? last - 16 : nil
    }

    static let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

    /// Tap kx of 16 windows starting at `row + x0`, x0 + sw·l for lane l. At stride 2 one
    /// 32-float load serves a pair of taps: even kx from its even lanes, odd kx from the odd
    /// lanes of the load at kx − 1, so no load reaches past x0 + 31 + 2⌊(kw − 1)/2⌋.
    @inline(__always)
    static func tap(_ row: UnsafePointer<Float>, x0: Int, kx: Int, strideW: Int) -> SIMD16<Float> {
        if strideW == 1 { return UnsafeRawPointer(row + x0 + kx).loadUnaligned(as: SIMD16<Float>.self) }
        let pair = UnsafeRawPointer(row + x0 + (kx & ~1)).loadUnaligned(as: SIMD32<Float>.self)
        return kx & 1 == 0 ? pair.evenHalf : pair.oddHalf
    }

    @inline(__always)
    static func maxBlock(_ s: PoolShape, _ src: UnsafePointer<Float>, _ ys: Range<Int>, x0: Int,
                         _ out: UnsafeMutablePointer<Float>, _ idx: UnsafeMutablePointer<Int32>, rowStride: Int? = nil) {
        let rs = rowStride ?? s.w
        let step = lanes &* Int32(s.strideW)
        var best = SIMD16<Float>(repeating: -.infinity)
        var bestAt = SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: ys.lowerBound * s.w + x0)) &+ step
        for iy in ys {
            for kx in 0..<s.kw {
                let at = iy * s.w + x0 + kx
                let v = tap(src + iy * rs, x0: x0, kx: kx, strideW: s.strideW)
                let take = (v .> best) .| (v .!= v)
                best.replace(with: v, where: take)
                bestAt.replace(with: SIMD16<Int32>(repeating: Int32(truncatingIfNeeded: at)) &+ step, where: take)
            }
        }
        UnsafeMutableRawPointer(out).storeBytes(of: best, as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(idx).storeBytes(of: bestAt, as: SIMD16<Int32>.self)
    }

    @inline(__always)
    static func avgBlock(_ s: PoolShape, _ src: UnsafePointer<Float>, _ ys: Range<Int>, x0: Int, divisor: Float,
                         _ out: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(out).storeBytes(of: avgSum(s, src, ys, x0: x0, rowStride: s.w) / SIMD16<Float>(repeating: divisor),
                                                as: SIMD16<Float>.self)
    }

    /// The window sums of 16 outputs whose windows start at column x0 + sw·l of rows `ys`.
    @inline(__always)
    static func avgSum(_ s: PoolShape, _ src: UnsafePointer<Float>, _ ys: Range<Int>, x0: Int, rowStride: Int) -> SIMD16<Float> {
        var acc = SIMD16<Float>(repeating: 0)
        for iy in ys {
            for kx in 0..<s.kw { acc += tap(src + iy * rowStride, x0: x0, kx: kx, strideW: s.strideW) }
        }
        return acc
    }
}
