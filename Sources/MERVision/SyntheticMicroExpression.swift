import Foundation
import MERTensor

/// Options of the synthetic micro-expression data set.
public struct SyntheticOptions: Sendable, Equatable {
    /// Number of subjects (identities).
    public var subjects: Int = 8
    /// Samples per class per subject.
    public var perClass: Int = 4
    /// Frame side in pixels (square frames; 16...4096).
    public var size: Int = 112
    /// Data-set seed: the same seed gives bit-identical samples, another seed other faces
    /// and other expressions.
    public var seed: UInt64 = 0
    /// Base AU intensity: peak skin displacement in pixels of a 112 × 112 frame (scaled with
    /// `size`), drawn uniformly per sample, then jittered per AU (±15 %) and multiplied by the
    /// subject's expressivity (0.8–1.2). Real micro-expressions move a few pixels.
    public var intensity: ClosedRange<Float> = 1.0...3.0
    /// Head motion between onset and apex: std of the per-frame translation (pixels at 112);
    /// rotation std is `headMotion` degrees × 0.5.
    public var headMotion: Float = 0.3
    /// Per-frame Gaussian sensor noise std (on the [0, 1] scale).
    public var noise: Float = 0.01
    /// Illumination change between onset and apex (std of the gain − 1 and of the offset).
    public var illumination: Float = 0.01

    public init(subjects: Int = 8, perClass: Int = 4, size: Int = 112, seed: UInt64 = 0,
                intensity: ClosedRange<Float> = 1.0...3.0) {
        self.subjects = subjects; self.perClass = perClass; self.size = size; self.seed = seed
        self.intensity = intensity
    }
}

/// A learnable synthetic stand-in for CASME II / SAMM: onset/apex pairs of procedural
/// faces whose apex carries a subtle, local, class-specific AU deformation.
///
/// Layout: subject `s` (0-based, named "s01", "s02", …) has `5 × perClass` samples; sample
/// index `k` has label `k / perClass` and is the `(k % perClass + 1)`-th of its class, id
/// "s01_happiness_02". Every sample is a pure function of (seed, subject, index).
///
/// Classes (CASME II 5-class order, 0-based labels) and their action units:
///  0 happiness   AU6 (0.7 i) + AU12 (i)
///  1 disgust     AU4 (0.8 i) + AU9 (i) + AU10 (0.4 i)
///  2 repression  AU14 (i) or AU17 (i) or both, + AU24 (0.5 i)
///  3 surprise    AU1 (i) + AU2 (0.9 i), 30 % of samples also AU26 (0.3 i)
///  4 others      1–3 of AU5, AU7, AU15, AU20, AU23, AU25 at 0.5–0.8 i
/// where i is drawn from `options.intensity` (pixels at 112).
public enum SyntheticMicroExpressions {
    /// Class names, index = label. Fixed order: happiness, disgust, repression, surprise, others.
    public static let classNames = ["happiness", "disgust", "repression", "surprise", "others"]

    /// Number of samples: subjects × 5 × perClass.
    public static func count(_ options: SyntheticOptions) -> Int {
        options.subjects * classNames.count * options.perClass
    }

    /// Subject name of a 0-based subject index ("s01" for 0).
    public static func subjectName(_ subject: Int) -> String { "s" + pad2(subject + 1) }

    static func pad2(_ n: Int) -> String { n < 10 && n >= 0 ? "0\(n)" : "\(n)" }

    static func validate(_ o: SyntheticOptions, _ op: String) throws {
        func need(_ ok: Bool, _ m: @autoclosure () -> String) throws { if !ok { throw TensorError("\(op): \(m())") } }
        try need(o.subjects >= 1, "subjects must be at least 1, got \(o.subjects)")
        try need(o.perClass >= 1, "perClass must be at least 1, got \(o.perClass)")
        // Bounded before `count` multiplies them, and so that per-sample tables stay allocatable.
        try need(o.subjects <= 1 << 20 && o.perClass <= 1 << 20 && o.subjects * o.perClass <= 1 << 28,
                 "subjects × perClass must stay within 2^28 (subjects, perClass ≤ 2^20), got \(o.subjects) × \(o.perClass)")
        try need(o.size >= 16 && o.size <= 4096, "size must be in 16...4096, got \(o.size)")
        try need(o.intensity.lowerBound.isFinite && o.intensity.upperBound.isFinite && o.intensity.lowerBound >= 0
                 && o.intensity.upperBound <= 20,
                 "intensity must be a finite range within 0...20 pixels, got \(o.intensity)")
        try need(o.headMotion.isFinite && o.headMotion >= 0, "headMotion must be finite and non-negative, got \(o.headMotion)")
        try need(o.noise.isFinite && o.noise >= 0, "noise must be finite and non-negative, got \(o.noise)")
        try need(o.illumination.isFinite && o.illumination >= 0,
                 "illumination must be finite and non-negative, got \(o.illumination)")
    }

    /// The `index`-th sample over the whole set (subject-major: index / (5 × perClass) is the subject).
    public static func sample(at index: Int, options: SyntheticOptions = SyntheticOptions()) throws
        -> (onset: Tensor, apex: Tensor, label: Int, subject: String, id: String) {
        try validate(options, "synthetic.sample")
        let per = classNames.count * options.perClass
        guard index >= 0 && index < count(options) else {
            throw TensorError("synthetic.sample: index \(index) out of range 0..<\(count(options))")
        }
        return try sample(subject: index / per, index: index % per, options: options)
    }

    /// Sample `index` (0..<5 × perClass) of subject `subject` (0-based): onset and apex frames
    /// (1, size, size) in [0, 1], the 0-based label, the subject name and the sample id.
    public static func sample(subject: Int, index: Int, options: SyntheticOptions = SyntheticOptions()) throws
        -> (onset: Tensor, apex: Tensor, label: Int, subject: String, id: String) {
        try validate(options, "synthetic.sample")
        let per = classNames.count * options.perClass
        guard subject >= 0 && subject < options.subjects else {
            throw TensorError("synthetic.sample: subject \(subject) out of range 0..<\(options.subjects)")
        }
        guard index >= 0 && index < per else {
            throw TensorError("synthetic.sample: index \(index) out of range 0..<\(per) (5 classes × perClass \(options.perClass))")
        }
        let label = index / options.perClass
        let name = subjectName(subject)
        let id = "\(name)_\(classNames[label])_\(pad2(index % options.perClass + 1))"
        let face = SyntheticFace(subject: subject, seed: options.seed)
        let g = Generator(seed: SynthSeed.derive(options.seed, SynthSeed.sampleTag,
                                                 UInt64(truncatingIfNeeded: subject), UInt64(truncatingIfNeeded: index)))
        let frames = render(face: face, label: label, options: options, generator: g)
        let n = options.size
        return (try Tensor.from(frames.onset, shape: [1, n, n]), try Tensor.from(frames.apex, shape: [1, n, n]),
                label, name, id)
    }

    /// The AU activations, pose and illumination of one sample, then both frames.
    static func render(face: SyntheticFace, label: Int, options o: SyntheticOptions, generator g: Generator)
        -> (onset: [Float], apex: [Float], activations: [AUActivation]) {
        let n = o.size, k = Float(n) / 112
        // Expression.
        let base = o.intensity.lowerBound + (o.intensity.upperBound - o.intensity.lowerBound) * g.uniform()
        let acts = ExpressionRecipe.activations(label: label, intensity: base * face.expressivity, generator: g)
        // Shared pose of the clip (the face is not perfectly aligned), small per-frame motion.
        let pose = Pose(angle: g.synthUniform(-4, 4) * .pi / 180, scale: g.synthUniform(0.96, 1.04),
                        tx: g.synthUniform(-2.5, 2.5) * k, ty: g.synthUniform(-2.5, 2.5) * k)
        func jitter() -> Pose {
            Pose(angle: pose.angle + o.headMotion * 0.5 * g.normal() * .pi / 180, scale: pose.scale,
                 tx: pose.tx + o.headMotion * k * g.normal(), ty: pose.ty + o.headMotion * k * g.normal())
        }
        let onsetPose = jitter(), apexPose = jitter()
        // Clip lighting (image-space gradient) and the onset→apex illumination change.
        let lu = g.synthUniform(-0.1, 0.1), lv = g.synthUniform(-0.1, 0.1)
        let gain = 1 + o.illumination * g.normal(), shift = o.illumination * g.normal()

        // Canonical neutral face, and the apex's canonical face with appearance changes.
        let neutral = face.renderCanvas(size: n)
        var expressive = neutral
        var field = AUDisplacementField(size: n)
        for a in acts {
            face.drawAppearance(a, on: &expressive)
            field.add(face.bumps(a))
        }
        var onset = [Float](repeating: 0, count: n * n)
        var apex = onset
        warp(neutral.px, size: n, field: nil, pose: onsetPose, into: &onset)
        warp(expressive.px, size: n, field: field, pose: apexPose, into: &apex)
        finish(&onset, size: n, lu: lu, lv: lv, gain: 1, shift: 0, noise: o.noise, generator: g)
        finish(&apex, size: n, lu: lu, lv: lv, gain: gain, shift: shift, noise: o.noise, generator: g)
        return (onset, apex, acts)
    }

    /// Rigid pose about the image centre: p = c + t + scale·R(angle)(q − c), q canonical.
    struct Pose { var angle, scale, tx, ty: Float }

    /// Backward warp with bilinear sampling (edges clamped): output pixel p takes the
    /// canonical face at q = pose⁻¹(p), moved back along the displacement field (two
    /// fixed-point steps of q' = q − d(q')).
    static func warp(_ src: [Float], size n: Int, field: AUDisplacementField?, pose: Pose, into out: inout [Float]) {
        let c = Float(n - 1) / 2
        let ca = Foundation.cos(pose.angle) / pose.scale, sa = Foundation.sin(pose.angle) / pose.scale
        let hi = Float(n - 1)
        @inline(__always) func sample(_ p: UnsafeBufferPointer<Float>, _ x: Float, _ y: Float) -> Float {
            let xc = min(max(x, 0), hi), yc = min(max(y, 0), hi)
            let x0 = Int(xc), y0 = Int(yc)
            let x1 = min(x0 + 1, n - 1), y1 = min(y0 + 1, n - 1)
            let fx = xc - Float(x0), fy = yc - Float(y0)
            let a = p[y0 * n + x0] + fx * (p[y0 * n + x1] - p[y0 * n + x0])
            let b = p[y1 * n + x0] + fx * (p[y1 * n + x1] - p[y1 * n + x0])
            return a + fy * (b - a)
        }
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                let fdx = field?.dx ?? [], fdy = field?.dy ?? []
                fdx.withUnsafeBufferPointer { dx in
                    fdy.withUnsafeBufferPointer { dy in
                        for j in 0..<n {
                            let py = Float(j) - c - pose.ty
                            for i in 0..<n {
                                let px = Float(i) - c - pose.tx
                                // Inverse rotation/scale: R(−angle)/scale.
                                var qx = c + ca * px - sa * py
                                var qy = c + sa * px + ca * py
                                if field != nil {
                                    let x0 = qx, y0 = qy
                                    let ux = sample(dx, qx, qy), uy = sample(dy, qx, qy)
                                    let vx = sample(dx, x0 - ux, y0 - uy), vy = sample(dy, x0 - ux, y0 - uy)
                                    qx = x0 - vx; qy = y0 - vy
                                }
                                o[j * n + i] = sample(s, qx, qy)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Clip lighting, illumination change, sensor noise, clamp to [0, 1].
    static func finish(_ f: inout [Float], size n: Int, lu: Float, lv: Float, gain: Float, shift: Float,
                       noise: Float, generator g: Generator) {
        let s = Float(n)
        f.withUnsafeMutableBufferPointer { p in
            for j in 0..<n {
                let v = (Float(j) + 0.5) / s - 0.5
                for i in 0..<n {
                    let u = (Float(i) + 0.5) / s - 0.5
                    var x = p[j * n + i] * (1 + lu * u + lv * v) * gain + shift
                    if noise > 0 { x += noise * g.normal() }
                    p[j * n + i] = min(max(x, 0), 1)
                }
            }
        }
    }
}
