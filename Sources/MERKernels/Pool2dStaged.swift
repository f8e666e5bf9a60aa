/// Pooling on planes too narrow for the in-place 16-output blocks of Pool2dRows.swift.
///
/// A block reads 16 (stride 1) or 32 (stride 2) floats from its first window on, so a row needs
/// about that many columns past the block; DBFEM's Inception grid (7–17 columns) and its small
/// ResNet12 maps had no room at all and went through the per-output code, whose window
/// arithmetic and scalar loops made the Inception block's 3×3 average pooling ~4 % of a quick
/// training step (`mer-bench --model-profile quick`: avg_pool2d forward and backward 15 ms each
/// per step). Here each plane is first copied into a staging buffer whose rows are padded out
/// to whole blocks (and, for average pooling, whose padding is stored as zeros), and then every
/// output row runs as blocks; lanes past the row's last output are computed and dropped.
///
/// Bit-identical to the references (PoolKernelTests): the sums add the same pixels in the
/// same row-major order, the extra terms being +0 (a sum that starts at +0 never becomes −0, so
/// adding +0 leaves it unchanged); divisors are the references' (`avgWindow`); max pooling
/// stages with −∞ (which never wins, as the reference's padding) and only without horizontal
/// padding, where every block's first window column is the reference's first candidate.
extension PoolKernels {
    enum Staging {
        /// Whether the in-place blocks would leave more than half of each output row to the
        /// per-output code (strides 1 and 2 only: the blocks' loads are written for those).
        static func helps(_ s: PoolShape) -> Bool {
            guard s.strideW == 1 || s.strideW == 2 else { return false }
            let (first, last) = simdColumns(s)
            let covered = last - first >= 16 ? (last - first) / 16 * 16 : 0
            return covered * 2 < s.wout
        }

        /// Staged rows: padded rows (padH above the input, enough below for the last window,
        /// ceil mode included), each `width` floats: padW columns, the input row, then fill up to
        /// the last block's farthest load.
        static func geometry(_ s: PoolShape) -> (rows: Int, width: Int) {
            let rows = max((s.hout - 1) * s.strideH + s.kh, s.h + s.padH)
            let blocks = (s.wout + 15) / 16
            let lastLoad = (blocks * 16 - 16) * s.strideW + s.kw + 32   // past the 32-float stride-2 pair too
            return (rows, max(lastLoad, s.padW + s.w) + 16)
        }

        /// Fills a staging buffer (`rows` × `width`) with `fill` once, before its first plane:
        /// the cells outside the input rows (padding, the fill past each row) are the same for
        /// every plane, so `stage` then writes only the input rows. (Filling and copying every
        /// row of every plane through memset/memmove calls of a few dozen bytes was a fifth of
        /// a 3 × 3 average pooling on the 15 × 15 grid, perf.)
        static func prepare(_ dst: UnsafeMutablePointer<Float>, rows: Int, width: Int, fill: Float) {
            dst.update(repeating: fill, count: rows * width)
        }

        /// Copies plane `src` into a `prepare`d buffer of rows `width` floats: input row iy at
        /// staged row iy + `top`, column ix at ix + padW; other cells keep `fill`. Each row goes
        /// as 16-float vectors; the last, partial one is a whole vector whose lanes past the row
        /// are set to `fill` (they land in the row's fill, `width` ≥ padW + w + 16), one load
        /// when 16 floats from there stay before `end` (the input tensor's end, `VectorTail`).
        static func stage(_ s: PoolShape, _ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>,
                          width: Int, top: Int, fill: Float, end: UnsafePointer<Float>) {
            let tailLanes = VectorTail.lanes(from: s.w % 16)
            for iy in 0..<s.h {
                let from = src + iy * s.w, to = dst + (iy + top) * width + s.padW
                var x = 0
                while x + 16 <= s.w {
                    UnsafeMutableRawPointer(to + x).storeBytes(of: UnsafeRawPointer(from + x).loadUnaligned(as: SIMD16<Float>.self),
                                                               as: SIMD16<Float>.self)
                    x += 16
                }
                guard x < s.w else { continue }
                let v = VectorTail.load(from + x, count: s.w - x, fill: fill, tail: tailLanes, inside: from + x + 16 <= end)
                UnsafeMutableRawPointer(to + x).storeBytes(of: v, as: SIMD16<Float>.self)
            }
        }

        /// Runs `body(plane, staged, rows, width, divisors)` for every plane of the batch, split
        /// over the workers, each with its own staging buffer of `geometry`'s rows × width;
        /// `divisors` are the references' divisor of every output (see `divisors`).
        static func eachPlane(_ s: PoolShape, countIncludePad: Bool, fill: Float,
                              _ body: (Int, UnsafeMutablePointer<Float>, Int, Int, UnsafePointer<Float>) -> Void) {
            let (rows, width) = geometry(s)
            let table = divisors(s, countIncludePad: countIncludePad)
            table.withUnsafeBufferPointer { div in
                Parallel.forRanges(s.n * s.c) { planes in
                    let staged = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
                    defer { staged.deallocate() }
                    prepare(staged, rows: rows, width: width, fill: fill)
                    for pc in planes { body(pc, staged, rows, width, div.baseAddress!) }
                }
            }
        }

        /// The references' divisor of every output, row-major, plus 16 ones for the lanes
        /// past the last output.
        static func divisors(_ s: PoolShape, countIncludePad: Bool) -> [Float] {
            var d = [Float](repeating: 1, count: s.hout * s.wout + 16)
            for oy in 0..<s.hout {
                for ox in 0..<s.wout { d[oy * s.wout + ox] = avgWindow(s, oy: oy, ox: ox, countIncludePad: countIncludePad).divisor }
            }
            return d
        }
    }

    /// Whether `s`'s forwards run staged.
    public static func stagesPlanes(_ s: PoolShape) -> Bool { Staging.helps(s) }

    /// How many lanes of a 16-output block at offset `at` of an output plane of `planeCount`
    /// outputs to store, when `lanes` of them belong to the row: all 16 while they stay inside
    /// the plane, as the extra lanes land on the following rows' first outputs, which are
    /// computed and written after this row (rows run in order, and every output of a row is
    /// written); only `lanes` at the plane's end, which may border another worker's plane.
    /// Stores of 15 single floats per row were most of the 3 × 3 pooling forwards on DBFEM
    /// quick's 15 × 15 Inception grid.
    @inline(__always)
    static func blockStoreCount(_ at: Int, _ lanes: Int, _ planeCount: Int) -> Int {
        lanes >= 16 || at + 16 <= planeCount ? 16 : lanes
    }

    /// Stores the first `count` (≤ 16) lanes of `v` at `dst`.
    @inline(__always)
    static func storeLanes<T: SIMDScalar>(_ v: SIMD16<T>, _ dst: UnsafeMutablePointer<T>, count: Int) {
        if count == 16 {
            UnsafeMutableRawPointer(dst).storeBytes(of: v, as: SIMD16<T>.self)
        } else {
            for l in 0..<count { dst[l] = v[l] }
        }
    }

    static func stagedAvgForward(_ s: PoolShape, countIncludePad: Bool, input: UnsafePointer<Float>,
                                 output: UnsafeMutablePointer<Float>) {
        let hout = s.hout, wout = s.wout, plane = s.h * s.w, oplane = hout * wout
        let end = input + s.n * s.c * plane
        Staging.eachPlane(s, countIncludePad: countIncludePad, fill: 0) { pc, staged, rows, width, div in
            Staging.stage(s, input + pc * plane, into: staged, width: width, top: s.padH, fill: 0, end: end)
            let out = output + pc * oplane
            for oy in 0..<hout {
                let ys = (oy * s.strideH)..<(oy * s.strideH + s.kh)   // staged rows: the whole window
                var ox = 0
                while ox < wout {
                    let d = UnsafeRawPointer(div + oy * wout + ox).loadUnaligned(as: SIMD16<Float>.self)
                    let sum = avgSum(s, staged, ys, x0: ox * s.strideW, rowStride: width)
                    storeLanes(sum / d, out + oy * wout + ox, count: blockStoreCount(oy * wout + ox, wout - ox, oplane))
                    ox += 16
                }
            }
        }
    }

    /// Without horizontal padding (the caller checks): input rows staged as they are (the rows
    /// of each window come from `maxRows`, clipped as in the reference), −∞ past each row.
    static func stagedMaxForward(_ s: PoolShape, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                                 indices: UnsafeMutablePointer<Int32>) {
        precondition(s.padW == 0, "stagedMaxForward: horizontal padding")
        let hout = s.hout, wout = s.wout, plane = s.h * s.w, oplane = hout * wout
        let width = Staging.geometry(s).width, end = input + s.n * s.c * plane
        Parallel.forRanges(s.n * s.c) { planes in
            let staged = UnsafeMutablePointer<Float>.allocate(capacity: s.h * width)
            defer { staged.deallocate() }
            Staging.prepare(staged, rows: s.h, width: width, fill: -.infinity)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { vals in
                withUnsafeTemporaryAllocation(of: Int32.self, capacity: 16) { idxs in
                    for pc in planes {
                        Staging.stage(s, input + pc * plane, into: staged, width: width, top: 0, fill: -.infinity, end: end)
                        let out = output + pc * oplane, idx = indices + pc * oplane
                        for oy in 0..<hout {
                            let ys = maxRows(s, oy: oy)
                            var ox = 0
                            while ox < wout {
                                let lanes = min(16, wout - ox)
                                if ys.isEmpty {
                                    for l in 0..<lanes { maxOne(s, input + pc * plane, ys, ox: ox + l, out + oy * wout + ox + l, idx + oy * wout + ox + l) }
                                } else if blockStoreCount(oy * wout + ox, lanes, oplane) == 16 {
                                    maxBlock(s, staged, ys, x0: ox * s.strideW, out + oy * wout + ox, idx + oy * wout + ox, rowStride: width)
                                } else {
                                    maxBlock(s, staged, ys, x0: ox * s.strideW, vals.baseAddress!, idxs.baseAddress!, rowStride: width)
                                    (out + oy * wout + ox).update(from: vals.baseAddress!, count: lanes)
                                    (idx + oy * wout + ox).update(from: idxs.baseAddress!, count: lanes)
                                }
                                ox += 16
                            }
                        }
                    }
                }
            }
        }
    }
}
