import MEREval
import MERTensor

/// Which tensors are pictures, and their pixels: (C, H, W) with C = 1 or 3, or (H, W).
enum DisplayImage {
    struct NotAnImage: Error { let reason: String }

    /// The largest side shown (a bigger tensor is data, not a picture to inline).
    static let maxSide = 4096

    /// (channels, height, width) if `t` has an image's shape.
    static func shape(_ t: Tensor) -> (c: Int, h: Int, w: Int)? {
        let s = t.shape
        let chw: (Int, Int, Int)
        switch s.count {
        case 2: chw = (1, s[0], s[1])
        case 3: chw = (s[0], s[1], s[2])
        default: return nil
        }
        guard chw.0 == 1 || chw.0 == 3, (1...maxSide).contains(chw.1), (1...maxSide).contains(chw.2) else { return nil }
        return chw
    }

    /// Whether a cell's value should show as a picture: an image's shape and at least 8×8
    /// (a 2×3 matrix is better read as numbers), all values finite.
    static func isPicture(_ t: Tensor) -> Bool {
        guard let (_, h, w) = shape(t), h >= 8, w >= 8 else { return false }
        return t.toArray().allSatisfy(\.isFinite)
    }

    /// RGB pixels clamped to [0, 1], or stretched from the image's own min..max with `normalize`.
    static func rgb(_ t: Tensor, normalize: Bool) throws -> RGBImage {
        guard let (c, h, w) = shape(t) else {
            throw NotAnImage(reason: "expected a (C, H, W) tensor with C = 1 or 3, or an (H, W) tensor, sides 1..\(maxSide), got shape \(t.shape)")
        }
        let values = t.toArray()
        if let bad = values.first(where: { !$0.isFinite }) { throw NotAnImage(reason: "it holds \(bad.isNaN ? "nan" : "\(bad)"), expected finite values") }
        var lo: Float = 0, scale: Float = 1
        if normalize, let mn = values.min(), let mx = values.max() {
            lo = mn
            scale = mx > mn ? 1 / (mx - mn) : 0
        }
        let n = h * w
        var pixels = [Float](repeating: 0, count: n * 3)
        for i in 0..<n {
            for k in 0..<3 {
                let v = values[(c == 1 ? 0 : k) * n + i]
                pixels[3 * i + k] = min(max((v - lo) * scale, 0), 1)
            }
        }
        return RGBImage(width: w, height: h, pixels: pixels)
    }
}
