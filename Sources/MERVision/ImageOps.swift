import MERKernels
import MERTensor

/// Plain (non-autograd) image operations on (C, H, W) and (N, C, H, W) float tensors.
public enum ImageOps {
    /// `(lead, C, H, W)` of an image or a batch: rank 3 (C, H, W) has lead 1; rank 4 (N, C, H, W) lead N.
    static func imageDims(_ t: Tensor, _ op: String) throws -> (n: Int, c: Int, h: Int, w: Int) {
        let s = t.shape
        switch s.count {
        case 3: return (1, s[0], s[1], s[2])
        case 4: return (s[0], s[1], s[2], s[3])
        default: throw TensorError("\(op): expected a (C, H, W) image or an (N, C, H, W) batch, got shape \(s)")
        }
    }

    /// The data of `t` as a contiguous buffer (a copy only when `t` is a strided view).
    static func contiguous(_ t: Tensor) throws -> Tensor {
        t.isContiguous ? t : try t.detach().contiguous()
    }

    /// Luma: (1, H, W) from (C, H, W), or (N, 1, H, W) from (N, C, H, W).
    /// RGB(A): BT.601 0.299 R + 0.587 G + 0.114 B (PIL's "L", OpenCV's RGB2GRAY, unrounded);
    /// alpha ignored; a gray (or gray+alpha) input gives its first channel.
    public static func gray(_ t: Tensor) throws -> Tensor {
        let op = "image.gray"
        let (n, c, h, w) = try imageDims(t, op)
        guard (1...4).contains(c) else {
            throw TensorError("\(op): expected 1 to 4 channels (gray, gray+alpha, RGB, RGBA), got \(c)")
        }
        let src = try contiguous(t).pointer
        let out = try Tensor(zeros: t.rank == 3 ? [1, h, w] : [n, 1, h, w])
        let dst = out.pointer
        let plane = h * w
        let total = n * plane
        let threads = total >= 1 << 16 ? Parallel.threads : 1
        // Ranges of pixels, split per image so that a range never straddles two images.
        Parallel.forRanges(total, granule: 4096, threads: threads) { range in
            var i = range.lowerBound
            while i < range.upperBound {
                let img = i / plane
                let end = min(range.upperBound, (img + 1) * plane)
                let o = i - img * plane
                let count = end - i
                let s = src + img * c * plane + o
                let d = dst + i
                if c <= 2 {
                    d.update(from: s, count: count)
                } else {
                    let r = s, g = s + plane, b = s + 2 * plane
                    for k in 0..<count { d[k] = 0.299 * r[k] + 0.587 * g[k] + 0.114 * b[k] }
                }
                i = end
            }
        }
        return out
    }
}
