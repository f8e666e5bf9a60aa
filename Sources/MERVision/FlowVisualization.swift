import Foundation
import MERTensor

extension OpticalFlow {
    /// The Middlebury colour wheel (Baker et al., "A Database and Evaluation Methodology for
    /// Optical Flow", 2011; `colorcode.cpp` of the flow-code package): 55 hues in six ramps
    /// red→yellow (15), yellow→green (6), green→cyan (4), cyan→blue (11), blue→magenta (13),
    /// magenta→red (6), as 0…255 RGB.
    static let middleburyWheel: [SIMD3<Float>] = {
        var wheel: [SIMD3<Float>] = []
        func ramp(_ n: Int, _ f: (Float) -> SIMD3<Float>) {
            for i in 0..<n { wheel.append(f((255 * Float(i) / Float(n)).rounded(.down))) }
        }
        ramp(15) { SIMD3(255, $0, 0) }          // RY
        ramp(6) { SIMD3(255 - $0, 255, 0) }     // YG
        ramp(4) { SIMD3(0, 255, $0) }           // GC
        ramp(11) { SIMD3(0, 255 - $0, 255) }    // CB
        ramp(13) { SIMD3($0, 0, 255) }          // BM
        ramp(6) { SIMD3(255, 0, 255 - $0) }     // MR
        return wheel
    }()

    /// A (3, H, W) RGB image in [0, 1] coding flow direction as hue and magnitude as
    /// saturation, with the Middlebury colour wheel as in the flow literature's figures (white:
    /// no motion; rightwards red, downwards (+v) orange-yellow, leftwards cyan, upwards
    /// blue-violet).
    ///
    /// Vectors are divided by `maxMagnitude` (default: the largest magnitude in the field, or 1
    /// for a zero field), so a vector of that length gets the fully saturated colour; longer
    /// ones are darkened to 75 %. Non-finite vectors are black. `u` and `v` are (1, H, W) or
    /// (H, W) with the same size.
    public static func colorize(u: Tensor, v: Tensor, maxMagnitude: Float? = nil) throws -> Tensor {
        let (h, w, uu) = try flowPlane(u, "u")
        let (hv, wv, vv) = try flowPlane(v, "v")
        guard h == hv, w == wv else {
            throw TensorError("colorize: u and v differ in size: u is \(h)×\(w), v is \(hv)×\(wv)")
        }
        var maxRad: Float = 0
        if let m = maxMagnitude {
            guard m.isFinite, m > 0 else {
                throw TensorError("colorize: maxMagnitude must be positive, got \(format(m))")
            }
            maxRad = m
        } else {
            for i in 0..<(h * w) where uu[i].isFinite && vv[i].isFinite {
                maxRad = max(maxRad, (uu[i] * uu[i] + vv[i] * vv[i]).squareRoot())
            }
            if maxRad == 0 { maxRad = 1 }
        }
        let out = try Tensor(zeros: [3, h, w])
        let o = out.pointer, plane = h * w
        let wheel = middleburyWheel, ncols = wheel.count
        for i in 0..<plane {
            guard uu[i].isFinite, vv[i].isFinite else { continue }   // black
            let fu = uu[i] / maxRad, fv = vv[i] / maxRad
            let rad = (fu * fu + fv * fv).squareRoot()
            let a = Float(atan2(Double(-fv), Double(-fu)) / Double.pi)
            let fk = (a + 1) / 2 * Float(ncols - 1)
            let k0 = min(Int(fk), ncols - 1), k1 = (k0 + 1) % ncols
            let f = fk - Float(k0)
            var col = ((1 - f) * wheel[k0] + f * wheel[k1]) / 255
            if rad <= 1 { col = 1 - rad * (1 - col) } else { col *= 0.75 }
            o[i] = col.x; o[plane + i] = col.y; o[2 * plane + i] = col.z
        }
        return out
    }

    /// A (1, H, W) or (H, W) flow component (non-finite values allowed: drawn black).
    static func flowPlane(_ t: Tensor, _ name: String) throws -> (Int, Int, [Float]) {
        let s = t.shape
        if s.count == 2, s[0] > 0, s[1] > 0 { return (s[0], s[1], t.toArray()) }
        if s.count == 3, s[0] == 1, s[1] > 0, s[2] > 0 { return (s[1], s[2], t.toArray()) }
        throw TensorError("colorize: \(name) must be a non-empty (1, H, W) or (H, W) flow component, got shape [\(s.map(String.init).joined(separator: ", "))]")
    }
}
