import MERKernels
import MERTensor

/// How `ImageOps.resize` computes an output pixel.
public enum ResizeMode: String, CaseIterable, Sendable {
    /// Bilinear with half-pixel centres (align_corners = false): OpenCV INTER_LINEAR,
    /// PyTorch `interpolate(mode: "bilinear")`. Source coordinates below 0 clamp to 0.
    case bilinear
    /// Exact area averaging, OpenCV INTER_AREA for shrinking (non-integer ratios included:
    /// each output pixel is the mean of the source area it covers, edge pixels weighted by
    /// their covered fraction). An axis that grows falls back to bilinear.
    case area
    /// `.area` when neither dimension grows, `.bilinear` otherwise.
    case auto
}

extension ImageOps {
    /// Resizes the last two dimensions of a (C, H, W) image or (N, C, H, W) batch (any
    /// tensor of rank ≥ 2 works: every leading index is one plane). Same size: a copy.
    public static func resize(_ t: Tensor, height: Int, width: Int, mode: ResizeMode = .auto) throws -> Tensor {
        let op = "image.resize"
        guard t.rank >= 2 else { throw TensorError("\(op): expected an image (…, H, W), got shape \(t.shape)") }
        guard height >= 1, width >= 1 else { throw TensorError("\(op): output size \(height)x\(width) must be at least 1x1") }
        guard height <= 1 << 16, width <= 1 << 16 else { throw TensorError("\(op): output size \(height)x\(width) is too large") }
        let hs = t.shape[t.rank - 2], ws = t.shape[t.rank - 1]
        guard hs >= 1, ws >= 1 else { throw TensorError("\(op): input has no pixels (shape \(t.shape))") }
        let planes = t.shape.dropLast(2).reduce(1, *)
        var outShape = t.shape
        outShape[t.rank - 2] = height
        outShape[t.rank - 1] = width
        let out = try Tensor(zeros: outShape)
        let src = try contiguous(t).pointer
        if hs == height && ws == width {
            out.pointer.update(from: src, count: t.count)
            return out
        }
        let useArea: Bool
        switch mode {
        case .bilinear: useArea = false
        case .area: useArea = true
        case .auto: useArea = height <= hs && width <= ws
        }
        let wy = AxisWeights(source: hs, target: height, area: useArea)
        let wx = AxisWeights(source: ws, target: width, area: useArea)
        resample(src, out.pointer, planes: planes, hs: hs, ws: ws, hd: height, wd: width, wy: wy, wx: wx)
        return out
    }

    /// Separable resampling: for every output row, the vertical taps blend source rows into
    /// a row of `ws` (contiguous multiply-adds), then the horizontal taps gather `wd` outputs.
    static func resample(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                         planes: Int, hs: Int, ws: Int, hd: Int, wd: Int, wy: AxisWeights, wx: AxisWeights) {
        let rows = planes * hd
        let work = rows * (ws * wy.taps + wd * wx.taps)
        let threads = work >= 1 << 15 ? Parallel.threads : 1
        wy.weights.withUnsafeBufferPointer { wyb in
        wx.weights.withUnsafeBufferPointer { wxb in
        wy.start.withUnsafeBufferPointer { syb in
        wx.start.withUnsafeBufferPointer { sxb in
            let wyp = wyb.baseAddress!, wxp = wxb.baseAddress!, syp = syb.baseAddress!, sxp = sxb.baseAddress!
            let ty = wy.taps, tx = wx.taps
            Parallel.forRanges(rows, threads: threads) { range in
                let tmp = UnsafeMutablePointer<Float>.allocate(capacity: ws)
                defer { tmp.deallocate() }
                for r in range {
                    let p = r / hd, y = r - p * hd
                    let plane = src + p * hs * ws
                    // Vertical pass into `row`.
                    let row: UnsafeMutablePointer<Float>
                    if hs == hd {
                        row = plane + y * ws
                    } else {
                        let s0 = plane + syp[y] * ws
                        let w = wyp + y * ty
                        let w0 = w[0]
                        for x in 0..<ws { tmp[x] = w0 * s0[x] }
                        for k in 1..<max(ty, 1) {
                            let wk = w[k]
                            if wk == 0 { continue }
                            let sk = s0 + k * ws
                            for x in 0..<ws { tmp[x] += wk * sk[x] }
                        }
                        row = tmp
                    }
                    // Horizontal pass into the output row.
                    let o = dst + r * wd
                    if ws == wd {
                        o.update(from: row, count: wd)
                    } else if tx == 2 {
                        for x in 0..<wd {
                            let s = row + sxp[x], w = wxp + 2 * x
                            o[x] = w[0] * s[0] + w[1] * s[1]
                        }
                    } else {
                        for x in 0..<wd {
                            let s = row + sxp[x], w = wxp + tx * x
                            var acc: Float = 0
                            for k in 0..<tx { acc += w[k] * s[k] }
                            o[x] = acc
                        }
                    }
                }
            }
        }
        }
        }
        }
    }
}

/// Per-output taps along one axis: output `i` = Σ_k weights[i·taps + k] · source[start[i] + k].
/// Every output has the same number of taps (zero-padded), all inside the source.
struct AxisWeights {
    let taps: Int
    let start: [Int]
    let weights: [Float]

    init(source: Int, target: Int, area: Bool) {
        var lists: [[(Int, Double)]] = []
        lists.reserveCapacity(target)
        let scale = Double(source) / Double(target)
        for d in 0..<target {
            if area && target < source {
                lists.append(AxisWeights.areaTaps(d, scale: scale, source: source))
            } else {
                lists.append(AxisWeights.bilinearTaps(d, scale: scale, source: source))
            }
        }
        var taps = 1
        for l in lists {
            let lo = l.map(\.0).min()!, hi = l.map(\.0).max()!
            taps = max(taps, hi - lo + 1)
        }
        taps = min(taps, source)
        var start = [Int](repeating: 0, count: target)
        var weights = [Float](repeating: 0, count: target * taps)
        for (d, l) in lists.enumerated() {
            let lo = min(max(l.map(\.0).min()!, 0), source - taps)
            start[d] = lo
            // Accumulate in Double, then round once.
            var acc = [Double](repeating: 0, count: taps)
            for (i, w) in l { acc[i - lo] += w }
            for k in 0..<taps { weights[d * taps + k] = Float(acc[k]) }
        }
        self.taps = taps
        self.start = start
        self.weights = weights
    }

    /// OpenCV INTER_LINEAR / PyTorch align_corners=false.
    static func bilinearTaps(_ d: Int, scale: Double, source: Int) -> [(Int, Double)] {
        var s = (Double(d) + 0.5) * scale - 0.5
        if s < 0 { s = 0 }
        var i0 = Int(s.rounded(.down))
        var f = s - Double(i0)
        if i0 >= source - 1 { i0 = source - 1; f = 0 }
        let i1 = min(i0 + 1, source - 1)
        return f == 0 ? [(i0, 1)] : [(i0, 1 - f), (i1, f)]
    }

    /// OpenCV's computeResizeAreaTab: the source interval [d·scale, (d+1)·scale) with
    /// fractional end pixels weighted by their covered part, normalised by the cell width.
    static func areaTaps(_ d: Int, scale: Double, source: Int) -> [(Int, Double)] {
        let f1 = Double(d) * scale, f2 = f1 + scale
        let cell = min(scale, Double(source) - f1)
        var s2 = Int(f2.rounded(.down))
        var s1 = Int(f1.rounded(.up))
        s2 = min(s2, source - 1)
        s1 = min(s1, s2)
        var taps: [(Int, Double)] = []
        if Double(s1) - f1 > 1e-3 { taps.append((s1 - 1, (Double(s1) - f1) / cell)) }
        if s1 < s2 { for s in s1..<s2 { taps.append((s, 1 / cell)) } }
        if f2 - Double(s2) > 1e-3 { taps.append((s2, min(min(f2 - Double(s2), 1), cell) / cell)) }
        if taps.isEmpty { taps.append((min(s1, source - 1), 1)) }
        return taps
    }
}
