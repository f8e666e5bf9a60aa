import Foundation

/// A seedable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
/// The same seed gives the same stream on every machine and every thread count: all
/// random tensors are filled sequentially from one generator.
public final class Generator {
    private var s0, s1, s2, s3: UInt64
    private var spareNormal: Float?

    public init(seed: UInt64) {
        var sm = seed
        func splitMix() -> UInt64 {
            sm &+= 0x9E37_79B9_7F4A_7C15
            var z = sm
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The process-wide generator used when none is passed (`mer.seed(n)` reseeds it).
    nonisolated(unsafe) public static var global = Generator(seed: 42)

    /// Reseeds the global generator.
    public static func seed(_ seed: UInt64) { global = Generator(seed: seed) }

    /// The full internal state (the four xoshiro words, then 1 and the bits of a cached
    /// second Box–Muller normal, or 0 and 0), so a checkpoint resumes the exact stream.
    public var state: [UInt64] {
        get { [s0, s1, s2, s3, spareNormal == nil ? 0 : 1, UInt64(spareNormal?.bitPattern ?? 0)] }
        set {
            precondition(newValue.count == 4 || newValue.count == 6)
            s0 = newValue[0]; s1 = newValue[1]; s2 = newValue[2]; s3 = newValue[3]
            spareNormal = newValue.count == 6 && newValue[4] == 1 ? Float(bitPattern: UInt32(truncatingIfNeeded: newValue[5])) : nil
        }
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public func nextUInt64() -> UInt64 {
        let result = Generator.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = Generator.rotl(s3, 45)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (every float32 value it can return is exact).
    public func uniform() -> Float {
        Float(nextUInt64() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform integer in 0..<bound (bound > 0), without modulo bias.
    public func integer(below bound: Int) -> Int {
        precondition(bound > 0)
        let b = UInt64(bound)
        let limit = UInt64.max - UInt64.max % b
        while true {
            let r = nextUInt64()
            if r < limit { return Int(r % b) }
        }
    }

    /// Standard normal by the Box–Muller transform, computed in Double.
    public func normal() -> Float {
        if let s = spareNormal { spareNormal = nil; return s }
        var u1 = Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(nextUInt64() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2.0 * Foundation.log(u1)).squareRoot()
        let theta = 2.0 * Double.pi * u2
        spareNormal = Float(r * Foundation.sin(theta))
        return Float(r * Foundation.cos(theta))
    }

    /// Fisher–Yates permutation of 0..<n.
    public func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) {
                p.swapAt(i, integer(below: i + 1))
            }
        }
        return p
    }
}
