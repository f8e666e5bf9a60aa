import Foundation
import MERTensor

// Geometry of the augmentations: parameter types, the inverse affine map, bilinear
// sampling kernels, and the argument checks shared by `Augment` and `RandomAugment`.

extension Augment {
    /// An affine transform about the image centre ((W−1)/2, (H−1)/2 in pixel-index
    /// coordinates), torchvision-style: the content is sheared, scaled, rotated by `angle`
    /// degrees (positive = counter-clockwise on screen, as torchvision's `rotate`), then
    /// translated by (dx, dy) pixels (positive dx = right, positive dy = down).
    /// Shear angles are in degrees: x' = x + tan(shearX)·y, y' = y + tan(shearY)·x.
    public struct AffineParams: Equatable, Sendable, CustomStringConvertible {
        public var angle: Float
        public var dx: Float
        public var dy: Float
        public var scale: Float
        public var shearX: Float
        public var shearY: Float

        public init(angle: Float = 0, dx: Float = 0, dy: Float = 0, scale: Float = 1, shearX: Float = 0, shearY: Float = 0) {
            self.angle = angle; self.dx = dx; self.dy = dy; self.scale = scale; self.shearX = shearX; self.shearY = shearY
        }

        public static let identity = Augment.AffineParams()

        public var description: String {
            "Augment.AffineParams(angle: \(angle), translate: (\(dx), \(dy)), scale: \(scale), shear: (\(shearX), \(shearY)))"
        }

        /// Applies this transform to one tensor (C,H,W) or (N,C,H,W).
        public func apply(to x: Tensor, fill: Float = 0) throws -> Tensor {
            try Augment.affine(x, self, fill: fill)
        }

        /// Applies this same transform to every tensor.
        public func apply(to xs: [Tensor], fill: Float = 0) throws -> [Tensor] {
            try Augment.affine(xs, self, fill: fill)
        }

        /// Cosine and sine of `degrees`, exact at multiples of 90°.
        static func cosSin(_ degrees: Float) -> (Float, Float) {
            // Reduced to one turn first: Int(q) of a huge angle (1e38) would trap, and a
            // whole number of turns is no rotation.
            let degrees = degrees.isFinite ? degrees.truncatingRemainder(dividingBy: 360) : degrees
            let q = degrees / 90
            if q == q.rounded() {
                switch ((Int(q) % 4) + 4) % 4 {
                case 0: return (1, 0)
                case 1: return (0, 1)
                case 2: return (-1, 0)
                default: return (0, -1)
                }
            }
            let r = Double(degrees) * Double.pi / 180
            return (Float(Foundation.cos(r)), Float(Foundation.sin(r)))
        }

        /// Forward linear part L = scale · R(angle) · Shear, with R counter-clockwise on screen
        /// (y down): R = [[cos, sin], [−sin, cos]].
        var linear: (Float, Float, Float, Float) {
            let (c, s) = Augment.AffineParams.cosSin(angle)
            let tx = Float(Foundation.tan(Double(shearX) * Double.pi / 180))
            let ty = Float(Foundation.tan(Double(shearY) * Double.pi / 180))
            // R · Sh with Sh = [[1, tx], [ty, 1]].
            let a = c + s * ty, b = c * tx + s
            let d = -s + c * ty, e = -s * tx + c
            return (scale * a, scale * b, scale * d, scale * e)
        }

        /// Inverse map from output pixel (x', y') to input pixel (x, y) for an image of w × h:
        /// x = m0·x' + m1·y' + m2, y = m3·x' + m4·y' + m5.
        func inverse(width w: Int, height h: Int) throws -> [Float] {
            let (a, b, d, e) = linear
            let det = a * e - b * d
            guard det.isFinite, abs(det) > 1e-6 else {
                throw TensorError("augment.affine: the transform is singular (scale \(scale), shear (\(shearX), \(shearY)))")
            }
            let ia = e / det, ib = -b / det, id = -d / det, ie = a / det
            let cx = Float(w - 1) / 2, cy = Float(h - 1) / 2
            // x = c + L⁻¹ (x' − c − t)
            let ox = -cx - dx, oy = -cy - dy
            return [ia, ib, cx + ia * ox + ib * oy,
                    id, ie, cy + id * ox + ie * oy]
        }
    }

    /// A crop box in pixel-index coordinates of the input.
    public struct CropBox: Equatable, Sendable {
        public var top: Int
        public var left: Int
        public var height: Int
        public var width: Int
        public init(top: Int, left: Int, height: Int, width: Int) {
            self.top = top; self.left = left; self.height = height; self.width = width
        }
    }

    /// Photometric adjustment: y = clamp((x − m)·contrast + m + brightness, 0, 1)^gamma, where m
    /// is the mean of each (H, W) plane (so a pair passed as channels or as an array of frames is
    /// adjusted identically).
    public struct Adjustment: Equatable, Sendable {
        public var brightness: Float
        public var contrast: Float
        public var gamma: Float
        public init(brightness: Float = 0, contrast: Float = 1, gamma: Float = 1) {
            self.brightness = brightness; self.contrast = contrast; self.gamma = gamma
        }
        public func apply(to x: Tensor) throws -> Tensor {
            try Augment.adjust(x, brightness: brightness, contrast: contrast, gamma: gamma)
        }
        public func apply(to xs: [Tensor]) throws -> [Tensor] {
            try Augment.adjust(xs, brightness: brightness, contrast: contrast, gamma: gamma)
        }
    }
}

// MARK: - Checks and kernels

/// Number formatting for messages: integers without ".0".
func augmentFormat(_ v: Float) -> String {
    if v.isFinite && v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
    return "\(v)"
}

struct AugmentLayout {
    let shape: [Int]
    let planes: Int
    let height: Int
    let width: Int
}

enum AugmentCheck {
    static func fail(_ op: String, _ message: String) -> TensorError { TensorError("augment.\(op): \(message)") }

    /// (C,H,W) or (N,C,H,W), non-empty, finite pixels.
    static func layout(_ x: Tensor, _ op: String, argument: String = "input") throws -> AugmentLayout {
        guard x.rank == 3 || x.rank == 4 else {
            throw fail(op, "\(argument) must have shape (C,H,W) or (N,C,H,W), got \(x.rank) dimension\(x.rank == 1 ? "" : "s") \(x.shape)")
        }
        let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        guard x.count > 0 else { throw fail(op, "\(argument) is empty (shape \(x.shape))") }
        let planes = x.count / (h * w)
        let c = try x.contiguous()
        let p = c.pointer
        for i in 0..<c.count where !p[i].isFinite {
            throw fail(op, "\(argument) has a non-finite pixel (\(p[i])) at element \(i)")
        }
        withExtendedLifetime(c) {}
        return AugmentLayout(shape: x.shape, planes: planes, height: h, width: w)
    }

    /// Every tensor checked; all must share H and W.
    static func layouts(_ xs: [Tensor], _ op: String) throws -> [AugmentLayout] {
        guard !xs.isEmpty else { throw fail(op, "no tensors given") }
        let ls = try xs.enumerated().map { try layout($0.element, op, argument: xs.count == 1 ? "input" : "input[\($0.offset)]") }
        for (i, l) in ls.enumerated() where l.height != ls[0].height || l.width != ls[0].width {
            throw fail(op, "input[\(i)] is \(l.height)×\(l.width) but input[0] is \(ls[0].height)×\(ls[0].width); frames transformed together must have the same size")
        }
        return ls
    }

    static func finite(_ v: Float, _ op: String, _ name: String) throws {
        guard v.isFinite else { throw fail(op, "\(name) must be finite, got \(v)") }
    }

    static func range(_ r: ClosedRange<Float>, _ op: String, _ name: String, positive: Bool) throws {
        guard r.lowerBound.isFinite && r.upperBound.isFinite else {
            throw fail(op, "\(name) must be a finite range, got \(r)")
        }
        if positive && r.lowerBound <= 0 {
            throw fail(op, "\(name) must be positive, got \(augmentFormat(r.lowerBound))...\(augmentFormat(r.upperBound))")
        }
    }
}

enum AugmentKernel {
    /// Runs `body(src, dst)` over the tensor's planes, producing a new contiguous tensor of
    /// shape `outShape` (leading dimensions of the input, then outH, outW).
    static func map(_ x: Tensor, _ l: AugmentLayout, outH: Int, outW: Int,
                    _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) throws -> Tensor {
        var shape = l.shape
        shape[shape.count - 2] = outH
        shape[shape.count - 1] = outW
        let out = try Tensor(zeros: shape)
        let src = try x.contiguous()
        let sp = UnsafePointer(src.pointer), dp = out.pointer
        for plane in 0..<l.planes {
            body(sp + plane * l.height * l.width, dp + plane * outH * outW, plane)
        }
        withExtendedLifetime(src) {}
        return out
    }

    /// Bilinear sample of a (h, w) plane at (x, y) (pixel-index coordinates); neighbours
    /// outside the image take `fill`.
    @inline(__always)
    static func bilinearFill(_ p: UnsafePointer<Float>, _ h: Int, _ w: Int, _ x: Float, _ y: Float, _ fill: Float) -> Float {
        let xf = x.rounded(.down), yf = y.rounded(.down)
        let fx = x - xf, fy = y - yf
        guard xf > -2, yf > -2, xf < Float(w) + 1, yf < Float(h) + 1 else { return fill }
        let x0 = Int(xf), y0 = Int(yf)
        @inline(__always) func at(_ xi: Int, _ yi: Int) -> Float {
            (xi >= 0 && xi < w && yi >= 0 && yi < h) ? p[yi * w + xi] : fill
        }
        let v00 = at(x0, y0), v01 = at(x0 + 1, y0), v10 = at(x0, y0 + 1), v11 = at(x0 + 1, y0 + 1)
        let a = fx == 0 ? v00 : v00 + fx * (v01 - v00)
        let b = fx == 0 ? v10 : v10 + fx * (v11 - v10)
        return fy == 0 ? a : a + fy * (b - a)
    }

    /// Output plane of the inverse affine map `m` (see `Augment.AffineParams.inverse`).
    static func affine(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, h: Int, w: Int,
                       m: [Float], fill: Float) {
        for j in 0..<h {
            let y = Float(j)
            for i in 0..<w {
                let x = Float(i)
                let sx = m[0] * x + m[1] * y + m[2]
                let sy = m[3] * x + m[4] * y + m[5]
                dst[j * w + i] = bilinearFill(src, h, w, sx, sy, fill)
            }
        }
    }

    /// Bilinear resize of the crop box to outH × outW (PyTorch `interpolate(mode: bilinear,
    /// align_corners: false)` semantics, no antialiasing; edges clamped inside the box).
    static func resizedCrop(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, w: Int,
                            box: Augment.CropBox, outH: Int, outW: Int) {
        let sy = Float(box.height) / Float(outH), sx = Float(box.width) / Float(outW)
        var x0s = [Int](repeating: 0, count: outW), x1s = x0s, fxs = [Float](repeating: 0, count: outW)
        for i in 0..<outW {
            let x = max(0, (Float(i) + 0.5) * sx - 0.5)
            let x0 = min(Int(x), box.width - 1)
            x0s[i] = box.left + x0
            x1s[i] = box.left + min(x0 + 1, box.width - 1)
            fxs[i] = min(x - Float(x0), 1)
        }
        for j in 0..<outH {
            let y = max(0, (Float(j) + 0.5) * sy - 0.5)
            let y0 = min(Int(y), box.height - 1)
            let fy = min(y - Float(y0), 1)
            let r0 = (box.top + y0) * w, r1 = (box.top + min(y0 + 1, box.height - 1)) * w
            for i in 0..<outW {
                let a = src[r0 + x0s[i]] + fxs[i] * (src[r0 + x1s[i]] - src[r0 + x0s[i]])
                let b = src[r1 + x0s[i]] + fxs[i] * (src[r1 + x1s[i]] - src[r1 + x0s[i]])
                dst[j * outW + i] = a + fy * (b - a)
            }
        }
    }
}
