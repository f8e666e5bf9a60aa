import Foundation

/// Reductions over the middle axis of a contiguous (outer, n, inner) block — every
/// "reduce along dimension d" is this after viewing the tensor as
/// (∏ shape[..<d], shape[d], ∏ shape[(d+1)...]). Outputs are (outer, inner).
/// Work is split over `outer` only, so the summation order never depends on threads.
public enum Reduce {
    public typealias V = SIMD16<Float>

    public static func sum(outer: Int, n: Int, inner: Int, input: UnsafePointer<Float>,
                           output: UnsafeMutablePointer<Float>) {
        let box = UncheckedSendable((input, output))
        Parallel.forRanges(outer, threads: outer * n * inner >= Parallel.minimumElements ? Parallel.threads : 1) { range in
            let (x, y) = box.value
            for o in range {
                let src = x + o * n * inner, dst = y + o * inner
                if inner == 1 {
                    dst[0] = sumContiguous(src, n)
                } else if n == 0 {
                    dst.update(repeating: 0, count: inner) // an empty sum; src has no rows to read
                } else {
                    dst.update(from: src, count: inner)
                    for j in 1..<n {
                        Elementwise.binary(.add, count: inner, a: dst, aStride: 1, b: src + j * inner, bStride: 1, out: dst, outStride: 1)
                    }
                }
            }
        }
    }

    /// Sum of a contiguous run with four vector accumulators (fixed order, so deterministic).
    public static func sumContiguous(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let raw = UnsafeRawPointer(x)
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var i = 0
        while i + 64 <= n {
            a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            a1 += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: V.self)
            a2 += raw.loadUnaligned(fromByteOffset: (i + 32) * 4, as: V.self)
            a3 += raw.loadUnaligned(fromByteOffset: (i + 48) * 4, as: V.self)
            i += 64
        }
        while i + 16 <= n { a0 += raw.loadUnaligned(fromByteOffset: i * 4, as: V.self); i += 16 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { s += x[i]; i += 1 }
        return s
    }

    /// Max (or min with `largest: false`) along the middle axis, with the first position
    /// of the extreme value. NaN wins, as in PyTorch.
    ///
    /// With ≥ 16 columns (`inner`) sixteen of them are reduced at once, and the work is split
    /// over blocks of columns as well as over `outer`: the spatial attention's max over the
    /// channels of one image (outer 1, inner H·W) otherwise ran as one scalar loop on one
    /// core, ~2 % of 1-sample inference. Each output is a selection, so the split and the
    /// vectors change no result; `extremeReference` is the per-element loop they must match.
    public static func extreme(largest: Bool, outer: Int, n: Int, inner: Int, input: UnsafePointer<Float>,
                               values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) {
        if inner == 1 && n >= 16 {
            return extremeRows(largest: largest, outer: outer, n: n, input: input, values: values, indices: indices)
        }
        guard inner >= 16, n >= 1 else {
            return extremeReference(largest: largest, outer: outer, n: n, inner: inner, input: input, values: values, indices: indices)
        }
        let blocks = (inner + 15) / 16
        let box = UncheckedSendable((input, values, indices))
        Parallel.forRanges(outer * blocks, threads: outer * n * inner >= Parallel.minimumElements ? Parallel.threads : 1) { range in
            let (x, vals, idx) = box.value
            for unit in range {
                let o = unit / blocks, i0 = unit % blocks * 16
                guard i0 + 16 <= inner else {
                    extremeColumns(largest: largest, o: o, columns: i0..<inner, n: n, inner: inner, x: x, vals: vals, idx: idx)
                    continue
                }
                let base = UnsafeRawPointer(x + o * n * inner + i0)
                var best = base.loadUnaligned(as: V.self)
                var at = SIMD16<Int32>(repeating: 0)
                for j in 1..<n {
                    let v = base.loadUnaligned(fromByteOffset: j * inner * 4, as: V.self)
                    let take = replaces(v, best, largest: largest)
                    best.replace(with: v, where: take)
                    at.replace(with: SIMD16<Int32>(repeating: Int32(j)), where: take)
                }
                UnsafeMutableRawPointer(vals + o * inner + i0).storeBytes(of: best, as: V.self)
                UnsafeMutableRawPointer(idx + o * inner + i0).storeBytes(of: at, as: SIMD16<Int32>.self)
            }
        }
    }

    /// `extreme` along contiguous rows (inner 1: the channel attention's max over each
    /// channel's pixels), 16 positions at a time: lane l keeps the first best of positions
    /// l, l + 16, … (and its first NaN), a row's last 16 positions are one vector however n
    /// ends (overlapping the one before: a position seen twice changes nothing, ties keep the
    /// earlier lane's index), and the lanes are then reduced to the first NaN if any, else
    /// the best value at its smallest index, whose element is read back (its bits: −0 stays
    /// −0). The per-element loop branched on every comparison.
    static func extremeRows(largest: Bool, outer: Int, n: Int, input: UnsafePointer<Float>,
                            values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) {
        let box = UncheckedSendable((input, values, indices))
        Parallel.forRanges(outer, threads: outer * n >= Parallel.minimumElements ? Parallel.threads : 1) { range in
            let (x, vals, idx) = box.value
            let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
            for o in range {
                let row = UnsafeRawPointer(x + o * n)
                var best = row.loadUnaligned(as: V.self)
                var at = lane
                var j = 16
                while j < n {
                    let from = Swift.min(j, n - 16)
                    let v = row.loadUnaligned(fromByteOffset: from * 4, as: V.self)
                    let take = replaces(v, best, largest: largest)
                    best.replace(with: v, where: take)
                    at.replace(with: lane &+ Int32(from), where: take)
                    j += 16
                }
                let nan = best .!= best
                let candidates = any(nan) ? nan : best .== V(repeating: largest ? foldMax(best) : -foldMax(-best))
                let first = foldMin(at.replacing(with: .max, where: .!candidates))
                vals[o] = x[o * n + Int(first)]
                idx[o] = first
            }
        }
    }

    /// Lanes where `v`, met later than `best`, takes its place: strictly better, or the first
    /// NaN of a lane that has none (then it stays).
    @inline(__always) private static func replaces(_ v: V, _ best: V, largest: Bool) -> SIMDMask<SIMD16<Int32>> {
        (largest ? v .> best : v .< best) .| ((v .!= v) .& (best .== best))
    }

    // Horizontal max / min by halves (SIMD's own `max()` / `min()` compiled lane by lane).
    @inline(__always) private static func foldMax(_ v: V) -> Float {
        let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .> v.lowHalf)
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .> a.lowHalf)
        let c = b.lowHalf.replacing(with: b.highHalf, where: b.highHalf .> b.lowHalf)
        return Swift.max(c[0], c[1])
    }
    @inline(__always) private static func foldMin(_ v: SIMD16<Int32>) -> Int32 {
        let a = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .< v.lowHalf)
        let b = a.lowHalf.replacing(with: a.highHalf, where: a.highHalf .< a.lowHalf)
        let c = b.lowHalf.replacing(with: b.highHalf, where: b.highHalf .< b.lowHalf)
        return Swift.min(c[0], c[1])
    }

    /// `extreme` one element at a time: the reference its vectors are tested against.
    public static func extremeReference(largest: Bool, outer: Int, n: Int, inner: Int, input: UnsafePointer<Float>,
                                        values: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) {
        let box = UncheckedSendable((input, values, indices))
        Parallel.forRanges(outer, threads: outer * n * inner >= Parallel.minimumElements ? Parallel.threads : 1) { range in
            let (x, vals, idx) = box.value
            for o in range {
                extremeColumns(largest: largest, o: o, columns: 0..<inner, n: n, inner: inner, x: x, vals: vals, idx: idx)
            }
        }
    }

    @inline(__always)
    private static func extremeColumns(largest: Bool, o: Int, columns: Range<Int>, n: Int, inner: Int,
                                       x: UnsafePointer<Float>, vals: UnsafeMutablePointer<Float>,
                                       idx: UnsafeMutablePointer<Int32>) {
        for i in columns {
            let base = x + o * n * inner + i
            var best = base[0]
            var at: Int32 = 0
            if !best.isNaN {
                for j in 1..<max(n, 1) {
                    let v = base[j * inner]
                    if v.isNaN { best = v; at = Int32(j); break }
                    if largest ? v > best : v < best { best = v; at = Int32(j) }
                }
            }
            vals[o * inner + i] = best
            idx[o * inner + i] = at
        }
    }

    /// Softmax (or log-softmax) along the middle axis, with the max subtracted first.
    public static func softmax(log: Bool, outer: Int, n: Int, inner: Int, input: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>) {
        let box = UncheckedSendable((input, output))
        Parallel.forRanges(outer, threads: outer * n * inner >= 1 << 15 ? Parallel.threads : 1) { range in
            let (x, y) = box.value
            for o in range {
                for i in 0..<inner {
                    let src = x + o * n * inner + i, dst = y + o * n * inner + i
                    var m = -Float.infinity
                    for j in 0..<n { m = Swift.max(m, src[j * inner]) }
                    if m == -Float.infinity { m = 0 }
                    var s: Float = 0
                    for j in 0..<n {
                        let e = Foundation.expf(src[j * inner] - m)
                        dst[j * inner] = e
                        s += e
                    }
                    if log {
                        // (x − m) − log s, not x − (m + log s): the latter loses the small
                        // term to rounding when |m| is large.
                        let ls = Foundation.logf(s)
                        for j in 0..<n { dst[j * inner] = (src[j * inner] - m) - ls }
                    } else {
                        let r = 1 / s
                        for j in 0..<n { dst[j * inner] *= r }
                    }
                }
            }
        }
    }

    /// Backward of softmax / log-softmax given the forward output y:
    /// softmax:     dx = y ⊙ (dy − Σ dy⊙y)
    /// log-softmax: dx = dy − exp(y) · Σ dy
    public static func softmaxBackward(log: Bool, outer: Int, n: Int, inner: Int,
                                       output: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>,
                                       gradInput: UnsafeMutablePointer<Float>) {
        let box = UncheckedSendable((output, gradOutput, gradInput))
        Parallel.forRanges(outer, threads: outer * n * inner >= 1 << 15 ? Parallel.threads : 1) { range in
            let (y, dy, dx) = box.value
            for o in range {
                for i in 0..<inner {
                    let b = o * n * inner + i
                    var s: Float = 0
                    if log {
                        for j in 0..<n { s += dy[b + j * inner] }
                        for j in 0..<n { dx[b + j * inner] = dy[b + j * inner] - Foundation.expf(y[b + j * inner]) * s }
                    } else {
                        for j in 0..<n { s += dy[b + j * inner] * y[b + j * inner] }
                        for j in 0..<n { dx[b + j * inner] = y[b + j * inner] * (dy[b + j * inner] - s) }
                    }
                }
            }
        }
    }
}
