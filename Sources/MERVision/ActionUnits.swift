import Foundation
import MERTensor

// FACS action units as smooth, local deformations of a `SyntheticFace`.
//
// Each AU is a few Gaussian "bumps" of displacement around landmarks: a bump at (u, v)
// with widths (su, sv) moves the skin near it by (du, dv) × intensity, where intensity is
// the peak displacement in pixels of a 112 × 112 image (scaled with the render size).
// Some AUs also add a faint appearance change (forehead lines, glabellar lines, nose
// wrinkles, dimples) whose contrast grows with the intensity; it is drawn on the canonical
// face before warping, so it moves with the skin.

/// The FACS action units the synthetic data set uses (raw value = AU number).
public enum ActionUnit: Int, CaseIterable, Sendable, CustomStringConvertible {
    case innerBrowRaiser = 1, outerBrowRaiser = 2, browLowerer = 4, upperLidRaiser = 5
    case cheekRaiser = 6, lidTightener = 7, noseWrinkler = 9, upperLipRaiser = 10
    case lipCornerPuller = 12, dimpler = 14, lipCornerDepressor = 15, chinRaiser = 17
    case lipStretcher = 20, lipTightener = 23, lipPressor = 24, lipsPart = 25, jawDrop = 26

    public var description: String { "AU\(rawValue)" }

    /// The FACS name.
    public var name: String {
        switch self {
        case .innerBrowRaiser: return "inner brow raiser"
        case .outerBrowRaiser: return "outer brow raiser"
        case .browLowerer: return "brow lowerer"
        case .upperLidRaiser: return "upper lid raiser"
        case .cheekRaiser: return "cheek raiser"
        case .lidTightener: return "lid tightener"
        case .noseWrinkler: return "nose wrinkler"
        case .upperLipRaiser: return "upper lip raiser"
        case .lipCornerPuller: return "lip corner puller"
        case .dimpler: return "dimpler"
        case .lipCornerDepressor: return "lip corner depressor"
        case .chinRaiser: return "chin raiser"
        case .lipStretcher: return "lip stretcher"
        case .lipTightener: return "lip tightener"
        case .lipPressor: return "lip pressor"
        case .lipsPart: return "lips part"
        case .jawDrop: return "jaw drop"
        }
    }
}

/// One action unit at a given intensity (peak displacement in pixels at 112 × 112), with
/// per-side gains for the slight asymmetry of real expressions (side = image left/right).
public struct AUActivation: Sendable, Equatable {
    public var unit: ActionUnit
    public var intensity: Float
    public var left: Float
    public var right: Float
    public init(_ unit: ActionUnit, intensity: Float, left: Float = 1, right: Float = 1) {
        self.unit = unit; self.intensity = intensity; self.left = left; self.right = right
    }
}

/// A Gaussian-weighted displacement around a point (normalized position and widths;
/// displacement in pixels at 112 × 112).
struct AUDisplacementBump {
    var u, v, su, sv, du, dv: Float
}

/// A dense displacement field on the canonical grid, in pixels of the render size:
/// the skin at pixel p moves to p + (dx[p], dy[p]).
struct AUDisplacementField {
    let size: Int
    var dx: [Float]
    var dy: [Float]

    init(size: Int) {
        self.size = size
        dx = [Float](repeating: 0, count: size * size)
        dy = dx
    }

    /// Adds the bumps (separable Gaussians over a ±3σ box each).
    mutating func add(_ bumps: [AUDisplacementBump]) {
        let s = Float(size), n = size, k = s / 112
        for b in bumps {
            let x0 = max(0, Int(((b.u - 3 * b.su) * s - 0.5).rounded(.down)))
            let x1 = min(n, Int(((b.u + 3 * b.su) * s - 0.5).rounded(.up)) + 1)
            let y0 = max(0, Int(((b.v - 3 * b.sv) * s - 0.5).rounded(.down)))
            let y1 = min(n, Int(((b.v + 3 * b.sv) * s - 0.5).rounded(.up)) + 1)
            if x0 >= x1 || y0 >= y1 { continue }
            let wx = (x0..<x1).map { i -> Float in
                let d = (Float(i) + 0.5) / s - b.u
                return Foundation.exp(-d * d / (2 * b.su * b.su))
            }
            let ddx = b.du * k, ddy = b.dv * k
            dx.withUnsafeMutableBufferPointer { px in
                dy.withUnsafeMutableBufferPointer { py in
                    for j in y0..<y1 {
                        let d = (Float(j) + 0.5) / s - b.v
                        let wy = Foundation.exp(-d * d / (2 * b.sv * b.sv))
                        let row = j * n
                        for i in x0..<x1 {
                            let w = wy * wx[i - x0]
                            px[row + i] += w * ddx
                            py[row + i] += w * ddy
                        }
                    }
                }
            }
        }
    }

    var maxMagnitude: Float {
        var m: Float = 0
        for i in 0..<dx.count { m = max(m, (dx[i] * dx[i] + dy[i] * dy[i]).squareRoot()) }
        return m
    }
}

extension SyntheticFace {
    /// The displacement bumps of one activation on this face.
    func bumps(_ a: AUActivation) -> [AUDisplacementBump] {
        var out: [AUDisplacementBump] = []
        func add(_ p: (Float, Float), _ su: Float, _ sv: Float, _ du: Float, _ dv: Float, gain: Float = 1) {
            out.append(AUDisplacementBump(u: p.0, v: p.1, su: su, sv: sv, du: du * a.intensity * gain, dv: dv * a.intensity * gain))
        }
        let mid = (a.left + a.right) / 2
        for side: Float in [-1, 1] {
            let g = side < 0 ? a.left : a.right
            let (eu, ev) = eye(side)
            switch a.unit {
            case .innerBrowRaiser:
                add(browInner(side), 0.035, 0.03, 0, -1, gain: g)
            case .outerBrowRaiser:
                add(browOuter(side), 0.04, 0.03, 0, -1, gain: g)
            case .browLowerer:
                // Down and towards the midline (knit).
                add(browInner(side), 0.035, 0.035, -side * 0.55, 0.8, gain: g)
                add(browCentre(side), 0.045, 0.035, -side * 0.2, 0.45, gain: g)
            case .upperLidRaiser:
                add((eu, ev - eyeRY), eyeRX * 0.8, eyeRY * 0.9, 0, -0.8, gain: g)
            case .cheekRaiser:
                add(cheek(side), 0.05, 0.045, side * 0.15, -1, gain: g)
                add((eu, ev + eyeRY * 1.2), eyeRX * 0.8, eyeRY * 0.8, 0, -0.5, gain: g)
                add((eu + side * eyeRX * 1.2, ev), 0.02, 0.025, 0, -0.35, gain: g)
            case .lidTightener:
                add((eu, ev + eyeRY), eyeRX * 0.8, eyeRY * 0.8, 0, -0.8, gain: g)
                add((eu, ev - eyeRY), eyeRX * 0.8, eyeRY * 0.8, 0, 0.3, gain: g)
            case .noseWrinkler:
                add(ala(side), 0.022, 0.028, side * 0.1, -1, gain: g)
                add((cx + side * noseW * 0.5, (noseBridgeY + noseY) / 2), 0.02, 0.03, 0, -0.6, gain: g)
                add(browInner(side), 0.03, 0.03, -side * 0.15, 0.3, gain: g)
            case .upperLipRaiser:
                add((cx + side * mouthHW * 0.45, mouthY - upperLip), 0.03, 0.018, 0, -0.8, gain: g)
            case .lipCornerPuller:
                add(mouthCorner(side), 0.028, 0.028, side * 0.6, -0.8, gain: g)
                add((cx + side * (mouthHW + 0.04), mouthY - 0.04), 0.04, 0.04, side * 0.2, -0.35, gain: g)
            case .dimpler:
                // Lip corners pulled in and tightened against the teeth.
                add(mouthCorner(side), 0.022, 0.022, -side * 0.55, -0.1, gain: g)
                add((cx + side * (mouthHW + 0.025), mouthY), 0.018, 0.02, -side * 0.3, 0, gain: g)
            case .lipCornerDepressor:
                add(mouthCorner(side), 0.025, 0.03, side * 0.1, 0.8, gain: g)
            case .lipStretcher:
                add(mouthCorner(side), 0.03, 0.03, side * 0.8, 0.1, gain: g)
            case .lipTightener:
                add(mouthCorner(side), 0.02, 0.02, -side * 0.3, 0, gain: g)
            default:
                break
            }
        }
        switch a.unit {
        case .innerBrowRaiser:
            add((cx, browY - 0.06), 0.06, 0.04, 0, -0.5, gain: mid)
        case .noseWrinkler:
            add(upperLipCentre, 0.04, 0.015, 0, -0.4, gain: mid)
        case .upperLipRaiser:
            add(upperLipCentre, 0.035, 0.018, 0, -0.8, gain: mid)
        case .chinRaiser:
            add(chinPoint, 0.06, 0.04, 0, -0.9, gain: mid)
            add(lowerLipCentre, 0.05, 0.015, 0, -0.5, gain: mid)
        case .lipTightener:
            add(upperLipCentre, 0.05, 0.012, 0, 0.3, gain: mid)
            add(lowerLipCentre, 0.05, 0.012, 0, -0.3, gain: mid)
        case .lipPressor:
            add(upperLipCentre, 0.05, 0.012, 0, 0.5, gain: mid)
            add(lowerLipCentre, 0.05, 0.012, 0, -0.5, gain: mid)
        case .lipsPart:
            add(lowerLipCentre, 0.05, 0.015, 0, 0.6, gain: mid)
        case .jawDrop:
            add(((lowerLipCentre.0 + chinPoint.0) / 2, (lowerLipCentre.1 + chinPoint.1) / 2), 0.09, 0.06, 0, 0.8, gain: mid)
        default:
            break
        }
        return out
    }

    /// Draws the appearance change of an activation (wrinkles, dimples) on the canonical face.
    func drawAppearance(_ a: AUActivation, on c: inout SynthCanvas) {
        let k = 0.012 * a.intensity          // contrast per pixel of displacement
        if k <= 0 { return }
        switch a.unit {
        case .innerBrowRaiser, .outerBrowRaiser:
            // Horizontal forehead lines.
            let spread: Float = a.unit == .innerBrowRaiser ? 0.07 : 0.1
            for line in 0..<3 {
                c.curve(cx, browY - 0.035 - Float(line) * 0.022, halfWidth: spread + Float(line) * 0.02,
                        bend: 0.006, sigma: 0.003, value: skin * 0.55, opacity: min(0.6, k * 1.5))
            }
        case .browLowerer:
            for side: Float in [-1, 1] {
                c.segment(cx + side * 0.012, browY - 0.02, cx + side * 0.016, browY + 0.025, sigma: 0.0035, amp: -k * 1.5)
            }
        case .noseWrinkler:
            for line in 0..<3 {
                c.curve(cx, noseBridgeY + 0.01 + Float(line) * 0.012, halfWidth: noseW * 0.7,
                        bend: -0.004, sigma: 0.0028, value: skin * 0.55, opacity: min(0.6, k * 1.5))
            }
        case .cheekRaiser:
            for side: Float in [-1, 1] {
                let (eu, ev) = eye(side)
                for r in 0..<2 {
                    let dv = Float(r) * 0.012 - 0.004
                    c.segment(eu + side * eyeRX * 1.15, ev + dv, eu + side * eyeRX * 1.6, ev + dv * 1.8,
                              sigma: 0.0025, amp: -k)
                }
            }
        case .lipCornerPuller:
            for side: Float in [-1, 1] {
                let (au, av) = ala(side), (mu, mv) = mouthCorner(side)
                c.segment(au + side * 0.012, av + 0.005, mu + side * 0.03, mv + 0.035, sigma: 0.006, amp: -k)
            }
        case .dimpler:
            for side: Float in [-1, 1] {
                let (mu, mv) = mouthCorner(side)
                c.gaussian(mu + side * 0.02, mv, 0.006, 0.01, -k * 1.5)
            }
        case .chinRaiser:
            let (ku, kv) = chinPoint
            c.gaussian(ku - 0.015, kv, 0.008, 0.008, -k)
            c.gaussian(ku + 0.015, kv + 0.005, 0.008, 0.008, -k)
            c.gaussian(ku, kv + 0.018, 0.008, 0.008, -k)
        case .lipPressor, .lipTightener:
            c.curve(cx, mouthY, halfWidth: mouthHW, bend: mouthBend, sigma: 0.003, value: 0.05,
                    opacity: min(0.5, k * 1.5), taper: 0.15)
        default:
            break
        }
    }
}

/// Which action units make each class of the synthetic set, and how intense they are.
public enum ExpressionRecipe {
    /// AUs of each class, in `SyntheticMicroExpressions.classNames` order (for documentation;
    /// `others` draws 1–3 AUs from `othersPool`).
    public static let classActionUnits: [[ActionUnit]] = [
        [.cheekRaiser, .lipCornerPuller],                       // happiness   AU6 + AU12
        [.browLowerer, .noseWrinkler, .upperLipRaiser],         // disgust     AU4 + AU9 (+ AU10)
        [.dimpler, .chinRaiser, .lipPressor],                   // repression  AU14 and/or AU17 (+ AU24)
        [.innerBrowRaiser, .outerBrowRaiser, .jawDrop],         // surprise    AU1 + AU2 (+ slight AU26)
        [],                                                     // others      see othersPool
    ]

    /// AUs that `others` mixes at low intensity (none of them defines another class).
    public static let othersPool: [ActionUnit] = [.upperLidRaiser, .lidTightener, .lipCornerDepressor,
                                                  .lipStretcher, .lipTightener, .lipsPart]

    /// The activations of one sample of class `label` with base intensity `i`
    /// (pixels at 112), drawn from `g`.
    static func activations(label: Int, intensity i: Float, generator g: Generator) -> [AUActivation] {
        let asym = g.synthUniform(-0.2, 0.2)
        func act(_ u: ActionUnit, _ w: Float) -> AUActivation {
            AUActivation(u, intensity: i * w * g.synthUniform(0.85, 1.15), left: 1 + asym, right: 1 - asym)
        }
        switch label {
        case 0:
            return [act(.cheekRaiser, 0.7), act(.lipCornerPuller, 1)]
        case 1:
            return [act(.browLowerer, 0.8), act(.noseWrinkler, 1), act(.upperLipRaiser, 0.4)]
        case 2:
            let variant = g.integer(below: 3)   // 0: AU14, 1: AU17, 2: both
            var out: [AUActivation] = []
            if variant != 1 { out.append(act(.dimpler, 1)) }
            if variant != 0 { out.append(act(.chinRaiser, 1)) }
            out.append(act(.lipPressor, 0.5))
            return out
        case 3:
            var out = [act(.innerBrowRaiser, 1), act(.outerBrowRaiser, 0.9)]
            if g.uniform() < 0.3 { out.append(act(.jawDrop, 0.3)) }
            return out
        default:
            let n = 1 + g.integer(below: 3)
            let pick = g.permutation(othersPool.count).prefix(n)
            return pick.map { act(othersPool[$0], g.synthUniform(0.5, 0.8)) }
        }
    }
}
