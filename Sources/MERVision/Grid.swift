import MERTensor

extension ImageOps {
    /// Tiles images into one (C, H', W') image, row by row (torchvision's make_grid):
    /// `columns` per row (default ⌈√N⌉), `padding` pixels of `padValue` around and between
    /// cells. Cells are as large as the largest image; smaller images sit at the cell's top
    /// left. Channels are promoted to the richest kind present: gray → RGB by repetition,
    /// a missing alpha channel as 1 (so gray and RGB mixed give RGB).
    public static func grid(_ images: [Tensor], columns: Int? = nil, padding: Int = 2, padValue: Float = 1) throws -> Tensor {
        let op = "image.grid"
        guard !images.isEmpty else { throw TensorError("\(op): no images") }
        guard padding >= 0 else { throw TensorError("\(op): padding must be ≥ 0, got \(padding)") }
        var dims: [(c: Int, h: Int, w: Int)] = []
        for (i, t) in images.enumerated() {
            let s = t.shape
            let d: (Int, Int, Int)
            switch s.count {
            case 2: d = (1, s[0], s[1])
            case 3: d = (s[0], s[1], s[2])
            default: throw TensorError("\(op): image \(i + 1) has shape \(s); expected (C, H, W)")
            }
            guard (1...4).contains(d.0) else { throw TensorError("\(op): image \(i + 1) has \(d.0) channels; expected 1 to 4") }
            dims.append(d)
        }
        let n = images.count
        let cols = columns ?? Int(Double(n).squareRoot().rounded(.up))
        guard cols >= 1 else { throw TensorError("\(op): columns must be ≥ 1, got \(cols)") }
        let gridCols = min(cols, n)
        let rows = (n + cols - 1) / cols
        let color = dims.contains { $0.c >= 3 }
        let alpha = dims.contains { $0.c == 2 || $0.c == 4 }
        let c = (color ? 3 : 1) + (alpha ? 1 : 0)
        let ch = dims.map(\.h).max()!, cw = dims.map(\.w).max()!
        let H = rows * (ch + padding) + padding, W = gridCols * (cw + padding) + padding
        guard H <= 1 << 16, W <= 1 << 16 else { throw TensorError("\(op): grid of \(W)x\(H) pixels is too large") }
        let out = try Tensor.full([c, H, W], padValue)
        let dst = out.pointer
        for (k, t) in images.enumerated() {
            let (ic, ih, iw) = dims[k]
            let src = try contiguous(t).pointer
            let top = (k / cols) * (ch + padding) + padding
            let left = (k % cols) * (cw + padding) + padding
            for oc in 0..<c {
                // Which input channel feeds output channel oc (nil: alpha filled with 1).
                let isAlpha = alpha && oc == c - 1
                let srcChannel: Int?
                if isAlpha {
                    srcChannel = (ic == 2 || ic == 4) ? ic - 1 : nil
                } else {
                    srcChannel = ic >= 3 ? oc : 0
                }
                for y in 0..<ih {
                    let d = dst + oc * H * W + (top + y) * W + left
                    if let sc = srcChannel {
                        d.update(from: src + (sc * ih + y) * iw, count: iw)
                    } else {
                        d.update(repeating: 1, count: iw)
                    }
                }
            }
        }
        return out
    }

    /// Tiles the images of an (N, C, H, W) batch (or a single (C, H, W) image).
    public static func grid(_ batch: Tensor, columns: Int? = nil, padding: Int = 2, padValue: Float = 1) throws -> Tensor {
        let op = "image.grid"
        switch batch.rank {
        case 3: return try grid([batch], columns: columns, padding: padding, padValue: padValue)
        case 4:
            let n = batch.shape[0]
            guard n >= 1 else { throw TensorError("\(op): batch has no images") }
            let per = batch.shape[1] * batch.shape[2] * batch.shape[3]
            let src = try contiguous(batch)
            var images: [Tensor] = []
            for i in 0..<n {
                let t = try Tensor(zeros: Array(batch.shape.dropFirst()))
                t.pointer.update(from: src.pointer + i * per, count: per)
                images.append(t)
            }
            return try grid(images, columns: columns, padding: padding, padValue: padValue)
        default:
            throw TensorError("\(op): expected an (N, C, H, W) batch, got shape \(batch.shape)")
        }
    }
}
