/// Accurate, vectorised sums of contiguous Float rows, returned in Double.
///
/// Each block of 256 floats is summed in a SIMD16<Float> accumulator (16 additions per lane, so
/// Float rounding stays ~1e-6 relative within a block), and block totals are added in Double.
/// The error therefore does not grow with the row length, unlike a single Float accumulator,
/// while the inner loop still runs at vector speed. Order is fixed: results are reproducible.
enum AccurateSum {
    @inline(__always) static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inline(__always) static func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    static let block = 256

    /// Σ x[i]
    static func sum(_ x: UnsafePointer<Float>, _ count: Int) -> Double {
        var total = 0.0, i = 0
        while i + 16 <= count {
            let end = min(count - (count - i) % 16, i + block)
            var acc = SIMD16<Float>()
            while i < end { acc += load16(x + i); i += 16 }
            total += Double(acc.sum())
        }
        while i < count { total += Double(x[i]); i += 1 }
        return total
    }

    /// Σ (x[i] − center)²
    static func sumSquaredDeviations(_ x: UnsafePointer<Float>, _ count: Int, center: Float) -> Double {
        var total = 0.0, i = 0
        let c = SIMD16<Float>(repeating: center)
        while i + 16 <= count {
            let end = min(count - (count - i) % 16, i + block)
            var acc = SIMD16<Float>()
            while i < end { let d = load16(x + i) - c; acc.addProduct(d, d); i += 16 }
            total += Double(acc.sum())
        }
        while i < count { let d = Double(x[i] - center); total += d * d; i += 1 }
        return total
    }

    /// Σ a[i]·(x[i] − center)
    static func sumProductsCentered(_ a: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                                    center: Float) -> Double {
        var total = 0.0, i = 0
        let c = SIMD16<Float>(repeating: center)
        while i + 16 <= count {
            let end = min(count - (count - i) % 16, i + block)
            var acc = SIMD16<Float>()
            while i < end { acc.addProduct(load16(a + i), load16(x + i) - c); i += 16 }
            total += Double(acc.sum())
        }
        while i < count { total += Double(a[i]) * Double(x[i] - center); i += 1 }
        return total
    }
}
