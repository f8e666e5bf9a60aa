/// Lowering of a convolution window to a matrix ("im2col") and its adjoint ("col2im").
///
/// For one image and one group of `channels` input planes (each h×w), the column matrix is
///
///     cols (channels·kh·kw, hout·wout), row r = (c·kh + ky)·kw + kx, column j = oy·wout + ox
///     cols[r, j] = image[c, oy·strideH − padH + ky·dilH, ox·strideW − padW + kx·dilW]   (0 outside)
///
/// Row order matches the weight layout (cout, cin/groups, kh, kw), so a group's forward pass is
/// the single GEMM  out_g (cout/groups, hout·wout) = W_g (cout/groups, K) · cols (K, hout·wout).
extension ConvKernels {
    /// The outputs `o` in `0..<count` whose input coordinate `o·stride + offset` lies in `0..<size`.
    /// They are contiguous (an affine map crosses an interval once), so each row of `cols` splits
    /// into zero padding, a copy or a strided gather, and zero padding again: no per-element test.
    @inline(__always)
    static func validOutputs(count: Int, stride: Int, offset: Int, size: Int) -> Range<Int> {
        // o·stride + offset ≥ 0          ⇔  o ≥ ceil(−offset / stride)
        // o·stride + offset ≤ size − 1   ⇔  o < ceil((size − offset) / stride)
        let lo = offset >= 0 ? 0 : min(count, (-offset + stride - 1) / stride)
        let hiRaw = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride
        let hi = max(lo, min(count, hiRaw))
        return lo..<hi
    }

    /// Fills `cols` (channels·kh·kw, hout·wout) from `channels` consecutive planes starting at `image`.
    /// Overwrites every element of `cols`. Rows are independent, so the work splits over channels
    /// with `threads` workers without changing any result bit.
    public static func im2col(_ s: ConvShape, image: UnsafePointer<Float>, channels: Int,
                              cols: UnsafeMutablePointer<Float>, threads: Int = 1) {
        let hout = s.hout, wout = s.wout, hwo = hout * wout, plane = s.h * s.w
        Parallel.forRanges(channels, threads: threads) { range in
            for c in range {
                let src = image + c * plane
                for ky in 0..<s.kh {
                    let offY = ky * s.dilH - s.padH
                    let ys = validOutputs(count: hout, stride: s.strideH, offset: offY, size: s.h)
                    for kx in 0..<s.kw {
                        let offX = kx * s.dilW - s.padW
                        let xs = validOutputs(count: wout, stride: s.strideW, offset: offX, size: s.w)
                        let dst = cols + ((c * s.kh + ky) * s.kw + kx) * hwo
                        // Rows of the output grid whose input row is padding: all zero.
                        dst.update(repeating: 0, count: ys.lowerBound * wout)
                        for oy in ys {
                            let d = dst + oy * wout
                            let srow = src + (oy * s.strideH + offY) * s.w
                            d.update(repeating: 0, count: xs.lowerBound)
                            if s.strideW == 1 {
                                // Consecutive outputs read consecutive inputs: a plain copy (memcpy).
                                (d + xs.lowerBound).update(from: srow + xs.lowerBound + offX, count: xs.count)
                            } else {
                                for ox in xs { d[ox] = srow[ox * s.strideW + offX] }
                            }
                            (d + xs.upperBound).update(repeating: 0, count: wout - xs.upperBound)
                        }
                        (dst + ys.upperBound * wout).update(repeating: 0, count: (hout - ys.upperBound) * wout)
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: OVERWRITES the `channels` planes at `image` with the scatter-add of
    /// `cols` (channels·kh·kw, hout·wout). An input pixel covered by several windows receives the sum
    /// of all of their entries, which is exactly the gradient of im2col (a copy) w.r.t. its input.
    /// Each channel's plane is written only by that channel's rows, so splitting over channels is
    /// race-free, and each plane's sums run in a fixed order (bit-identical for any `threads`).
    public static func col2im(_ s: ConvShape, cols: UnsafePointer<Float>, channels: Int,
                              image: UnsafeMutablePointer<Float>, threads: Int = 1) {
        col2im(s, cols: cols, ld: s.hout * s.wout, channels: channels, image: image, threads: threads)
    }

    /// `col2im` reading rows of `cols` `ld` floats apart (ld ≥ hout·wout), e.g. one image's
    /// columns inside a column matrix that holds several images side by side.
    static func col2im(_ s: ConvShape, cols: UnsafePointer<Float>, ld: Int, channels: Int,
                       image: UnsafeMutablePointer<Float>, threads: Int = 1) {
        let hout = s.hout, wout = s.wout, hwo = ld, plane = s.h * s.w
        Parallel.forRanges(channels, threads: threads) { range in
            for c in range {
                let dstPlane = image + c * plane
                dstPlane.update(repeating: 0, count: plane)
                for ky in 0..<s.kh {
                    let offY = ky * s.dilH - s.padH
                    let ys = validOutputs(count: hout, stride: s.strideH, offset: offY, size: s.h)
                    for kx in 0..<s.kw {
                        let offX = kx * s.dilW - s.padW
                        let xs = validOutputs(count: wout, stride: s.strideW, offset: offX, size: s.w)
                        let src = cols + ((c * s.kh + ky) * s.kw + kx) * hwo
                        for oy in ys {
                            let srow = src + oy * wout
                            let drow = dstPlane + (oy * s.strideH + offY) * s.w
                            if s.strideW == 1 {
                                let d = drow + offX
                                for ox in xs { d[ox] += srow[ox] }
                            } else {
                                for ox in xs { drow[ox * s.strideW + offX] += srow[ox] }
                            }
                        }
                    }
                }
            }
        }
    }
}
