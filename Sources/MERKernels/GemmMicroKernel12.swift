// Generated-style unrolled code: one named accumulator per (row, half) so the optimizer
// keeps the whole 12x32 tile in zmm registers (arrays or tuples would go through memory).

extension GemmKernel {
    /// C[0..<12, 0..<32] = alpha · (Ã · B̃) + beta · C over one packed K block.
    ///
    /// `a`: 12 floats per k step (one A micro-panel), `b`: 32 floats per k step (one B micro-panel),
    /// both 64-byte aligned. Per k step: 2 vector loads of B, 12 broadcasts of A, 24 FMAs.
    /// `beta == 0` never reads C. The store is fma(alpha, acc, beta·c) per element, the same
    /// formula `GemmDriver.storeEdge` uses, so full and edge tiles round identically.
    @inline(never)
    static func micro12x32(kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                          c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        var c0_0 = SIMD16<Float>(), c0_1 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(), c1_1 = SIMD16<Float>()
        var c2_0 = SIMD16<Float>(), c2_1 = SIMD16<Float>()
        var c3_0 = SIMD16<Float>(), c3_1 = SIMD16<Float>()
        var c4_0 = SIMD16<Float>(), c4_1 = SIMD16<Float>()
        var c5_0 = SIMD16<Float>(), c5_1 = SIMD16<Float>()
        var c6_0 = SIMD16<Float>(), c6_1 = SIMD16<Float>()
        var c7_0 = SIMD16<Float>(), c7_1 = SIMD16<Float>()
        var c8_0 = SIMD16<Float>(), c8_1 = SIMD16<Float>()
        var c9_0 = SIMD16<Float>(), c9_1 = SIMD16<Float>()
        var c10_0 = SIMD16<Float>(), c10_1 = SIMD16<Float>()
        var c11_0 = SIMD16<Float>(), c11_1 = SIMD16<Float>()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        var p = 0
        while p < kc {
            let b0 = pb.load(as: SIMD16<Float>.self)
            let b1 = pb.load(fromByteOffset: 64, as: SIMD16<Float>.self)
            let a0 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 0, as: Float.self))
            c0_0 = c0_0.addingProduct(a0, b0); c0_1 = c0_1.addingProduct(a0, b1)
            let a1 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 4, as: Float.self))
            c1_0 = c1_0.addingProduct(a1, b0); c1_1 = c1_1.addingProduct(a1, b1)
            let a2 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 8, as: Float.self))
            c2_0 = c2_0.addingProduct(a2, b0); c2_1 = c2_1.addingProduct(a2, b1)
            let a3 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 12, as: Float.self))
            c3_0 = c3_0.addingProduct(a3, b0); c3_1 = c3_1.addingProduct(a3, b1)
            let a4 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 16, as: Float.self))
            c4_0 = c4_0.addingProduct(a4, b0); c4_1 = c4_1.addingProduct(a4, b1)
            let a5 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 20, as: Float.self))
            c5_0 = c5_0.addingProduct(a5, b0); c5_1 = c5_1.addingProduct(a5, b1)
            let a6 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 24, as: Float.self))
            c6_0 = c6_0.addingProduct(a6, b0); c6_1 = c6_1.addingProduct(a6, b1)
            let a7 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 28, as: Float.self))
            c7_0 = c7_0.addingProduct(a7, b0); c7_1 = c7_1.addingProduct(a7, b1)
            let a8 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 32, as: Float.self))
            c8_0 = c8_0.addingProduct(a8, b0); c8_1 = c8_1.addingProduct(a8, b1)
            let a9 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 36, as: Float.self))
            c9_0 = c9_0.addingProduct(a9, b0); c9_1 = c9_1.addingProduct(a9, b1)
            let a10 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 40, as: Float.self))
            c10_0 = c10_0.addingProduct(a10, b0); c10_1 = c10_1.addingProduct(a10, b1)
            let a11 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 44, as: Float.self))
            c11_0 = c11_0.addingProduct(a11, b0); c11_1 = c11_1.addingProduct(a11, b1)
            pa += 48; pb += 128; p += 1
        }
        let cr = UnsafeMutableRawPointer(c), rs = ldc * 4
        let va = SIMD16<Float>(repeating: alpha)
        if beta == 0 {
            cr.storeBytes(of: c0_0 * va, toByteOffset: 0 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c0_1 * va, toByteOffset: 0 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c1_0 * va, toByteOffset: 1 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c1_1 * va, toByteOffset: 1 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c2_0 * va, toByteOffset: 2 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c2_1 * va, toByteOffset: 2 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c3_0 * va, toByteOffset: 3 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c3_1 * va, toByteOffset: 3 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c4_0 * va, toByteOffset: 4 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c4_1 * va, toByteOffset: 4 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c5_0 * va, toByteOffset: 5 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c5_1 * va, toByteOffset: 5 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c6_0 * va, toByteOffset: 6 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c6_1 * va, toByteOffset: 6 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c7_0 * va, toByteOffset: 7 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c7_1 * va, toByteOffset: 7 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c8_0 * va, toByteOffset: 8 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c8_1 * va, toByteOffset: 8 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c9_0 * va, toByteOffset: 9 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c9_1 * va, toByteOffset: 9 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c10_0 * va, toByteOffset: 10 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c10_1 * va, toByteOffset: 10 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c11_0 * va, toByteOffset: 11 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c11_1 * va, toByteOffset: 11 * rs + 64, as: SIMD16<Float>.self)
        } else {
            let vb = SIMD16<Float>(repeating: beta)
            update(cr + 0 * rs, c0_0, c0_1, va, vb)
            update(cr + 1 * rs, c1_0, c1_1, va, vb)
            update(cr + 2 * rs, c2_0, c2_1, va, vb)
            update(cr + 3 * rs, c3_0, c3_1, va, vb)
            update(cr + 4 * rs, c4_0, c4_1, va, vb)
            update(cr + 5 * rs, c5_0, c5_1, va, vb)
            update(cr + 6 * rs, c6_0, c6_1, va, vb)
            update(cr + 7 * rs, c7_0, c7_1, va, vb)
            update(cr + 8 * rs, c8_0, c8_1, va, vb)
            update(cr + 9 * rs, c9_0, c9_1, va, vb)
            update(cr + 10 * rs, c10_0, c10_1, va, vb)
            update(cr + 11 * rs, c11_0, c11_1, va, vb)
        }
    }

    /// `micro12x32` with A read in place: row i of the 12 at `a + i·lda`, contiguous in k
    /// (non-transposed A), instead of from a packed panel. For products whose A panels meet
    /// one or two B panels (N ≤ 64: the Winograd weight pass's dU = V·Z with cout ≤ 64), where
    /// packing a panel cost a third of the kernel time it saved. The same FMA chain per element
    /// and the same store, so the bits are `micro12x32`'s.
    @inline(never)
    static func micro12x32Rows(kc: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>,
                          c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float, beta: Float) {
        var c0_0 = SIMD16<Float>(), c0_1 = SIMD16<Float>()
        var c1_0 = SIMD16<Float>(), c1_1 = SIMD16<Float>()
        var c2_0 = SIMD16<Float>(), c2_1 = SIMD16<Float>()
        var c3_0 = SIMD16<Float>(), c3_1 = SIMD16<Float>()
        var c4_0 = SIMD16<Float>(), c4_1 = SIMD16<Float>()
        var c5_0 = SIMD16<Float>(), c5_1 = SIMD16<Float>()
        var c6_0 = SIMD16<Float>(), c6_1 = SIMD16<Float>()
        var c7_0 = SIMD16<Float>(), c7_1 = SIMD16<Float>()
        var c8_0 = SIMD16<Float>(), c8_1 = SIMD16<Float>()
        var c9_0 = SIMD16<Float>(), c9_1 = SIMD16<Float>()
        var c10_0 = SIMD16<Float>(), c10_1 = SIMD16<Float>()
        var c11_0 = SIMD16<Float>(), c11_1 = SIMD16<Float>()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        let ra = lda * 4   // bytes from one row of A to the next
        var p = 0
        while p < kc {
            let b0 = pb.load(as: SIMD16<Float>.self)
            let b1 = pb.load(fromByteOffset: 64, as: SIMD16<Float>.self)
            let a0 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 0 * ra, as: Float.self))
            c0_0 = c0_0.addingProduct(a0, b0); c0_1 = c0_1.addingProduct(a0, b1)
            let a1 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 1 * ra, as: Float.self))
            c1_0 = c1_0.addingProduct(a1, b0); c1_1 = c1_1.addingProduct(a1, b1)
            let a2 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 2 * ra, as: Float.self))
            c2_0 = c2_0.addingProduct(a2, b0); c2_1 = c2_1.addingProduct(a2, b1)
            let a3 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 3 * ra, as: Float.self))
            c3_0 = c3_0.addingProduct(a3, b0); c3_1 = c3_1.addingProduct(a3, b1)
            let a4 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 4 * ra, as: Float.self))
            c4_0 = c4_0.addingProduct(a4, b0); c4_1 = c4_1.addingProduct(a4, b1)
            let a5 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 5 * ra, as: Float.self))
            c5_0 = c5_0.addingProduct(a5, b0); c5_1 = c5_1.addingProduct(a5, b1)
            let a6 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 6 * ra, as: Float.self))
            c6_0 = c6_0.addingProduct(a6, b0); c6_1 = c6_1.addingProduct(a6, b1)
            let a7 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 7 * ra, as: Float.self))
            c7_0 = c7_0.addingProduct(a7, b0); c7_1 = c7_1.addingProduct(a7, b1)
            let a8 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 8 * ra, as: Float.self))
            c8_0 = c8_0.addingProduct(a8, b0); c8_1 = c8_1.addingProduct(a8, b1)
            let a9 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 9 * ra, as: Float.self))
            c9_0 = c9_0.addingProduct(a9, b0); c9_1 = c9_1.addingProduct(a9, b1)
            let a10 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 10 * ra, as: Float.self))
            c10_0 = c10_0.addingProduct(a10, b0); c10_1 = c10_1.addingProduct(a10, b1)
            let a11 = SIMD16<Float>(repeating: pa.load(fromByteOffset: 11 * ra, as: Float.self))
            c11_0 = c11_0.addingProduct(a11, b0); c11_1 = c11_1.addingProduct(a11, b1)
            pa += 4; pb += 128; p += 1
        }
        let cr = UnsafeMutableRawPointer(c), rs = ldc * 4
        let va = SIMD16<Float>(repeating: alpha)
        if beta == 0 {
            cr.storeBytes(of: c0_0 * va, toByteOffset: 0 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c0_1 * va, toByteOffset: 0 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c1_0 * va, toByteOffset: 1 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c1_1 * va, toByteOffset: 1 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c2_0 * va, toByteOffset: 2 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c2_1 * va, toByteOffset: 2 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c3_0 * va, toByteOffset: 3 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c3_1 * va, toByteOffset: 3 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c4_0 * va, toByteOffset: 4 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c4_1 * va, toByteOffset: 4 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c5_0 * va, toByteOffset: 5 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c5_1 * va, toByteOffset: 5 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c6_0 * va, toByteOffset: 6 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c6_1 * va, toByteOffset: 6 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c7_0 * va, toByteOffset: 7 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c7_1 * va, toByteOffset: 7 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c8_0 * va, toByteOffset: 8 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c8_1 * va, toByteOffset: 8 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c9_0 * va, toByteOffset: 9 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c9_1 * va, toByteOffset: 9 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c10_0 * va, toByteOffset: 10 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c10_1 * va, toByteOffset: 10 * rs + 64, as: SIMD16<Float>.self)
            cr.storeBytes(of: c11_0 * va, toByteOffset: 11 * rs, as: SIMD16<Float>.self); cr.storeBytes(of: c11_1 * va, toByteOffset: 11 * rs + 64, as: SIMD16<Float>.self)
        } else {
            let vb = SIMD16<Float>(repeating: beta)
            update(cr + 0 * rs, c0_0, c0_1, va, vb)
            update(cr + 1 * rs, c1_0, c1_1, va, vb)
            update(cr + 2 * rs, c2_0, c2_1, va, vb)
            update(cr + 3 * rs, c3_0, c3_1, va, vb)
            update(cr + 4 * rs, c4_0, c4_1, va, vb)
            update(cr + 5 * rs, c5_0, c5_1, va, vb)
            update(cr + 6 * rs, c6_0, c6_1, va, vb)
            update(cr + 7 * rs, c7_0, c7_1, va, vb)
            update(cr + 8 * rs, c8_0, c8_1, va, vb)
            update(cr + 9 * rs, c9_0, c9_1, va, vb)
            update(cr + 10 * rs, c10_0, c10_1, va, vb)
            update(cr + 11 * rs, c11_0, c11_1, va, vb)
        }
    }
}
