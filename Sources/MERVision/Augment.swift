import Foundation
import MERTensor

/// Native, reproducible image augmentation for (C,H,W) and (N,C,H,W) tensors.
///
/// Every function applies ONE transform to all the frames it is given: every channel and
/// batch entry of a tensor, and every tensor of an array. An onset/apex pair can therefore
/// be passed as one tensor with the frames as channels, or as `[onset, apex]`; both give
/// the same result and the pair's correspondence is kept. Photometric means are taken per
/// (H, W) plane so the two ways agree for `adjust` too.
///
/// Results are new contiguous tensors (not recorded by autograd). Arguments are validated:
/// empty images, non-finite pixels, negative or non-finite parameters and invalid ranges
/// raise `TensorError` naming the function and argument (`augment.noise: std must be
/// non-negative, got -1`).
public enum Augment {
    // MARK: Flips

    /// Mirrors left–right.
    public static func hflip(_ x: Tensor) throws -> Tensor { try hflip([x])[0] }

    /// Mirrors every tensor left–right.
    public static func hflip(_ xs: [Tensor]) throws -> [Tensor] {
        let ls = try AugmentCheck.layouts(xs, "hflip")
        return try zip(xs, ls).map { x, l in
            try AugmentKernel.map(x, l, outH: l.height, outW: l.width) { s, d, _ in
                for j in 0..<l.height {
                    for i in 0..<l.width { d[j * l.width + i] = s[j * l.width + l.width - 1 - i] }
                }
            }
        }
    }

    /// Mirrors top–bottom.
    public static func vflip(_ x: Tensor) throws -> Tensor { try vflip([x])[0] }

    /// Mirrors every tensor top–bottom.
    public static func vflip(_ xs: [Tensor]) throws -> [Tensor] {
        let ls = try AugmentCheck.layouts(xs, "vflip")
        return try zip(xs, ls).map { x, l in
            try AugmentKernel.map(x, l, outH: l.height, outW: l.width) { s, d, _ in
                for j in 0..<l.height {
                    (d + j * l.width).update(from: s + (l.height - 1 - j) * l.width, count: l.width)
                }
            }
        }
    }

    // MARK: Geometry (bilinear, about the image centre)

    /// Rotates by `degrees` counter-clockwise (on screen) about the image centre; pixels from
    /// outside the image take `fill`.
    public static func rotate(_ x: Tensor, degrees: Float, fill: Float = 0) throws -> Tensor {
        try rotate([x], degrees: degrees, fill: fill)[0]
    }

    public static func rotate(_ xs: [Tensor], degrees: Float, fill: Float = 0) throws -> [Tensor] {
        try AugmentCheck.finite(degrees, "rotate", "degrees")
        return try affine(xs, Augment.AffineParams(angle: degrees), fill: fill, op: "rotate")
    }

    /// Affine transform (see `Augment.AffineParams`): rotation `angle` degrees counter-clockwise,
    /// translation (dx, dy) pixels, `scale`, shear (x, y) degrees, about the image centre.
    public static func affine(_ x: Tensor, angle: Float = 0, translate: (dx: Float, dy: Float) = (0, 0),
                              scale: Float = 1, shear: (x: Float, y: Float) = (0, 0), fill: Float = 0) throws -> Tensor {
        try affine([x], Augment.AffineParams(angle: angle, dx: translate.dx, dy: translate.dy, scale: scale,
                                     shearX: shear.x, shearY: shear.y), fill: fill)[0]
    }

    public static func affine(_ xs: [Tensor], angle: Float = 0, translate: (dx: Float, dy: Float) = (0, 0),
                              scale: Float = 1, shear: (x: Float, y: Float) = (0, 0), fill: Float = 0) throws -> [Tensor] {
        try affine(xs, Augment.AffineParams(angle: angle, dx: translate.dx, dy: translate.dy, scale: scale,
                                    shearX: shear.x, shearY: shear.y), fill: fill)
    }

    public static func affine(_ x: Tensor, _ p: Augment.AffineParams, fill: Float = 0) throws -> Tensor {
        try affine([x], p, fill: fill)[0]
    }

    public static func affine(_ xs: [Tensor], _ p: Augment.AffineParams, fill: Float = 0) throws -> [Tensor] {
        try affine(xs, p, fill: fill, op: "affine")
    }

    static func affine(_ xs: [Tensor], _ p: Augment.AffineParams, fill: Float, op: String) throws -> [Tensor] {
        try AugmentCheck.finite(p.angle, op, "angle")
        try AugmentCheck.finite(p.dx, op, "translate.dx")
        try AugmentCheck.finite(p.dy, op, "translate.dy")
        try AugmentCheck.finite(fill, op, "fill")
        guard p.scale.isFinite && p.scale > 0 else {
            throw AugmentCheck.fail(op, "scale must be positive and finite, got \(augmentFormat(p.scale))")
        }
        guard p.shearX.isFinite && p.shearY.isFinite && abs(p.shearX) < 90 && abs(p.shearY) < 90 else {
            throw AugmentCheck.fail(op, "shear must be finite and within (-90, 90) degrees, got (\(augmentFormat(p.shearX)), \(augmentFormat(p.shearY)))")
        }
        let ls = try AugmentCheck.layouts(xs, op)
        let m = try p.inverse(width: ls[0].width, height: ls[0].height)
        return try zip(xs, ls).map { x, l in
            try AugmentKernel.map(x, l, outH: l.height, outW: l.width) { s, d, _ in
                AugmentKernel.affine(s, d, h: l.height, w: l.width, m: m, fill: fill)
            }
        }
    }

    // MARK: Photometric

    /// y = clamp((x − m)·contrast + m + brightness, 0, 1)^gamma, m = the mean of each (H, W)
    /// plane. brightness: any finite value; contrast ≥ 0; gamma > 0.
    public static func adjust(_ x: Tensor, brightness: Float = 0, contrast: Float = 1, gamma: Float = 1) throws -> Tensor {
        try adjust([x], brightness: brightness, contrast: contrast, gamma: gamma)[0]
    }

    public static func adjust(_ xs: [Tensor], brightness: Float = 0, contrast: Float = 1, gamma: Float = 1) throws -> [Tensor] {
        try AugmentCheck.finite(brightness, "adjust", "brightness")
        guard contrast.isFinite && contrast >= 0 else {
            throw AugmentCheck.fail("adjust", "contrast must be non-negative and finite, got \(augmentFormat(contrast))")
        }
        guard gamma.isFinite && gamma > 0 else {
            throw AugmentCheck.fail("adjust", "gamma must be positive and finite, got \(augmentFormat(gamma))")
        }
        let ls = try AugmentCheck.layouts(xs, "adjust")
        return try zip(xs, ls).map { x, l in
            let n = l.height * l.width
            return try AugmentKernel.map(x, l, outH: l.height, outW: l.width) { s, d, _ in
                var sum: Double = 0
                for i in 0..<n { sum += Double(s[i]) }
                let m = Float(sum / Double(n))
                for i in 0..<n {
                    let y = min(max((s[i] - m) * contrast + m + brightness, 0), 1)
                    d[i] = gamma == 1 ? y : Foundation.powf(y, gamma)
                }
            }
        }
    }

    /// Adds Gaussian noise of standard deviation `std`. Every element gets its own draw:
    /// the generator is consumed in row-major order of the tensor (all channels/frames, so
    /// frames get different, independent noise, like a camera's), and for an array tensor
    /// after tensor; the same generator state gives the same noise. Not clamped unless `clamp`.
    public static func noise(_ x: Tensor, std: Float, generator: Generator, clamp: Bool = false) throws -> Tensor {
        try noise([x], std: std, generator: generator, clamp: clamp)[0]
    }

    public static func noise(_ xs: [Tensor], std: Float, generator: Generator, clamp: Bool = false) throws -> [Tensor] {
        guard std.isFinite else { throw AugmentCheck.fail("noise", "std must be finite, got \(std)") }
        guard std >= 0 else { throw AugmentCheck.fail("noise", "std must be non-negative, got \(augmentFormat(std))") }
        let ls = try AugmentCheck.layouts(xs, "noise")
        return try zip(xs, ls).map { x, l in
            let n = l.height * l.width
            return try AugmentKernel.map(x, l, outH: l.height, outW: l.width) { s, d, _ in
                for i in 0..<n {
                    let y = s[i] + std * generator.normal()
                    d[i] = clamp ? min(max(y, 0), 1) : y
                }
            }
        }
    }

    // MARK: Crops

    /// Crops `box` and resizes it to `size` (height, width) bilinearly (half-pixel centres,
    /// like `interpolate(mode: "bilinear", align_corners: false)`, no antialiasing).
    public static func resizedCrop(_ x: Tensor, box: Augment.CropBox, size: (height: Int, width: Int)) throws -> Tensor {
        try resizedCrop([x], box: box, size: size)[0]
    }

    public static func resizedCrop(_ xs: [Tensor], box: Augment.CropBox, size: (height: Int, width: Int)) throws -> [Tensor] {
        try resizedCrop(xs, box: box, size: size, op: "resizedCrop")
    }

    static func resizedCrop(_ xs: [Tensor], box: Augment.CropBox, size: (height: Int, width: Int), op: String) throws -> [Tensor] {
        guard size.height > 0 && size.width > 0 && size.height <= 1 << 15 && size.width <= 1 << 15 else {
            throw AugmentCheck.fail(op, "size must be positive (at most 32768), got (\(size.height), \(size.width))")
        }
        let ls = try AugmentCheck.layouts(xs, op)
        let h = ls[0].height, w = ls[0].width
        guard box.height > 0 && box.width > 0 && box.top >= 0 && box.left >= 0
                && box.top + box.height <= h && box.left + box.width <= w else {
            throw AugmentCheck.fail(op, "box \(box) is not a non-empty box inside the \(h)×\(w) image")
        }
        return try zip(xs, ls).map { x, l in
            try AugmentKernel.map(x, l, outH: size.height, outW: size.width) { s, d, _ in
                AugmentKernel.resizedCrop(s, d, w: l.width, box: box, outH: size.height, outW: size.width)
            }
        }
    }

    /// torchvision `RandomResizedCrop`: one box (area fraction in `scale`, aspect ratio
    /// w/h log-uniform in `ratio`, 10 tries then a centre crop) for all frames, resized to
    /// `size` × `size`.
    public static func randomResizedCrop(_ x: Tensor, size: Int, scale: ClosedRange<Float> = 0.8...1,
                                         ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0), generator: Generator) throws -> Tensor {
        try randomResizedCrop([x], size: (size, size), scale: scale, ratio: ratio, generator: generator)[0]
    }

    public static func randomResizedCrop(_ xs: [Tensor], size: Int, scale: ClosedRange<Float> = 0.8...1,
                                         ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0), generator: Generator) throws -> [Tensor] {
        try randomResizedCrop(xs, size: (size, size), scale: scale, ratio: ratio, generator: generator)
    }

    public static func randomResizedCrop(_ xs: [Tensor], size: (height: Int, width: Int), scale: ClosedRange<Float> = 0.8...1,
                                         ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0), generator: Generator) throws -> [Tensor] {
        guard size.height > 0 && size.width > 0 && size.height <= 1 << 15 && size.width <= 1 << 15 else {
            throw AugmentCheck.fail("randomResizedCrop", "size must be positive (at most 32768), got (\(size.height), \(size.width))")
        }
        let ls = try AugmentCheck.layouts(xs, "randomResizedCrop")
        let box = try RandomAugment.cropBox(height: ls[0].height, width: ls[0].width, scale: scale, ratio: ratio,
                                            generator: generator, op: "randomResizedCrop")
        return try resizedCrop(xs, box: box, size: size, op: "randomResizedCrop")
    }
}

/// Draws augmentation parameters from a `Generator` (so a seed reproduces them), and one-shot
/// helpers that draw once and apply the same parameters to every frame given.
public enum RandomAugment {
    /// Uniform in [lo, hi] (lo when the range is a point).
    static func uniform(_ g: Generator, _ r: ClosedRange<Float>) -> Float {
        r.lowerBound + (r.upperBound - r.lowerBound) * g.uniform()
    }

    /// Draws an affine transform: angle uniform in ±maxAngle degrees, translation uniform in
    /// ±maxTranslate pixels on each axis, scale uniform in `scale`, shear uniform in ±maxShear
    /// degrees (x only, like torchvision's single-number shear). Draw order: angle, dx, dy,
    /// scale, shear.
    public static func randomAffine(maxAngle: Float, maxTranslate: Float = 0, scale: ClosedRange<Float> = 1...1,
                                    maxShear: Float = 0, generator g: Generator) throws -> Augment.AffineParams {
        let op = "randomAffine"
        guard maxAngle.isFinite && maxAngle >= 0 && maxAngle <= 180 else {
            throw AugmentCheck.fail(op, "maxAngle must be in 0...180 degrees, got \(augmentFormat(maxAngle))")
        }
        guard maxTranslate.isFinite && maxTranslate >= 0 else {
            throw AugmentCheck.fail(op, "maxTranslate must be non-negative and finite, got \(augmentFormat(maxTranslate))")
        }
        try AugmentCheck.range(scale, op, "scale", positive: true)
        guard maxShear.isFinite && maxShear >= 0 && maxShear < 90 else {
            throw AugmentCheck.fail(op, "maxShear must be in 0..<90 degrees, got \(augmentFormat(maxShear))")
        }
        let angle = uniform(g, -maxAngle...maxAngle)
        let dx = uniform(g, -maxTranslate...maxTranslate), dy = uniform(g, -maxTranslate...maxTranslate)
        let s = uniform(g, scale)
        let sh = uniform(g, -maxShear...maxShear)
        return Augment.AffineParams(angle: angle, dx: dx, dy: dy, scale: s, shearX: sh)
    }

    /// Draws once and applies the same affine transform to every tensor.
    public static func randomAffine(_ xs: [Tensor], maxAngle: Float, maxTranslate: Float = 0,
                                    scale: ClosedRange<Float> = 1...1, maxShear: Float = 0, fill: Float = 0,
                                    generator: Generator) throws -> [Tensor] {
        _ = try AugmentCheck.layouts(xs, "randomAffine")
        let p = try randomAffine(maxAngle: maxAngle, maxTranslate: maxTranslate, scale: scale, maxShear: maxShear,
                                 generator: generator)
        return try p.apply(to: xs, fill: fill)
    }

    /// True with probability `p` (one draw).
    public static func flip(p: Float = 0.5, generator g: Generator) throws -> Bool {
        guard p.isFinite && p >= 0 && p <= 1 else {
            throw AugmentCheck.fail("randomHFlip", "p must be in 0...1, got \(augmentFormat(p))")
        }
        return g.uniform() < p
    }

    /// Mirrors all tensors left–right with probability `p` (one draw for all).
    public static func randomHFlip(_ xs: [Tensor], p: Float = 0.5, generator: Generator) throws -> [Tensor] {
        _ = try AugmentCheck.layouts(xs, "randomHFlip")
        return try flip(p: p, generator: generator) ? Augment.hflip(xs) : xs.map { try $0.clone() }
    }

    /// Draws a photometric adjustment: brightness uniform in ±maxBrightness, contrast uniform
    /// in `contrast`, gamma uniform in `gamma` (in that order).
    public static func adjustment(maxBrightness: Float = 0, contrast: ClosedRange<Float> = 1...1,
                                  gamma: ClosedRange<Float> = 1...1, generator g: Generator) throws -> Augment.Adjustment {
        let op = "randomAdjust"
        guard maxBrightness.isFinite && maxBrightness >= 0 else {
            throw AugmentCheck.fail(op, "maxBrightness must be non-negative and finite, got \(augmentFormat(maxBrightness))")
        }
        try AugmentCheck.range(contrast, op, "contrast", positive: false)
        guard contrast.lowerBound >= 0 else {
            throw AugmentCheck.fail(op, "contrast must be non-negative, got \(augmentFormat(contrast.lowerBound))...\(augmentFormat(contrast.upperBound))")
        }
        try AugmentCheck.range(gamma, op, "gamma", positive: true)
        let b = uniform(g, -maxBrightness...maxBrightness)
        let c = uniform(g, contrast), gm = uniform(g, gamma)
        return Augment.Adjustment(brightness: b, contrast: c, gamma: gm)
    }

    /// Draws one adjustment and applies it to every tensor.
    public static func randomAdjust(_ xs: [Tensor], maxBrightness: Float = 0, contrast: ClosedRange<Float> = 1...1,
                                    gamma: ClosedRange<Float> = 1...1, generator: Generator) throws -> [Tensor] {
        _ = try AugmentCheck.layouts(xs, "randomAdjust")
        return try adjustment(maxBrightness: maxBrightness, contrast: contrast, gamma: gamma, generator: generator)
            .apply(to: xs)
    }

    /// torchvision's `RandomResizedCrop.get_params`: up to 10 tries of an area fraction in
    /// `scale` and a log-uniform aspect ratio (w/h) in `ratio`, with top/left uniform over the
    /// valid positions; then a centre crop clamped to the ratio range.
    public static func cropBox(height h: Int, width w: Int, scale: ClosedRange<Float> = 0.8...1,
                               ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0), generator g: Generator) throws -> Augment.CropBox {
        try cropBox(height: h, width: w, scale: scale, ratio: ratio, generator: g, op: "randomResizedCrop")
    }

    static func cropBox(height h: Int, width w: Int, scale: ClosedRange<Float>, ratio: ClosedRange<Float>,
                        generator g: Generator, op: String) throws -> Augment.CropBox {
        guard h > 0 && w > 0 else { throw AugmentCheck.fail(op, "image size must be positive, got \(h)×\(w)") }
        try AugmentCheck.range(scale, op, "scale", positive: true)
        guard scale.upperBound <= 1 else {
            throw AugmentCheck.fail(op, "scale must be within (0, 1], got \(augmentFormat(scale.lowerBound))...\(augmentFormat(scale.upperBound))")
        }
        try AugmentCheck.range(ratio, op, "ratio", positive: true)
        let area = Float(h * w)
        let logLo = Foundation.log(ratio.lowerBound), logHi = Foundation.log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * uniform(g, scale)
            let aspect = Foundation.exp(logLo + (logHi - logLo) * g.uniform())
            let cw = Int((target * aspect).squareRoot().rounded())
            let ch = Int((target / aspect).squareRoot().rounded())
            if cw > 0 && cw <= w && ch > 0 && ch <= h {
                let top = g.integer(below: h - ch + 1), left = g.integer(below: w - cw + 1)
                return Augment.CropBox(top: top, left: left, height: ch, width: cw)
            }
        }
        // Fallback: centre crop.
        let inRatio = Float(w) / Float(h)
        var cw = w, ch = h
        if inRatio < ratio.lowerBound {
            ch = max(1, min(h, Int((Float(w) / ratio.lowerBound).rounded())))
        } else if inRatio > ratio.upperBound {
            cw = max(1, min(w, Int((Float(h) * ratio.upperBound).rounded())))
        }
        return Augment.CropBox(top: (h - ch) / 2, left: (w - cw) / 2, height: ch, width: cw)
    }
}
