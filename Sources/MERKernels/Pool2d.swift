/// 2-D max and average pooling on NCHW float32 buffers, following PyTorch's CPU kernels
/// (`MaxPool2d` without dilation, `AvgPool2d` without `divisor_override`).
///
///     input (n, c, h, w)  →  output / indices (n, c, hout, wout)   (sizes from `PoolShape`)
///
/// Every (image, channel) plane is independent, so all four kernels split the n·c planes
/// statically over `Parallel.threads`; results do not depend on the thread count at all.
public enum PoolKernels {
    /// Max pooling; indices receive the argmax as the offset iy·w + ix inside its h×w plane.
    /// Padding counts as −infinity, so it never wins. Ties keep the first position in row-major
    /// window order; a NaN always wins (and a later NaN replaces an earlier one), as PyTorch does.
    public static func maxForwardReference(_ s: PoolShape, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                           indices: UnsafeMutablePointer<Int32>) {
        guard s.n > 0 else { return }
        let hout = s.hout, wout = s.wout, plane = s.h * s.w, oplane = hout * wout
        Parallel.forRanges(s.n * s.c) { planes in
            for pc in planes {
                let src = input + pc * plane
                let out = output + pc * oplane, idx = indices + pc * oplane
                for oy in 0..<hout {
                    let ys = maxRows(s, oy: oy)
                    for ox in 0..<wout { maxOne(s, src, ys, ox: ox, out + oy * wout + ox, idx + oy * wout + ox) }
                }
            }
        }
    }

    /// Input rows [ylo, yhi) of output row oy's max windows (clipped to the input).
    @inline(__always)
    static func maxRows(_ s: PoolShape, oy: Int) -> Range<Int> {
        let y0 = oy * s.strideH - s.padH
        let ylo = max(y0, 0)
        return ylo..<max(ylo, min(y0 + s.kh, s.h))
    }

    /// One max window: output ox of a row whose windows cover input rows `ys`.
    @inline(__always)
    static func maxOne(_ s: PoolShape, _ src: UnsafePointer<Float>, _ ys: Range<Int>, ox: Int,
                       _ out: UnsafeMutablePointer<Float>, _ idx: UnsafeMutablePointer<Int32>) {
        let x0 = ox * s.strideW - s.padW
        let xlo = max(x0, 0), xhi = max(xlo, min(x0 + s.kw, s.w))
        if ys.isEmpty || xlo == xhi {
            // Cannot happen for a valid PoolShape (a window always meets the input);
            // −1 marks "no source" so maxBackward skips it instead of writing anywhere.
            out[0] = -.infinity
            idx[0] = -1
            return
        }
        var best = -Float.infinity
        var bestAt = ys.lowerBound * s.w + xlo
        for iy in ys {
            for at in (iy * s.w + xlo)..<(iy * s.w + xhi) {
                // NaN wins (and once best is NaN only another NaN replaces it, so the
                // plain `!(v <= best)` would be wrong); selects instead of a branch
                // keep unpredictable data fast.
                let v = src[at]
                let take = v > best || v.isNaN
                best = take ? v : best
                bestAt = take ? at : bestAt
            }
        }
        out[0] = best
        idx[0] = Int32(truncatingIfNeeded: bestAt)
    }

    /// Max pooling is a selection, so its gradient routes each dOut to the input that won:
    /// gradInput = 0, then gradInput[index] += gradOut (overlapping windows may pick the same
    /// pixel, hence add). Indices outside 0..<h·w are ignored. Overwrites gradInput.
    public static func maxBackward(_ s: PoolShape, gradOutput: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
                                   gradInput: UnsafeMutablePointer<Float>) {
        guard s.n > 0 else { return }
        let plane = s.h * s.w, oplane = s.hout * s.wout
        Parallel.forRanges(s.n * s.c) { planes in
            for pc in planes {
                let dIn = gradInput + pc * plane
                let dOut = gradOutput + pc * oplane, idx = indices + pc * oplane
                dIn.update(repeating: 0, count: plane)
                for j in 0..<oplane {
                    let at = Int(idx[j])
                    if at >= 0 && at < plane { dIn[at] += dOut[j] }
                }
            }
        }
    }

    /// One averaging window: the clipped input rows/columns it sums, and the divisor.
    /// PyTorch first clips the window to the padded input (this matters with ceilMode, whose last
    /// window may run past the padding), takes that area as the count_include_pad divisor, then
    /// clips to the real input for the sum and for the count_include_pad = false divisor.
    @inline(__always)
    static func avgWindow(_ s: PoolShape, oy: Int, ox: Int, countIncludePad: Bool)
        -> (ys: Range<Int>, xs: Range<Int>, divisor: Float) {
        let y0 = oy * s.strideH - s.padH, x0 = ox * s.strideW - s.padW
        let y1 = min(y0 + s.kh, s.h + s.padH), x1 = min(x0 + s.kw, s.w + s.padW)
        let padded = (y1 - y0) * (x1 - x0)
        let ylo = max(y0, 0), xlo = max(x0, 0)
        let ys = ylo..<max(ylo, min(y1, s.h)), xs = xlo..<max(xlo, min(x1, s.w))
        let count = countIncludePad ? padded : ys.count * xs.count
        return (ys, xs, Float(max(count, 1)))
    }

    /// Average pooling; `countIncludePad` as PyTorch's count_include_pad. A window that holds no
    /// input pixel (impossible for a valid PoolShape) outputs 0.
    public static func avgForwardReference(_ s: PoolShape, countIncludePad: Bool, input: UnsafePointer<Float>,
                                           output: UnsafeMutablePointer<Float>) {
        guard s.n > 0 else { return }
        let hout = s.hout, wout = s.wout, plane = s.h * s.w, oplane = hout * wout
        Parallel.forRanges(s.n * s.c) { planes in
            for pc in planes {
                let src = input + pc * plane, out = output + pc * oplane
                for oy in 0..<hout {
                    for ox in 0..<wout {
                        out[oy * wout + ox] = avgOne(s, src, avgWindow(s, oy: oy, ox: ox, countIncludePad: countIncludePad))
                    }
                }
            }
        }
    }

    /// One average window's value (0 for a window that holds no input pixel).
    @inline(__always)
    static func avgOne(_ s: PoolShape, _ src: UnsafePointer<Float>, _ win: (ys: Range<Int>, xs: Range<Int>, divisor: Float)) -> Float {
        var acc: Float = 0
        for iy in win.ys {
            let row = src + iy * s.w
            for ix in win.xs { acc += row[ix] }
        }
        return win.ys.isEmpty || win.xs.isEmpty ? 0 : acc / win.divisor
    }

    /// Adds `g` to every input pixel of one average window.
    @inline(__always)
    static func avgSpread(_ s: PoolShape, _ dIn: UnsafeMutablePointer<Float>, _ win: (ys: Range<Int>, xs: Range<Int>, divisor: Float),
                          _ g: Float) {
        for iy in win.ys {
            let row = dIn + iy * s.w
            for ix in win.xs { row[ix] += g }
        }
    }

    /// out = Σ_window x / divisor is linear with slope 1/divisor for each summed pixel, so each
    /// dOut spreads dOut/divisor over its (clipped) window; overlapping windows add. Overwrites gradInput.
    public static func avgBackwardReference(_ s: PoolShape, countIncludePad: Bool, gradOutput: UnsafePointer<Float>,
                                            gradInput: UnsafeMutablePointer<Float>) {
        guard s.n > 0 else { return }
        let hout = s.hout, wout = s.wout, plane = s.h * s.w, oplane = hout * wout
        Parallel.forRanges(s.n * s.c) { planes in
            for pc in planes {
                let dIn = gradInput + pc * plane, dOut = gradOutput + pc * oplane
                dIn.update(repeating: 0, count: plane)
                for oy in 0..<hout {
                    for ox in 0..<wout {
                        let win = avgWindow(s, oy: oy, ox: ox, countIncludePad: countIncludePad)
                        avgSpread(s, dIn, win, dOut[oy * wout + ox] / win.divisor)
                    }
                }
            }
        }
    }
}
