import Foundation
import MERKernels
import MERTensor

/// Dense optical flow for micro-expression work: TV-L1 (`tvl1`), optical strain (`strain`)
/// and the Middlebury colour coding (`colorize`).
///
/// Convention (OpenCV's): for images `a`, `b` and flow `(u, v)`,
/// `a(y, x) ≈ b(y + v(y, x), x + u(y, x))` — `u` is horizontal, `v` vertical, in pixels of
/// the input images. If `b` is `a` moved 2 px to the right, `u ≈ +2`.
public enum OpticalFlow {
    /// Options of the TV-L1 solver. The defaults are OpenCV's `DualTVL1OpticalFlow` defaults
    /// (tau 0.25, lambda 0.15, theta 0.3, nscales 5, warps 5, epsilon 0.01,
    /// innerIterations 30, outerIterations 10, scaleStep 0.8, gamma 0, medianFiltering 5).
    ///
    /// `lambda` weighs the data term against total variation *for intensities in 0…255*
    /// (OpenCV's 8-bit range; OpenCV multiplies float images by 255 before solving). See
    /// `intensityScale` for how our images are brought to that range.
    public struct TVL1Options: Sendable, Equatable {
        /// Data-term weight (larger: flow follows the brightness constancy more closely, less smooth).
        public var lambda: Float
        /// Time step of the dual (projection) update; must be in (0, 0.25] for stability.
        public var tau: Float
        /// Coupling between the flow `u` and the auxiliary variable `v` of the splitting.
        public var theta: Float
        /// Pyramid levels (fewer are used when a level would fall below 16 px, as in OpenCV).
        public var scales: Int
        /// Warps (re-linearisations of the data term) per level.
        public var warps: Int
        /// Stopping threshold: iterations at a level stop once the mean squared flow update
        /// falls to `epsilon²` px² (OpenCV: sum of squared updates ≤ epsilon² · area).
        public var epsilon: Float
        /// Primal–dual iterations per outer iteration.
        public var innerIterations: Int
        /// Outer iterations per warp (each starts with a median filtering of the flow).
        public var outerIterations: Int
        /// Ratio between consecutive pyramid levels, in (0, 1).
        public var scaleStep: Float
        /// Median filter size applied to the flow at each outer iteration: 5 (default), 3,
        /// or 0/1 for none.
        public var medianFiltering: Int
        /// Factor applied to the pixel values before solving, so that `lambda` keeps its
        /// meaning for intensities in 0…255. `nil` (default) chooses automatically: 255 when
        /// both images lie within [0, 1] (our tensors' usual range, and OpenCV's convention
        /// for float images), otherwise 1 (values taken as already being 0…255).
        public var intensityScale: Float?

        public init(lambda: Float = 0.15, tau: Float = 0.25, theta: Float = 0.3, scales: Int = 5,
                    warps: Int = 5, epsilon: Float = 0.01, innerIterations: Int = 30,
                    outerIterations: Int = 10, scaleStep: Float = 0.8, medianFiltering: Int = 5,
                    intensityScale: Float? = nil) {
            self.lambda = lambda; self.tau = tau; self.theta = theta; self.scales = scales
            self.warps = warps; self.epsilon = epsilon; self.innerIterations = innerIterations
            self.outerIterations = outerIterations; self.scaleStep = scaleStep
            self.medianFiltering = medianFiltering; self.intensityScale = intensityScale
        }

        func validate() throws {
            func positive(_ name: String, _ x: Float) throws {
                guard x.isFinite, x > 0 else { throw TensorError("flow: option \(name) must be positive, got \(OpticalFlow.format(x))") }
            }
            func atLeastOne(_ name: String, _ n: Int) throws {
                guard n >= 1 else { throw TensorError("flow: option \(name) must be at least 1, got \(n)") }
            }
            try positive("lambda", lambda)
            try positive("tau", tau)
            guard tau <= 0.25 else {
                throw TensorError("flow: option tau must be at most 0.25 (the dual step is unstable above), got \(OpticalFlow.format(tau))")
            }
            try positive("theta", theta)
            try atLeastOne("scales", scales)
            try atLeastOne("warps", warps)
            try atLeastOne("innerIterations", innerIterations)
            try atLeastOne("outerIterations", outerIterations)
            guard epsilon.isFinite, epsilon >= 0 else {
                throw TensorError("flow: option epsilon must be zero or positive, got \(OpticalFlow.format(epsilon))")
            }
            guard scaleStep.isFinite, scaleStep > 0, scaleStep < 1 else {
                throw TensorError("flow: option scaleStep must be in (0, 1), got \(OpticalFlow.format(scaleStep))")
            }
            guard [0, 1, 3, 5].contains(medianFiltering) else {
                throw TensorError("flow: option medianFiltering must be 0 or 1 (off), 3 or 5, got \(medianFiltering)")
            }
            if let s = intensityScale { try positive("intensityScale", s) }
        }
    }

    /// `-1` rather than `-1.0` in messages.
    static func format(_ x: Float) -> String {
        if x.isFinite, x == x.rounded(), abs(x) < 1e7 { return String(Int(x)) }
        return "\(x)"
    }

    /// Checks a (1, H, W) or (H, W) image and returns (H, W) and its row-major pixels.
    static func grayscale(_ t: Tensor, _ name: String, _ op: String) throws -> (h: Int, w: Int, pixels: [Float]) {
        let s = t.shape
        let hw: (Int, Int)
        if s.count == 2 { hw = (s[0], s[1]) } else if s.count == 3, s[0] == 1 { hw = (s[1], s[2]) } else {
            throw TensorError("\(op): \(name) must be a (1, H, W) or (H, W) grayscale image, got shape [\(s.map(String.init).joined(separator: ", "))]")
        }
        guard hw.0 > 0, hw.1 > 0 else {
            throw TensorError("\(op): \(name) is empty (\(hw.0)×\(hw.1) pixels)")
        }
        let px = t.toArray()
        for (i, p) in px.enumerated() where !p.isFinite {
            throw TensorError("\(op): \(name) has a \(p.isNaN ? "NaN" : "non-finite") pixel at (y \(i / hw.1), x \(i % hw.1))")
        }
        return (hw.0, hw.1, px)
    }

    /// TV-L1 optical flow from `a` to `b` (Zach, Pock & Bischof 2007; the duality-based scheme
    /// of Sánchez, Meinhardt-Llopis & Facciolo, IPOL 2013, as implemented by OpenCV's
    /// `DualTVL1OpticalFlow`). Returns `(u, v)` as (1, H, W) tensors with
    /// `a(y, x) ≈ b(y + v, x + u)`.
    ///
    /// Images are (1, H, W) or (H, W) float32, any range (see `TVL1Options.intensityScale`).
    /// Work is split over rows with static splits; the result does not depend on the thread count.
    public static func tvl1(_ a: Tensor, _ b: Tensor, options: TVL1Options = .init()) throws -> (u: Tensor, v: Tensor) {
        try options.validate()
        let ia = try grayscale(a, "image a", "flow")
        let ib = try grayscale(b, "image b", "flow")
        guard ia.h == ib.h, ia.w == ib.w else {
            throw TensorError("flow: images differ in size: a is \(ia.h)×\(ia.w), b is \(ib.h)×\(ib.w)")
        }
        var scale: Float = 1
        if let s = options.intensityScale { scale = s } else {
            var lo = Float.infinity, hi = -Float.infinity
            for p in ia.pixels { lo = min(lo, p); hi = max(hi, p) }
            for p in ib.pixels { lo = min(lo, p); hi = max(hi, p) }
            if lo >= 0, hi <= 1 { scale = 255 }
        }
        let solver = TVL1Solver(h: ia.h, w: ia.w, a: ia.pixels, b: ib.pixels, scale: scale, options: options)
        let (u, v) = solver.run()
        let ut = try Tensor(zeros: [1, ia.h, ia.w]), vt = try Tensor(zeros: [1, ia.h, ia.w])
        u.withUnsafeBufferPointer { ut.pointer.update(from: $0.baseAddress!, count: $0.count) }
        v.withUnsafeBufferPointer { vt.pointer.update(from: $0.baseAddress!, count: $0.count) }
        return (ut, vt)
    }
}

// MARK: - Solver

/// A zero-filled heap buffer owned by the solver.
fileprivate final class FlowBuffer<T> {
    let p: UnsafeMutablePointer<T>
    init(_ n: Int, _ zero: T) {
        p = .allocate(capacity: max(n, 1))
        p.initialize(repeating: zero, count: max(n, 1))
    }
    deinit { p.deallocate() }
}

@inline(__always) fileprivate func ld16(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD16<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self)
}
@inline(__always) fileprivate func st16(_ p: UnsafeMutablePointer<Float>, _ i: Int, _ v: SIMD16<Float>) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Catmull–Rom (Keys, a = −0.5) weights of the taps at −1, 0, 1, 2 for a fraction `t` in [0, 1).
@inline(__always) fileprivate func cubicWeights(_ t: Float) -> SIMD4<Float> {
    let t2 = t * t, t3 = t2 * t
    return SIMD4(-t3 + 2 * t2 - t, 3 * t3 - 5 * t2 + 2, -3 * t3 + 4 * t2 + t, t3 - t2) * 0.5
}

/// The per-iteration kernels over padded planes: stride `s ≥ w + 2`, pixel (y, x) at
/// `o + y·s + x` with `o = s + 1`. The dual variables have zeros in the padding row/column
/// before the image (so the backward-difference divergence has OpenCV's boundary rule); the
/// flow planes replicate their last column/row into the padding after it (so the forward
/// differences vanish on the last column/row, as in OpenCV).
fileprivate struct TVL1Planes {
    let u1, u2, p11, p12, p21, p22, ix, iy, grad, rhoc, rowError: UnsafeMutablePointer<Float>
    let w, h, s, o: Int
    let lt, theta, taut: Float

    /// Thresholding step (v = u + TH(ρ)) and primal update u = v + θ·div p for row `y`;
    /// stores Σ|Δu|² of the row and refreshes the flow's padding.
    @inline(__always) func primal(_ y: Int) {
        let r = o + y * s
        let vEps = SIMD16<Float>(repeating: .ulpOfOne)
        var acc = SIMD16<Float>()
        let vlt = SIMD16<Float>(repeating: lt)
        let wl = Int32(w)
        let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        var x = 0
        // Whole vectors: columns past the image (up to the next multiple of 16) are scratch
        // space in the stride; they never feed an image pixel and are left out of the error.
        while x < w {
            let i = r + x
            let div1 = ld16(p11, i) - ld16(p11, i - 1) + ld16(p12, i) - ld16(p12, i - s)
            let div2 = ld16(p21, i) - ld16(p21, i - 1) + ld16(p22, i) - ld16(p22, i - s)
            let gx = ld16(ix, i), gy = ld16(iy, i), g = ld16(grad, i)
            let a = ld16(u1, i), b = ld16(u2, i)
            let rho = ld16(rhoc, i) + gx * a + gy * b
            // TH: f = lt if ρ < −lt·g, −lt if ρ > lt·g, else −ρ/g — i.e. −ρ/g clamped to
            // [−lt, lt]. Written as selects on values already computed, so nothing is branched.
            // (OpenCV also takes f = 0 when g ≤ FLT_EPSILON inside the band; there the update
            // f·∇I is below lt·√FLT_EPSILON ≈ 2·10⁻⁵ px either way.)
            let q = -rho / g.replacing(with: vEps, where: g .< vEps)
            var f = q.replacing(with: vlt, where: q .> vlt)
            f = f.replacing(with: -vlt, where: f .< -vlt)
            let n1 = a + f * gx + theta * div1
            let n2 = b + f * gy + theta * div2
            let d1 = n1 - a, d2 = n2 - b
            acc += (d1 * d1 + d2 * d2).replacing(with: 0, where: lane .>= wl &- Int32(truncatingIfNeeded: x))
            st16(u1, i, n1); st16(u2, i, n2)
            x += 16
        }
        rowError[y] = acc.sum()
        u1[r + w] = u1[r + w - 1]; u2[r + w] = u2[r + w - 1]
        if y == h - 1 {
            (u1 + r + s).update(from: u1 + r, count: w + 1)
            (u2 + r + s).update(from: u2 + r, count: w + 1)
        }
    }

    /// Dual update with projection, p ← (p + τ/θ·∇u) / (1 + τ/θ·|∇u|), for row `y`
    /// (needs the new flow on rows y and y + 1).
    @inline(__always) func dual(_ y: Int) {
        let r = o + y * s
        let vt = SIMD16<Float>(repeating: taut)
        var x = 0
        while x < w {
            let i = r + x
            let a = ld16(u1, i), b = ld16(u2, i)
            let ax = ld16(u1, i + 1) - a, ay = ld16(u1, i + s) - a
            let bx = ld16(u2, i + 1) - b, by = ld16(u2, i + s) - b
            let n1 = 1 + vt * (ax * ax + ay * ay).squareRoot()
            let n2 = 1 + vt * (bx * bx + by * by).squareRoot()
            st16(p11, i, (ld16(p11, i) + vt * ax) / n1)
            st16(p12, i, (ld16(p12, i) + vt * ay) / n1)
            st16(p21, i, (ld16(p21, i) + vt * bx) / n2)
            st16(p22, i, (ld16(p22, i) + vt * by) / n2)
            x += 16
        }
    }

    /// One primal–dual iteration over a band of rows, software-pipelined: the dual update of
    /// row y − 1 runs right after the primal update of row y. The band's last row's dual
    /// update is left to the caller (it needs the next band's first row).
    func band(_ rows: Range<Int>) {
        for y in rows {
            primal(y)
            if y > rows.lowerBound { dual(y - 1) }
        }
    }
}

fileprivate final class TVL1Solver {
    let opts: OpticalFlow.TVL1Options
    /// Levels finest first: size and the two images (scaled intensities).
    var levels: [(h: Int, w: Int, a: [Float], b: [Float])] = []

    /// Pyramid levels with at least this many pixels split the warp and the median filter
    /// over threads (one dispatch per warp / outer iteration).
    static let parallelArea = 4096
    /// … and the primal–dual iterations (one dispatch per iteration: at 112×112 an iteration
    /// takes ~10 µs, which a dispatch and a wake-up on a busy machine would eat).
    static let parallelIterationArea = 40_000

    init(h: Int, w: Int, a: [Float], b: [Float], scale: Float, options: OpticalFlow.TVL1Options) {
        opts = options
        levels.append((h, w, scale == 1 ? a : a.map { $0 * scale }, scale == 1 ? b : b.map { $0 * scale }))
        while levels.count < options.scales {
            let prev = levels[levels.count - 1]
            let nh = Int((Float(prev.h) * options.scaleStep).rounded())
            let nw = Int((Float(prev.w) * options.scaleStep).rounded())
            if nh < 16 || nw < 16 { break }   // OpenCV's rule
            let sigma = 0.6 * (1 / (options.scaleStep * options.scaleStep) - 1).squareRoot()
            levels.append((nh, nw,
                           TVL1Solver.downsample(prev.a, prev.h, prev.w, nh, nw, sigma),
                           TVL1Solver.downsample(prev.b, prev.h, prev.w, nh, nw, sigma)))
        }
    }

    func run() -> ([Float], [Float]) {
        let last = levels.count - 1
        var u = [Float](repeating: 0, count: levels[last].h * levels[last].w)
        var v = u
        for l in stride(from: last, through: 0, by: -1) {
            if l < last {
                (u, v) = TVL1Solver.upsampleFlow(u, v, levels[l + 1].h, levels[l + 1].w, levels[l].h, levels[l].w)
            }
            solveLevel(levels[l], &u, &v)
        }
        return (u, v)
    }

    // MARK: Pyramid

    /// Separable Gaussian blur (replicated borders) then bilinear sampling at pixel centres.
    static func downsample(_ img: [Float], _ h: Int, _ w: Int, _ nh: Int, _ nw: Int, _ sigma: Float) -> [Float] {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var k = (-radius...radius).map { d in Float(Foundation.exp(-Double(d * d) / (2 * Double(sigma * sigma)))) }
        let ks = k.reduce(0, +); k = k.map { $0 / ks }
        // Rows: replicated borders via a padded copy of each row; then columns likewise.
        var tmp = [Float](repeating: 0, count: h * w), blur = tmp
        var line = [Float](repeating: 0, count: max(w, h) + 2 * radius)
        k.withUnsafeBufferPointer { k in
            img.withUnsafeBufferPointer { src in
                tmp.withUnsafeMutableBufferPointer { tmp in
                    line.withUnsafeMutableBufferPointer { line in
                        for y in 0..<h {
                            for x in 0..<(w + 2 * radius) { line[x] = src[y * w + min(max(x - radius, 0), w - 1)] }
                            for x in 0..<w {
                                var acc: Float = 0
                                for d in 0...(2 * radius) { acc += k[d] * line[x + d] }
                                tmp[y * w + x] = acc
                            }
                        }
                    }
                }
            }
            tmp.withUnsafeBufferPointer { tmp in
                blur.withUnsafeMutableBufferPointer { blur in
                    for y in 0..<h {
                        for x in 0..<w { blur[y * w + x] = 0 }
                        for d in 0...(2 * radius) {
                            let row = tmp.baseAddress! + min(max(y + d - radius, 0), h - 1) * w
                            let kd = k[d]
                            for x in 0..<w { blur[y * w + x] += kd * row[x] }
                        }
                    }
                }
            }
        }
        return bilinear(blur, h, w, nh, nw)
    }

    /// Resamples an h×w plane to nh×nw, pixel centres aligned (x' + ½ ↔ (x + ½)·w/nw).
    static func bilinear(_ img: [Float], _ h: Int, _ w: Int, _ nh: Int, _ nw: Int) -> [Float] {
        let rx = Float(w) / Float(nw), ry = Float(h) / Float(nh)
        var out = [Float](repeating: 0, count: nh * nw)
        // Horizontal taps and weights, shared by all rows.
        var x0s = [Int](repeating: 0, count: nw), x1s = x0s, fxs = [Float](repeating: 0, count: nw)
        for x in 0..<nw {
            let sx = min(max((Float(x) + 0.5) * rx - 0.5, 0), Float(w - 1))
            x0s[x] = Int(sx); x1s[x] = min(x0s[x] + 1, w - 1); fxs[x] = sx - Float(x0s[x])
        }
        img.withUnsafeBufferPointer { img in
            out.withUnsafeMutableBufferPointer { out in
                x0s.withUnsafeBufferPointer { x0s in
                    x1s.withUnsafeBufferPointer { x1s in
                        fxs.withUnsafeBufferPointer { fxs in
                            for y in 0..<nh {
                                let sy = min(max((Float(y) + 0.5) * ry - 0.5, 0), Float(h - 1))
                                let y0 = Int(sy), y1 = min(y0 + 1, h - 1), fy = sy - Float(y0)
                                let r0 = img.baseAddress! + y0 * w, r1 = img.baseAddress! + y1 * w
                                for x in 0..<nw {
                                    let x0 = x0s[x], x1 = x1s[x], fx = fxs[x]
                                    let top = r0[x0] + fx * (r0[x1] - r0[x0])
                                    let bot = r1[x0] + fx * (r1[x1] - r1[x0])
                                    out[y * nw + x] = top + fy * (bot - top)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Bilinear upsampling of the flow to the finer level, values scaled by the size ratio.
    static func upsampleFlow(_ u: [Float], _ v: [Float], _ h: Int, _ w: Int, _ nh: Int, _ nw: Int) -> ([Float], [Float]) {
        let su = Float(nw) / Float(w), sv = Float(nh) / Float(h)
        return (bilinear(u, h, w, nh, nw).map { $0 * su }, bilinear(v, h, w, nh, nw).map { $0 * sv })
    }

    // MARK: One level

    func solveLevel(_ level: (h: Int, w: Int, a: [Float], b: [Float]), _ u: inout [Float], _ v: inout [Float]) {
        let h = level.h, w = level.w
        // Stride: room for the column before the image (dual padding), whole 16-wide vectors
        // over the row, and the column after it (flow padding); slack for the last row's reads.
        let s = max(16 * ((w + 15) / 16) + 1, w + 2), n = (h + 2) * s + 32, o = s + 1
        let bu1 = FlowBuffer<Float>(n, 0), bu2 = FlowBuffer<Float>(n, 0)
        let bp = (0..<4).map { _ in FlowBuffer<Float>(n, 0) }
        let bix = FlowBuffer<Float>(n, 0), biy = FlowBuffer<Float>(n, 0)
        let bgrad = FlowBuffer<Float>(n, 0), brho = FlowBuffer<Float>(n, 0)
        let berr = FlowBuffer<Float>(h, 0)
        let planes = TVL1Planes(u1: bu1.p, u2: bu2.p, p11: bp[0].p, p12: bp[1].p, p21: bp[2].p, p22: bp[3].p,
                                ix: bix.p, iy: biy.p, grad: bgrad.p, rhoc: brho.p, rowError: berr.p,
                                w: w, h: h, s: s, o: o,
                                lt: opts.lambda * opts.theta, theta: opts.theta, taut: opts.tau / opts.theta)
        for y in 0..<h {
            for x in 0..<w { bu1.p[o + y * s + x] = u[y * w + x]; bu2.p[o + y * s + x] = v[y * w + x] }
        }

        // I1 and its centred gradient (one-sided, halved, at the borders — OpenCV's
        // centeredGradient), interleaved and padded by 3 replicated pixels for bicubic taps.
        let ew = w + 6, eh = h + 6
        let ext = FlowBuffer<SIMD4<Float>>(ew * eh, .zero)
        level.b.withUnsafeBufferPointer { i1 in
            for ey in 0..<eh {
                let y = min(max(ey - 3, 0), h - 1)
                let ym = max(y - 1, 0), yp = min(y + 1, h - 1)
                for ex in 0..<ew {
                    let x = min(max(ex - 3, 0), w - 1)
                    let xm = max(x - 1, 0), xp = min(x + 1, w - 1)
                    ext.p[ey * ew + ex] = SIMD4(i1[y * w + x], 0.5 * (i1[y * w + xp] - i1[y * w + xm]),
                                                0.5 * (i1[yp * w + x] - i1[ym * w + x]), 0)
                }
            }
        }

        let parallel = h * w >= TVL1Solver.parallelArea && Parallel.threads > 1 && h >= 16
        let bands = parallel && h * w >= TVL1Solver.parallelIterationArea ? min(Parallel.threads, h / 8) : 1
        func forRows(_ body: (Range<Int>) -> Void) {
            if parallel { Parallel.forRanges(h, body) } else { body(0..<h) }
        }

        let medianSize = opts.medianFiltering
        let mr = medianSize / 2, ms = w + 2 * mr
        let med1 = FlowBuffer<Float>(medianSize > 1 ? (h + 2 * mr) * ms : 0, 0)
        let med2 = FlowBuffer<Float>(medianSize > 1 ? (h + 2 * mr) * ms : 0, 0)

        let scaledEpsilon = opts.epsilon * opts.epsilon * Float(h * w)
        level.a.withUnsafeBufferPointer { i0b in
            let i0 = i0b.baseAddress!
            for _ in 0..<opts.warps {
                // Warp I1 and its gradient by the current flow; linearise the data term.
                forRows { rows in
                    for y in rows {
                        for x in 0..<w {
                            let i = o + y * s + x
                            let a = planes.u1[i], b = planes.u2[i]
                            let px = min(max(Float(x) + a, -1), Float(w))
                            let py = min(max(Float(y) + b, -1), Float(h))
                            let fx = px.rounded(.down), fy = py.rounded(.down)
                            let wx = cubicWeights(px - fx), wy = cubicWeights(py - fy)
                            var t = ext.p + (Int(fy) + 2) * ew + (Int(fx) + 2)
                            var acc = SIMD4<Float>()
                            for j in 0..<4 {
                                var row = wx[0] * t[0]
                                row += wx[1] * t[1]
                                row += wx[2] * t[2]
                                row += wx[3] * t[3]
                                acc += wy[j] * row
                                t += ew
                            }
                            let gx = acc[1], gy = acc[2]
                            planes.ix[i] = gx; planes.iy[i] = gy
                            planes.grad[i] = gx * gx + gy * gy
                            planes.rhoc[i] = acc[0] - gx * a - gy * b - i0[y * w + x]
                        }
                    }
                }

                var error = Float.greatestFiniteMagnitude
                var outer = 0
                while error > scaledEpsilon && outer < opts.outerIterations {
                    if medianSize > 1 {
                        median(planes.u1, med1.p, h: h, w: w, s: s, o: o, size: medianSize, forRows)
                        median(planes.u2, med2.p, h: h, w: w, s: s, o: o, size: medianSize, forRows)
                    }
                    var inner = 0
                    while error > scaledEpsilon && inner < opts.innerIterations {
                        if bands == 1 {
                            planes.band(0..<h)
                            planes.dual(h - 1)
                        } else {
                            Parallel.run(parts: bands) { k in
                                planes.band((h * k / bands)..<(h * (k + 1) / bands))
                            }
                            for k in 0..<bands { planes.dual(h * (k + 1) / bands - 1) }
                        }
                        var total: Float = 0
                        for y in 0..<h { total += planes.rowError[y] }
                        error = total
                        inner += 1
                    }
                    outer += 1
                }
            }
        }
        for y in 0..<h {
            for x in 0..<w { u[y * w + x] = bu1.p[o + y * s + x]; v[y * w + x] = bu2.p[o + y * s + x] }
        }
        // `planes` holds raw pointers: keep their owners alive until here.
        withExtendedLifetime((bu1, bu2, bp, bix, biy, bgrad, brho, berr, ext, med1, med2)) {}
    }

    // MARK: Median

    /// k×k median (k = 3 or 5) of the flow plane in place, replicated borders (OpenCV's medianBlur).
    func median(_ u: UnsafeMutablePointer<Float>, _ t: UnsafeMutablePointer<Float>, h: Int, w: Int, s: Int, o: Int,
                size k: Int, _ forRows: ((Range<Int>) -> Void) -> Void) {
        let r = k / 2, ts = w + 2 * r
        for ty in 0..<(h + 2 * r) {
            let src = u + o + min(max(ty - r, 0), h - 1) * s
            for tx in 0..<ts { t[ty * ts + tx] = src[min(max(tx - r, 0), w - 1)] }
        }
        forRows { rows in
            let buf = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: 25)
            defer { buf.deallocate() }
            for y in rows {
                let dst = u + o + y * s
                if w >= 16 {
                    var x0 = 0
                    while x0 < w {
                        let x = min(x0, w - 16)   // last chunk overlaps the previous one
                        for dy in 0..<k {
                            for dx in 0..<k { buf[dy * k + dx] = ld16(t, (y + dy) * ts + x + dx) }
                        }
                        st16(dst, x, k == 5 ? OpticalFlow.median25(buf) : OpticalFlow.median9(buf))
                        x0 += 16
                    }
                } else {
                    for dy in 0..<k {
                        for dx in 0..<k {
                            var vct = SIMD16<Float>()
                            for lane in 0..<w { vct[lane] = t[(y + dy) * ts + lane + dx] }
                            buf[dy * k + dx] = vct
                        }
                    }
                    let m = k == 5 ? OpticalFlow.median25(buf) : OpticalFlow.median9(buf)
                    for lane in 0..<w { dst[lane] = m[lane] }
                }
            }
        }
    }
}

// MARK: - Median networks

extension OpticalFlow {
    @inline(__always)
    static func cs(_ a: inout SIMD16<Float>, _ b: inout SIMD16<Float>) {
        // (pointwiseMin/Max are not vectorised for SIMD16 by the stdlib; a select is.)
        let swap = b .< a
        let lo = a.replacing(with: b, where: swap)
        b = b.replacing(with: a, where: swap)
        a = lo
    }

    // Median-selection networks (Paeth's 19-exchange median of 9; Devillard's 99-exchange
    // median of 25), checked exhaustively on all 0/1 inputs (0–1 principle).
    @inline(__always)
    static func median9(_ v: UnsafePointer<SIMD16<Float>>) -> SIMD16<Float> {
        var v0 = v[0]; var v1 = v[1]; var v2 = v[2]; var v3 = v[3]; var v4 = v[4]; var v5 = v[5]; var v6 = v[6]; var v7 = v[7]; var v8 = v[8]
        cs(&v1, &v2); cs(&v4, &v5); cs(&v7, &v8); cs(&v0, &v1); cs(&v3, &v4); cs(&v6, &v7)
        cs(&v1, &v2); cs(&v4, &v5); cs(&v7, &v8); cs(&v0, &v3); cs(&v5, &v8); cs(&v4, &v7)
        cs(&v3, &v6); cs(&v1, &v4); cs(&v2, &v5); cs(&v4, &v7); cs(&v4, &v2); cs(&v6, &v4)
        cs(&v4, &v2)
        return v4
    }

    @inline(__always)
    static func median25(_ v: UnsafePointer<SIMD16<Float>>) -> SIMD16<Float> {
        var v0 = v[0]; var v1 = v[1]; var v2 = v[2]; var v3 = v[3]; var v4 = v[4]; var v5 = v[5]; var v6 = v[6]; var v7 = v[7]; var v8 = v[8]; var v9 = v[9]; var v10 = v[10]; var v11 = v[11]; var v12 = v[12]; var v13 = v[13]; var v14 = v[14]; var v15 = v[15]; var v16 = v[16]; var v17 = v[17]; var v18 = v[18]; var v19 = v[19]; var v20 = v[20]; var v21 = v[21]; var v22 = v[22]; var v23 = v[23]; var v24 = v[24]
        cs(&v0, &v1); cs(&v3, &v4); cs(&v2, &v4); cs(&v2, &v3); cs(&v6, &v7); cs(&v5, &v7)
        cs(&v5, &v6); cs(&v9, &v10); cs(&v8, &v10); cs(&v8, &v9); cs(&v12, &v13); cs(&v11, &v13)
        cs(&v11, &v12); cs(&v15, &v16); cs(&v14, &v16); cs(&v14, &v15); cs(&v18, &v19); cs(&v17, &v19)
        cs(&v17, &v18); cs(&v21, &v22); cs(&v20, &v22); cs(&v20, &v21); cs(&v23, &v24); cs(&v2, &v5)
        cs(&v3, &v6); cs(&v0, &v6); cs(&v0, &v3); cs(&v4, &v7); cs(&v1, &v7); cs(&v1, &v4)
        cs(&v11, &v14); cs(&v8, &v14); cs(&v8, &v11); cs(&v12, &v15); cs(&v9, &v15); cs(&v9, &v12)
        cs(&v13, &v16); cs(&v10, &v16); cs(&v10, &v13); cs(&v20, &v23); cs(&v17, &v23); cs(&v17, &v20)
        cs(&v21, &v24); cs(&v18, &v24); cs(&v18, &v21); cs(&v19, &v22); cs(&v8, &v17); cs(&v9, &v18)
        cs(&v0, &v18); cs(&v0, &v9); cs(&v10, &v19); cs(&v1, &v19); cs(&v1, &v10); cs(&v11, &v20)
        cs(&v2, &v20); cs(&v2, &v11); cs(&v12, &v21); cs(&v3, &v21); cs(&v3, &v12); cs(&v13, &v22)
        cs(&v4, &v22); cs(&v4, &v13); cs(&v14, &v23); cs(&v5, &v23); cs(&v5, &v14); cs(&v15, &v24)
        cs(&v6, &v24); cs(&v6, &v15); cs(&v7, &v16); cs(&v7, &v19); cs(&v13, &v21); cs(&v15, &v23)
        cs(&v7, &v13); cs(&v7, &v15); cs(&v1, &v9); cs(&v3, &v11); cs(&v5, &v17); cs(&v11, &v17)
        cs(&v9, &v17); cs(&v4, &v10); cs(&v6, &v12); cs(&v7, &v14); cs(&v4, &v6); cs(&v4, &v7)
        cs(&v12, &v14); cs(&v10, &v14); cs(&v6, &v7); cs(&v10, &v12); cs(&v6, &v10); cs(&v6, &v17)
        cs(&v12, &v17); cs(&v7, &v17); cs(&v7, &v10); cs(&v12, &v18); cs(&v7, &v12); cs(&v10, &v18)
        cs(&v12, &v20); cs(&v10, &v20); cs(&v10, &v12)
        return v12
    }
}
