import MERTensor

extension ImageOps {
    /// The `width`×`height` window whose top-left pixel is (x, y) (0-based) of every plane
    /// of a (…, H, W) tensor; the window must lie inside the image.
    public static func crop(_ t: Tensor, x: Int, y: Int, width: Int, height: Int) throws -> Tensor {
        let op = "image.crop"
        guard t.rank >= 2 else { throw TensorError("\(op): expected an image (…, H, W), got shape \(t.shape)") }
        let h = t.shape[t.rank - 2], w = t.shape[t.rank - 1]
        guard width >= 1, height >= 1 else {
            throw TensorError("\(op): crop size \(width)x\(height) must be at least 1x1")
        }
        guard x >= 0, y >= 0, x + width <= w, y + height <= h else {
            throw TensorError("\(op): window x=\(x) y=\(y) width=\(width) height=\(height) does not lie inside the \(w)x\(h) image")
        }
        let planes = t.shape.dropLast(2).reduce(1, *)
        var shape = t.shape
        shape[t.rank - 2] = height
        shape[t.rank - 1] = width
        let out = try Tensor(zeros: shape)
        let src = try contiguous(t).pointer, dst = out.pointer
        for p in 0..<planes {
            for r in 0..<height {
                (dst + (p * height + r) * width).update(from: src + (p * h + y + r) * w + x, count: width)
            }
        }
        return out
    }

    /// The centred `width`×`height` window (torchvision's CenterCrop: offsets
    /// round((H − height) / 2) and round((W − width) / 2), halves to even).
    public static func centerCrop(_ t: Tensor, height: Int, width: Int) throws -> Tensor {
        let op = "image.center_crop"
        guard t.rank >= 2 else { throw TensorError("\(op): expected an image (…, H, W), got shape \(t.shape)") }
        let h = t.shape[t.rank - 2], w = t.shape[t.rank - 1]
        guard height >= 1, width >= 1, height <= h, width <= w else {
            throw TensorError("\(op): crop size \(width)x\(height) does not fit the \(w)x\(h) image")
        }
        let top = Int((Double(h - height) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(w - width) / 2).rounded(.toNearestOrEven))
        return try crop(t, x: left, y: top, width: width, height: height)
    }
}
