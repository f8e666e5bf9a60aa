import Foundation
import MERTensor

// Procedural grey-level faces for the synthetic micro-expression data set.
//
// Coordinates: a face is described in *normalized* image coordinates (u, v) in [0, 1],
// u to the right, v downwards. Pixel i's centre is at u = (i + 0.5) / size, so the same
// identity renders at any size. Displacements of action units are given in pixels of a
// 112 × 112 image and scale with the size.

// MARK: - Seeds

/// Deterministic seed derivation: every random quantity of the data set comes from a
/// `Generator` whose seed is a hash of (data-set seed, stream tag, subject, sample), so any
/// sample renders on its own, in any order and on any thread.
enum SynthSeed {
    @inline(__always)
    static func splitMix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Hash of an ordered tuple of words.
    static func derive(_ parts: UInt64...) -> UInt64 {
        var h: UInt64 = 0x6A09_E667_F3BC_C909
        for p in parts { h = splitMix(h ^ splitMix(p)) }
        return h
    }

    static let identityTag: UInt64 = 0x1D
    static let sampleTag: UInt64 = 0x5A
}

extension Generator {
    /// Uniform in [lo, hi).
    @inline(__always)
    func synthUniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniform() }
}

@inline(__always)
func synthSmoothstep(_ t: Float) -> Float {
    let c = min(max(t, 0), 1)
    return c * c * (3 - 2 * c)
}

// MARK: - SynthCanvas

/// A square grey-level raster with the drawing primitives the face is made of. All
/// positions and sizes are normalized; stamps only touch the pixels of their bounding box
/// and axis-aligned Gaussians are evaluated separably, so a face costs a few hundred µs.
struct SynthCanvas {
    let size: Int
    var px: [Float]

    init(size: Int, fill: Float) {
        self.size = size
        px = [Float](repeating: fill, count: size * size)
    }

    var scale: Float { Float(size) }

    /// Pixel coordinate of a normalized coordinate.
    @inline(__always) func toPixel(_ u: Float) -> Float { u * scale - 0.5 }

    /// Clamped pixel range covering [lo, hi] (normalized).
    @inline(__always) func range(_ lo: Float, _ hi: Float) -> Range<Int> {
        let a = max(0, Int((toPixel(lo)).rounded(.down)))
        let b = min(size, Int((toPixel(hi)).rounded(.up)) + 1)
        return a < b ? a..<b : 0..<0
    }

    /// Adds `amp * exp(-((u-cu)²/2su² + (v-cv)²/2sv²))` (separable, ±3σ box).
    mutating func gaussian(_ cu: Float, _ cv: Float, _ su: Float, _ sv: Float, _ amp: Float) {
        let xr = range(cu - 3 * su, cu + 3 * su), yr = range(cv - 3 * sv, cv + 3 * sv)
        if xr.isEmpty || yr.isEmpty { return }
        let s = scale
        let wx = xr.map { i -> Float in let d = (Float(i) + 0.5) / s - cu; return Foundation.exp(-d * d / (2 * su * su)) }
        let n = size
        px.withUnsafeMutableBufferPointer { p in
            for j in yr {
                let d = (Float(j) + 0.5) / s - cv
                let wy = amp * Foundation.exp(-d * d / (2 * sv * sv))
                let row = j * n
                for (k, i) in xr.enumerated() { p[row + i] += wy * wx[k] }
            }
        }
    }

    /// Blends towards `value` inside a (rotated) ellipse with a one-pixel soft edge.
    mutating func ellipse(_ cu: Float, _ cv: Float, _ ru: Float, _ rv: Float, angle: Float = 0,
                          value: Float, opacity: Float = 1) {
        let r = max(ru, rv) + 1.5 / scale
        let xr = range(cu - r, cu + r), yr = range(cv - r, cv + r)
        let c = Foundation.cos(angle), sn = Foundation.sin(angle)
        let edge = min(ru, rv) * scale      // pixels per unit of normalized radius
        let s = scale, n = size
        px.withUnsafeMutableBufferPointer { p in
            for j in yr {
                let dv = (Float(j) + 0.5) / s - cv
                for i in xr {
                    let du = (Float(i) + 0.5) / s - cu
                    let a = (du * c + dv * sn) / ru, b = (-du * sn + dv * c) / rv
                    let rr = (a * a + b * b).squareRoot()
                    let alpha = min(max(0.5 + (1 - rr) * edge, 0), 1) * opacity
                    if alpha > 0 { p[j * n + i] += alpha * (value - p[j * n + i]) }
                }
            }
        }
    }

    /// Blends towards `value` along the curve v = cv + tilt·(u−cu) + bend·((u−cu)/hw)² for
    /// |u − cu| ≤ hw, with a Gaussian cross-section of width `sigma` and tapered ends.
    mutating func curve(_ cu: Float, _ cv: Float, halfWidth hw: Float, tilt: Float = 0, bend: Float = 0,
                        sigma: Float, value: Float, opacity: Float, taper: Float = 0.3) {
        let vmin = cv - abs(tilt) * hw - abs(bend) - 3 * sigma
        let vmax = cv + abs(tilt) * hw + abs(bend) + 3 * sigma
        let xr = range(cu - hw, cu + hw), yr = range(vmin, vmax)
        let s = scale, n = size
        var centre = [Float](repeating: 0, count: xr.count)
        var weight = [Float](repeating: 0, count: xr.count)
        for (k, i) in xr.enumerated() {
            let du = (Float(i) + 0.5) / s - cu
            let t = du / hw
            centre[k] = cv + tilt * du + bend * t * t
            let e = abs(t)
            weight[k] = e >= 1 ? 0 : opacity * (1 - synthSmoothstep((e - (1 - taper)) / max(taper, 1e-6)))
        }
        px.withUnsafeMutableBufferPointer { p in
            for j in yr {
                let v = (Float(j) + 0.5) / s
                for (k, i) in xr.enumerated() where weight[k] > 0 {
                    let d = v - centre[k]
                    let a = weight[k] * Foundation.exp(-d * d / (2 * sigma * sigma))
                    p[j * n + i] += a * (value - p[j * n + i])
                }
            }
        }
    }

    /// Adds `amp` along the segment p0–p1 with a Gaussian cross-section and tapered ends.
    mutating func segment(_ u0: Float, _ v0: Float, _ u1: Float, _ v1: Float, sigma: Float, amp: Float) {
        let xr = range(min(u0, u1) - 3 * sigma, max(u0, u1) + 3 * sigma)
        let yr = range(min(v0, v1) - 3 * sigma, max(v0, v1) + 3 * sigma)
        let du = u1 - u0, dv = v1 - v0
        let len2 = max(du * du + dv * dv, 1e-12)
        let s = scale, n = size
        px.withUnsafeMutableBufferPointer { p in
            for j in yr {
                let v = (Float(j) + 0.5) / s
                for i in xr {
                    let u = (Float(i) + 0.5) / s
                    let t = ((u - u0) * du + (v - v0) * dv) / len2
                    if t < 0 || t > 1 { continue }
                    let eu = u - (u0 + t * du), ev = v - (v0 + t * dv)
                    let taper = synthSmoothstep(t / 0.2) * synthSmoothstep((1 - t) / 0.2)
                    p[j * n + i] += amp * taper * Foundation.exp(-(eu * eu + ev * ev) / (2 * sigma * sigma))
                }
            }
        }
    }
}

// MARK: - Identity

/// One synthetic subject: face shape, feature placement, skin tone and texture, lighting.
/// Everything is drawn from `Generator(seed:)` of the subject seed, so an identity is a pure
/// function of that seed.
public struct SyntheticFace: Sendable {
    // Face oval (egg-shaped: narrower towards the jaw).
    var cx, cy, halfW, halfH, jawTaper: Float
    // Tones.
    var skin, background, backgroundSlope, hair, hairline, lip, iris, sclera: Float
    // Hair: how far down the sides it falls (normalized v) and how much the hairline dips at the temples.
    var hairBottom, hairlineCurve: Float
    // Eyes and brows.
    var eyeY, eyeDX, eyeRX, eyeRY: Float
    var browY, browDX, browHW, browSigma, browBend, browTilt, browTone: Float
    // Nose, mouth, cheeks, chin.
    var noseY, noseW, noseBridgeY: Float
    var mouthY, mouthHW, upperLip, lowerLip, mouthBend: Float
    var cheekY, cheekDX, chinY, foldDepth: Float
    // Lighting gradient (multiplicative) and skin texture (value noise, three octaves).
    var lightAngle, lightStrength: Float
    var textureAmp: [Float]
    var textureGrid: [Int]
    var texture: [[Float]]
    /// How strongly this subject expresses (multiplies every AU intensity).
    public var expressivity: Float

    /// Draws an identity from a seed.
    public init(seed: UInt64) {
        let g = Generator(seed: seed)
        cx = 0.5 + g.synthUniform(-0.02, 0.02)
        cy = 0.53 + g.synthUniform(-0.02, 0.02)
        halfW = g.synthUniform(0.29, 0.35)
        halfH = min(halfW * g.synthUniform(1.2, 1.4), 0.44)
        jawTaper = g.synthUniform(0.15, 0.3)

        skin = g.synthUniform(0.45, 0.7)
        // Background well separated from the skin, darker or lighter.
        background = g.uniform() < 0.5 ? skin - g.synthUniform(0.2, 0.35) : min(0.97, skin + g.synthUniform(0.2, 0.3))
        backgroundSlope = g.synthUniform(-0.1, 0.1)
        hair = g.synthUniform(0.05, 0.25)
        hairline = g.synthUniform(0.55, 0.72)
        lip = skin * g.synthUniform(0.72, 0.86)
        iris = g.synthUniform(0.1, 0.35)
        sclera = min(0.92, skin + g.synthUniform(0.15, 0.25))

        eyeY = cy - halfH * g.synthUniform(0.12, 0.2)
        eyeDX = halfW * g.synthUniform(0.38, 0.46)
        eyeRX = halfW * g.synthUniform(0.17, 0.21)
        eyeRY = eyeRX * g.synthUniform(0.38, 0.48)

        browY = eyeY - halfH * g.synthUniform(0.14, 0.19)
        browDX = eyeDX + g.synthUniform(-0.005, 0.012)
        browHW = eyeRX * g.synthUniform(1.2, 1.45)
        browSigma = g.synthUniform(0.007, 0.011)
        browBend = g.synthUniform(0.004, 0.016)
        browTilt = g.synthUniform(-0.08, 0.08)
        browTone = g.synthUniform(0.08, 0.25)

        noseY = cy + halfH * g.synthUniform(0.12, 0.2)
        noseW = halfW * g.synthUniform(0.2, 0.27)
        noseBridgeY = eyeY + 0.02

        mouthY = min(noseY + halfH * g.synthUniform(0.2, 0.26), cy + halfH * 0.72)
        mouthHW = halfW * g.synthUniform(0.3, 0.4)
        upperLip = g.synthUniform(0.009, 0.014)
        lowerLip = g.synthUniform(0.012, 0.018)
        mouthBend = g.synthUniform(-0.006, 0.006)

        cheekY = eyeY + halfH * g.synthUniform(0.2, 0.28)
        cheekDX = halfW * g.synthUniform(0.5, 0.6)
        chinY = cy + halfH * 0.88
        foldDepth = g.synthUniform(0.02, 0.06)

        lightAngle = g.synthUniform(0, 2 * Float.pi)
        lightStrength = g.synthUniform(0, 0.3)
        textureAmp = [g.synthUniform(0.02, 0.045), g.synthUniform(0.012, 0.028), g.synthUniform(0.008, 0.018)]
        textureGrid = [5, 11, 23]
        texture = textureGrid.map { n in (0..<((n + 1) * (n + 1))).map { _ in g.synthUniform(-1, 1) } }
        expressivity = g.synthUniform(0.8, 1.2)
        hairBottom = g.synthUniform(eyeY - 0.08, cy + 0.12)
        hairlineCurve = g.synthUniform(0.3, 1.5)
    }

    /// The identity of subject `subject` (0-based) of a data set seed.
    public init(subject: Int, seed: UInt64) {
        self.init(seed: SynthSeed.derive(seed, SynthSeed.identityTag, UInt64(truncatingIfNeeded: subject)))
    }

    // MARK: Landmarks (normalized; side = -1 image-left, +1 image-right)

    func eye(_ side: Float) -> (Float, Float) { (cx + side * eyeDX, eyeY) }
    func browCentre(_ side: Float) -> (Float, Float) { (cx + side * browDX, browY) }
    func browInner(_ side: Float) -> (Float, Float) { (cx + side * (browDX - browHW * 0.8), browY + browBend * 0.64 - browTilt * browHW * 0.8) }
    func browOuter(_ side: Float) -> (Float, Float) { (cx + side * (browDX + browHW * 0.8), browY + browBend * 0.64 + browTilt * browHW * 0.8) }
    func cheek(_ side: Float) -> (Float, Float) { (cx + side * cheekDX, cheekY) }
    func ala(_ side: Float) -> (Float, Float) { (cx + side * noseW, noseY - 0.005) }
    func mouthCorner(_ side: Float) -> (Float, Float) { (cx + side * mouthHW, mouthY + mouthBend) }
    var upperLipCentre: (Float, Float) { (cx, mouthY - upperLip * 0.6) }
    var lowerLipCentre: (Float, Float) { (cx, mouthY + lowerLip * 0.7) }
    var chinPoint: (Float, Float) { (cx, (mouthY + lowerLip * 1.5 + chinY) * 0.5) }

    // MARK: Rendering

    /// Value noise (smoothstep-interpolated lattice) summed over the octaves, at (u, v).
    @inline(__always)
    func textureValue(_ u: Float, _ v: Float) -> Float {
        var sum: Float = 0
        for o in 0..<texture.count {
            let n = textureGrid[o]
            let gu = min(max(u, 0), 1) * Float(n), gv = min(max(v, 0), 1) * Float(n)
            let i = min(Int(gu), n - 1), j = min(Int(gv), n - 1)
            let fu = synthSmoothstep(gu - Float(i)), fv = synthSmoothstep(gv - Float(j))
            let t = texture[o], w = n + 1
            let a = t[j * w + i] + fu * (t[j * w + i + 1] - t[j * w + i])
            let b = t[(j + 1) * w + i] + fu * (t[(j + 1) * w + i + 1] - t[(j + 1) * w + i])
            sum += textureAmp[o] * (a + fv * (b - a))
        }
        return sum
    }

    /// The neutral face in its canonical pose, as a canvas (values roughly in [0, 1]).
    func renderCanvas(size: Int) -> SynthCanvas {
        var c = SynthCanvas(size: size, fill: 0)
        let s = Float(size)
        let edge = min(halfW, halfH) * s
        // Base: background, hair, neck, face oval with texture and rim shading.
        c.px.withUnsafeMutableBufferPointer { p in
            for j in 0..<size {
                let v = (Float(j) + 0.5) / s
                let dv = (v - cy) / halfH
                let narrow = 1 - jawTaper * max(0, dv) * max(0, dv)
                for i in 0..<size {
                    let u = (Float(i) + 0.5) / s
                    var value = background + backgroundSlope * (u - 0.5)
                    // Neck.
                    let neckAlpha = min(max(0.5 + (halfW * 0.5 - abs(u - cx)) * s, 0), 1) * (v > cy ? 1 : 0)
                    value += neckAlpha * (skin * 0.78 - value)
                    // Hair: a slightly larger oval above the hairline.
                    let hu = (u - cx) / (halfW * 1.1), hv = (v - cy + 0.02) / (halfH * 1.08)
                    let hr = (hu * hu + hv * hv).squareRoot()
                    let hairlineV = cy - halfH * hairline + hairlineCurve * (u - cx) * (u - cx)
                    let hairAlpha = min(max(0.5 + (1 - hr) * edge, 0), 1)
                        * synthSmoothstep((max(hairlineV + 0.01, hairBottom) - v) / 0.04 + 0.5)
                    value += hairAlpha * (hair - value)
                    // Face.
                    let fu = (u - cx) / (halfW * narrow)
                    let r = (fu * fu + dv * dv).squareRoot()
                    let faceAlpha = min(max(0.5 + (1 - r) * edge, 0), 1)
                    if faceAlpha > 0 {
                        let r2 = r * r
                        var f = skin * (1 - 0.22 * r2 * r2 * r2) + textureValue(u, v)
                        // Hairline: the face fades into the hair at the top.
                        let top = synthSmoothstep((hairlineV - v) / 0.03 + 0.5)
                        f += top * (hair - f)
                        value += faceAlpha * (f - value)
                    }
                    p[j * size + i] = value
                }
            }
        }
        for side: Float in [-1, 1] {
            // Cheekbone highlight, under-eye shadow.
            let (chu, chv) = cheek(side)
            c.gaussian(chu, chv, 0.05, 0.045, 0.05)
            let (eu, ev) = eye(side)
            c.gaussian(eu, ev + eyeRY * 2.2, eyeRX * 0.8, eyeRY * 0.8, -0.035)
            // Eye: lash outline, sclera, iris, pupil, lid crease.
            c.ellipse(eu, ev, eyeRX * 1.08, eyeRY * 1.25, value: skin * 0.35, opacity: 0.9)
            c.ellipse(eu, ev, eyeRX * 0.95, eyeRY, value: sclera)
            c.ellipse(eu, ev, eyeRY * 0.95, eyeRY * 0.95, value: iris)
            c.ellipse(eu, ev, eyeRY * 0.42, eyeRY * 0.42, value: 0.05)
            c.gaussian(eu + side * eyeRY * 0.3, ev - eyeRY * 0.35, eyeRY * 0.15, eyeRY * 0.15, 0.25) // catch light
            c.curve(eu, ev - eyeRY * 2.0, halfWidth: eyeRX * 0.95, bend: eyeRY * 0.6, sigma: 0.0045,
                    value: skin * 0.6, opacity: 0.5)
            // Brow.
            let (bu, bv) = browCentre(side)
            c.curve(bu, bv, halfWidth: browHW, tilt: side * browTilt, bend: browBend, sigma: browSigma,
                    value: browTone, opacity: 0.85, taper: 0.35)
            // Nose side shadow and ala.
            c.segment(cx + side * noseW * 0.55, noseBridgeY + 0.03, cx + side * noseW * 0.75, noseY - 0.02,
                      sigma: 0.01, amp: -0.05)
            let (au, av) = ala(side)
            c.gaussian(au, av, 0.014, 0.016, -0.06)
            c.ellipse(cx + side * noseW * 0.45, noseY + 0.012, 0.014, 0.0065, angle: side * 0.3,
                      value: 0.12, opacity: 0.8)
            // Nasolabial fold: from the ala towards beyond the lip corner.
            let (mu, mv) = mouthCorner(side)
            c.segment(au + side * 0.012, av + 0.005, mu + side * 0.03, mv + 0.035, sigma: 0.006, amp: -foldDepth)
            // Lip corner shadow.
            c.gaussian(mu, mv, 0.008, 0.006, -0.05)
        }
        // Nose bridge and tip highlights.
        c.segment(cx, noseBridgeY + 0.02, cx, noseY - 0.02, sigma: 0.01, amp: 0.05)
        c.gaussian(cx, noseY - 0.012, 0.018, 0.014, 0.06)
        // Lips: upper, lower, the mouth line, a lower-lip highlight.
        c.ellipse(cx, mouthY - upperLip * 0.55, mouthHW * 0.95, upperLip, value: lip, opacity: 0.9)
        c.ellipse(cx, mouthY + lowerLip * 0.6, mouthHW * 0.82, lowerLip, value: lip * 1.05, opacity: 0.9)
        c.gaussian(cx, mouthY + lowerLip * 0.8, mouthHW * 0.35, lowerLip * 0.35, 0.04)
        c.curve(cx, mouthY, halfWidth: mouthHW, bend: mouthBend, sigma: 0.0035, value: 0.08, opacity: 0.85, taper: 0.15)
        // Chin: mentolabial shadow and chin highlight; forehead highlight.
        c.gaussian(cx, mouthY + lowerLip * 1.6 + 0.012, mouthHW * 0.6, 0.008, -0.045)
        let (ku, kv) = chinPoint
        c.gaussian(ku, kv + 0.01, 0.035, 0.025, 0.04)
        c.gaussian(cx, browY - 0.07, 0.08, 0.04, 0.04)
        // Lighting gradient.
        let lu = Foundation.cos(lightAngle) * lightStrength, lv = Foundation.sin(lightAngle) * lightStrength
        c.px.withUnsafeMutableBufferPointer { p in
            for j in 0..<size {
                let v = (Float(j) + 0.5) / s - 0.5
                for i in 0..<size {
                    let u = (Float(i) + 0.5) / s - 0.5
                    p[j * size + i] *= 1 + lu * u + lv * v
                }
            }
        }
        return c
    }

    /// The neutral face, canonical pose, shape (1, size, size), clamped to [0, 1].
    public func renderNeutral(size: Int = 112) throws -> Tensor {
        guard size >= 16 && size <= 4096 else {
            throw TensorError("SyntheticFace.renderNeutral: size must be in 16...4096, got \(size)")
        }
        let c = renderCanvas(size: size)
        return try Tensor.from(c.px.map { min(max($0, 0), 1) }, shape: [1, size, size])
    }
}
