/// Implicit lowering: packing routines that build the GEMM's packed B micro-panels straight
/// from the image, so the K×P column matrix is never materialised (see `ConvKernels`).
///
/// Profile of the explicit im2col path (one thread, 64→64 3×3 @56): im2col wrote a 7 MB
/// column buffer per image that B packing then read back from memory (~31 % of forward);
/// backwardWeight packed colsᵀ with a scalar transpose (~30 %). The routines here replace
/// both with vector copies out of cache-resident data.
extension ConvKernels {
    /// Forward B for stride 1 and `wout == w` (e.g. "same" padding), where column j of cols
    /// (pixel oy·w + ox) reads plane c at index j + dy·w + dx for tap (dy, dx) = (ky·dilH − padH,
    /// kx·dilW − padW): every row of a 32-column panel is ONE contiguous 32-float load from a
    /// shifted position, masked to zero where the tap falls into the padding.
    ///
    /// Writes op(B)[p0 ..< p0+kc, j0 ..< j0+nc] (rows r = (c·kh + ky)·kw + kx, columns = pixels)
    /// as kc×32 panels. `base` is the group's first plane; offsets `lo ..< hi` from `base` are
    /// readable memory (the whole input tensor), so loads that straddle a plane or image edge
    /// stay inside the tensor and only the first/last rows of the tensor take the scalar path.
    static func packForwardB(_ s: ConvShape, base: UnsafePointer<Float>, lo: Int, hi: Int,
                             p0: Int, j0: Int, kc: Int, nc: Int, dst: UnsafeMutablePointer<Float>) {
        let w = s.w, hw = s.h * w, taps = s.kh * s.kw, nr = GemmKernel.nr
        let c0 = p0 / taps, tap0 = p0 % taps
        // Per panel, one all-ones / all-zeros lane mask per tap and half (the validity of tap
        // (dy, dx) at each of the 32 pixels), computed once and ANDed onto the raw bits of
        // every row that uses that tap. (Computing it per row with SIMD compares scalarized.)
        withUnsafeTemporaryAllocation(of: SIMD16<Int32>.self, capacity: 2 * taps) { masks in
          withUnsafeTemporaryAllocation(of: Int.self, capacity: taps) { shifts in
            // Plane offset of tap (dy, dx): pixel j reads index j + dy·w + dx.
            for tap in 0..<taps {
                shifts[tap] = ((tap / s.kw) * s.dilH - s.padH) * w + (tap % s.kw) * s.dilW - s.padW
            }
            var d = dst
            var jr = 0
            while jr < nc {
                let jBase = j0 + jr, cols = min(nr, nc - jr)
                for tap in 0..<taps {
                    let dy = (tap / s.kw) * s.dilH - s.padH, dx = (tap % s.kw) * s.dilW - s.padW
                    var m0 = SIMD16<Int32>(), m1 = SIMD16<Int32>()
                    for t in 0..<cols {
                        let y = (jBase + t) / w + dy, x = (jBase + t) % w + dx
                        let ok: Int32 = y >= 0 && y < s.h && x >= 0 && x < w ? -1 : 0
                        if t < 16 { m0[t] = ok } else { m1[t - 16] = ok }
                    }
                    masks[2 * tap] = m0; masks[2 * tap + 1] = m1
                }
                var c = c0, tap = tap0
                for pp in 0..<kc {
                    let off = c * hw + jBase + shifts[tap]
                    let m0 = masks[2 * tap], m1 = masks[2 * tap + 1]
                    let out = UnsafeMutableRawPointer(d + pp * nr)
                    if off >= lo && off + nr <= hi {
                        let src = UnsafeRawPointer(base + off)
                        out.storeBytes(of: src.loadUnaligned(as: SIMD16<Int32>.self) & m0, as: SIMD16<Int32>.self)
                        out.storeBytes(of: src.loadUnaligned(fromByteOffset: 64, as: SIMD16<Int32>.self) & m1,
                                       toByteOffset: 64, as: SIMD16<Int32>.self)
                    } else {
                        let o = d + pp * nr
                        for t in 0..<16 { o[t] = m0[t] != 0 ? base[off + t] : 0 }
                        for t in 0..<16 { o[16 + t] = m1[t] != 0 ? base[off + 16 + t] : 0 }
                    }
                    tap += 1
                    if tap == taps { tap = 0; c += 1 }
                }
                d += kc * nr
                jr += nr
            }
          }
        }
    }

    /// Whether `forward` may use `packForwardB` (stride 1, output rows as wide as input rows).
    static func implicitForward(_ s: ConvShape) -> Bool {
        s.strideH == 1 && s.strideW == 1 && s.wout == s.w
    }

    /// Copies `channels` planes (h×w) into a zero-bordered channel-last buffer:
    /// hwc[((y + padH)·wp + x + padW)·channels + c] = image[c][y][x]. Only the interior is
    /// written; the caller zeroes the (hp·wp·channels) buffer once so the border stays zero.
    static func toPaddedHWC(_ s: ConvShape, image: UnsafePointer<Float>, channels: Int,
                            hwc: UnsafeMutablePointer<Float>, wp: Int) {
        let h = s.h, w = s.w
        for y in 0..<h {
            let row = hwc + ((y + s.padH) * wp + s.padW) * channels
            for c in 0..<channels {
                let src = image + (c * h + y) * w
                var d = row + c
                for x in 0..<w { d.pointee = src[x]; d += channels }
            }
        }
    }

    /// backwardWeight B = colsᵀ with the reduction over pixels, in tap-major column order
    /// j = (ky·kw + kx)·channels + c, read from the padded channel-last image: row p (pixel
    /// oy, ox) of a 32-column panel within one tap is 32 consecutive channels, one contiguous
    /// copy (no transpose). Panels that straddle taps (channels not a multiple of 32, the
    /// tail) gather element by element.
    static func packWeightB(_ s: ConvShape, hwc: UnsafePointer<Float>, channels: Int, wp: Int,
                            p0: Int, j0: Int, kc: Int, nc: Int, dst: UnsafeMutablePointer<Float>) {
        let nr = GemmKernel.nr, wout = s.wout
        let rowStep = s.strideH * wp * channels, colStep = s.strideW * channels
        let oyStart = p0 / wout, oxStart = p0 % wout
        var d = dst
        var jr = 0
        while jr < nc {
            let jBase = j0 + jr, cols = min(nr, nc - jr)
            let tap = jBase / channels, cBase = jBase % channels
            if cols == nr && cBase + nr <= channels {
                let ky = tap / s.kw, kx = tap % s.kw
                let tapOff = (ky * s.dilH * wp + kx * s.dilW) * channels + cBase
                var oy = oyStart, ox = oxStart
                var rowPtr = hwc + oy * rowStep + tapOff
                for pp in 0..<kc {
                    let src = UnsafeRawPointer(rowPtr + ox * colStep)
                    let out = UnsafeMutableRawPointer(d + pp * nr)
                    out.storeBytes(of: src.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
                    out.storeBytes(of: src.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self),
                                   toByteOffset: 64, as: SIMD16<Float>.self)
                    ox += 1
                    if ox == wout { ox = 0; rowPtr += rowStep }
                }
            } else {
                withUnsafeTemporaryAllocation(of: Int.self, capacity: nr) { colOff in
                    for t in 0..<cols {
                        let j = jBase + t, tp = j / channels, c = j % channels
                        colOff[t] = ((tp / s.kw) * s.dilH * wp + (tp % s.kw) * s.dilW) * channels + c
                    }
                    var oy = oyStart, ox = oxStart
                    for pp in 0..<kc {
                        let pix = hwc + oy * rowStep + ox * colStep
                        let o = d + pp * nr
                        for t in 0..<cols { o[t] = pix[colOff[t]] }
                        for t in cols..<nr { o[t] = 0 }
                        ox += 1
                        if ox == wout { ox = 0; oy += 1 }
                    }
                }
            }
            d += kc * nr
            jr += nr
        }
    }

    /// B over consecutive images side by side (forward and backwardData of small images):
    /// op(B)[r][j] = planes[(j / P)·imageStride + r·P + j % P], rows `p0 ..< p0+kc` (channels),
    /// for P ≥ 32 every row of a 32-column panel is at most two 32-float loads (the columns
    /// left in one image, then the next image's first ones) blended by lane masks; offsets
    /// `0 ..< readable` from `planes` may be read (the loads run past a row into the tensor's
    /// next floats, whose lanes the masks drop), and panels whose loads would not stay inside
    /// them, or images under 32 pixels, copy element by element. (An element-wise copy of
    /// every panel that straddles two images, which is most of them at P = 49, cost a third of
    /// the product it fed.)
    static func packStackedB(planes: UnsafePointer<Float>, p: Int, imageStride: Int, readable: Int,
                             p0: Int, j0: Int, kc: Int, nc: Int, dst: UnsafeMutablePointer<Float>) {
        let nr = GemmKernel.nr
        let lanesLo = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        let lanesHi = lanesLo &+ 16
        var d = dst
        var jr = 0
        while jr < nc {
            let jBase = j0 + jr, cols = min(nr, nc - jr)
            let img = jBase / p, pix = jBase % p
            let first = min(cols, p - pix)   // columns from image img; the others from img + 1
            // Lane t < first reads src1 + t, lane first ≤ t < cols reads src2 + t.
            let src1 = img * imageStride + p0 * p + pix
            let src2 = (img + 1) * imageStride + p0 * p - first
            let span = (kc - 1) * p + nr
            if p >= nr && src1 + span <= readable && (first == cols || (src2 >= 0 && src2 + span <= readable)) {
                let f = Int32(first), c = Int32(cols)
                let one0 = lanesLo .< f, one1 = lanesHi .< f
                let two0 = (lanesLo .>= f) .& (lanesLo .< c), two1 = (lanesHi .>= f) .& (lanesHi .< c)
                let zero = SIMD16<Float>()
                for pp in 0..<kc {
                    let a = UnsafeRawPointer(planes + src1 + pp * p)
                    var lo = a.loadUnaligned(as: SIMD16<Float>.self)
                    var hi = a.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                    if first == nr {
                        // The whole panel lies in one image: the loads as they are.
                    } else if first == cols {
                        lo = zero.replacing(with: lo, where: one0); hi = zero.replacing(with: hi, where: one1)
                    } else {
                        let b = UnsafeRawPointer(planes + src2 + pp * p)
                        let blo = b.loadUnaligned(as: SIMD16<Float>.self)
                        let bhi = b.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
                        lo = zero.replacing(with: lo, where: one0).replacing(with: blo, where: two0)
                        hi = zero.replacing(with: hi, where: one1).replacing(with: bhi, where: two1)
                    }
                    let out = UnsafeMutableRawPointer(d + pp * nr)
                    out.storeBytes(of: lo, as: SIMD16<Float>.self)
                    out.storeBytes(of: hi, toByteOffset: 64, as: SIMD16<Float>.self)
                }
            } else {
                for pp in 0..<kc {
                    let o = d + pp * nr
                    for t in 0..<cols {
                        let j = jBase + t
                        o[t] = planes[(j / p) * imageStride + (p0 + pp) * p + j % p]
                    }
                    for t in cols..<nr { o[t] = 0 }
                }
            }
            d += kc * nr
            jr += nr
        }
    }
}
