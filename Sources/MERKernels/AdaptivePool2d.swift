/// Adaptive average / max pooling on NCHW float32 buffers (PyTorch `AdaptiveAvgPool2d`,
/// `AdaptiveMaxPool2d`): the output size is given, and output cell i along an axis of input size
/// L and output size O pools the input range
///
///     start(i) = floor(i·L / O),   end(i) = ceil((i+1)·L / O)
///
/// Windows may overlap (5→3 gives [0,2), [1,4), [3,5)) and are never empty when O ≥ 1.
///     input (n, c, h, w)  →  output / indices (n, c, oh, ow)
/// Planes are independent and split statically over `Parallel.threads`.
public enum AdaptivePoolKernels {
    @inline(__always)
    static func window(_ i: Int, _ inSize: Int, _ outSize: Int) -> Range<Int> {
        let start = (i * inSize) / outSize
        let end = ((i + 1) * inSize + outSize - 1) / outSize
        return min(start, inSize)..<max(min(start, inSize), min(end, inSize))
    }

    @inline(__always)
    static func isEmpty(n: Int, c: Int, h: Int, w: Int, oh: Int, ow: Int) -> Bool {
        n <= 0 || c <= 0 || h <= 0 || w <= 0 || oh <= 0 || ow <= 0
    }

    public static func avgForward(n: Int, c: Int, h: Int, w: Int, oh: Int, ow: Int,
                                  input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        if isEmpty(n: n, c: c, h: h, w: w, oh: oh, ow: ow) { return }
        Parallel.forRanges(n * c) { planes in
            for pc in planes {
                let src = input + pc * h * w, out = output + pc * oh * ow
                for oy in 0..<oh {
                    let ys = window(oy, h, oh)
                    for ox in 0..<ow {
                        let xs = window(ox, w, ow)
                        var acc: Float = 0
                        for iy in ys {
                            let row = src + iy * w
                            for ix in xs { acc += row[ix] }
                        }
                        out[oy * ow + ox] = acc / Float(max(1, ys.count * xs.count))
                    }
                }
            }
        }
    }

    /// Each output is the mean of its window, so dOut/area flows to every pixel of the window;
    /// overlapping windows add. Overwrites gradInput.
    public static func avgBackward(n: Int, c: Int, h: Int, w: Int, oh: Int, ow: Int,
                                   gradOutput: UnsafePointer<Float>, gradInput: UnsafeMutablePointer<Float>) {
        if isEmpty(n: n, c: c, h: h, w: w, oh: oh, ow: ow) { return }
        Parallel.forRanges(n * c) { planes in
            for pc in planes {
                let dIn = gradInput + pc * h * w, dOut = gradOutput + pc * oh * ow
                dIn.update(repeating: 0, count: h * w)
                for oy in 0..<oh {
                    let ys = window(oy, h, oh)
                    for ox in 0..<ow {
                        let xs = window(ox, w, ow)
                        let g = dOut[oy * ow + ox] / Float(max(1, ys.count * xs.count))
                        for iy in ys {
                            let row = dIn + iy * w
                            for ix in xs { row[ix] += g }
                        }
                    }
                }
            }
        }
    }

    /// indices receive the argmax offset iy·w + ix in its plane; first maximum wins ties, NaN
    /// propagates (as `PoolKernels.maxForward`).
    public static func maxForward(n: Int, c: Int, h: Int, w: Int, oh: Int, ow: Int, input: UnsafePointer<Float>,
                                  output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) {
        if isEmpty(n: n, c: c, h: h, w: w, oh: oh, ow: ow) { return }
        Parallel.forRanges(n * c) { planes in
            for pc in planes {
                let src = input + pc * h * w, out = output + pc * oh * ow, idx = indices + pc * oh * ow
                for oy in 0..<oh {
                    let ys = window(oy, h, oh)
                    for ox in 0..<ow {
                        let xs = window(ox, w, ow)
                        var best = -Float.infinity
                        var bestAt = ys.isEmpty || xs.isEmpty ? -1 : ys.lowerBound * w + xs.lowerBound
                        for iy in ys {
                            let row = src + iy * w
                            for ix in xs {
                                // NaN wins, as in maxForward of PoolKernels; selects avoid a branch.
                                let v = row[ix]
                                let take = v > best || v.isNaN
                                best = take ? v : best
                                bestAt = take ? iy * w + ix : bestAt
                            }
                        }
                        out[oy * ow + ox] = best
                        idx[oy * ow + ox] = Int32(truncatingIfNeeded: bestAt)
                    }
                }
            }
        }
    }

    /// Routes each dOut to its argmax (scatter-add, windows overlap). Indices outside the plane
    /// are ignored. Overwrites gradInput.
    public static func maxBackward(n: Int, c: Int, h: Int, w: Int, oh: Int, ow: Int, gradOutput: UnsafePointer<Float>,
                                   indices: UnsafePointer<Int32>, gradInput: UnsafeMutablePointer<Float>) {
        if isEmpty(n: n, c: c, h: h, w: w, oh: oh, ow: ow) { return }
        let plane = h * w, oplane = oh * ow
        Parallel.forRanges(n * c) { planes in
            for pc in planes {
                let dIn = gradInput + pc * plane, dOut = gradOutput + pc * oplane, idx = indices + pc * oplane
                dIn.update(repeating: 0, count: plane)
                for j in 0..<oplane {
                    let at = Int(idx[j])
                    if at >= 0 && at < plane { dIn[at] += dOut[j] }
                }
            }
        }
    }
}
