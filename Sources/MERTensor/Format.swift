import Foundation

/// Text form of a tensor: every value for small tensors (Torch7-like nested brackets),
/// a one-line summary with shape and statistics for large ones.
public enum TensorFormatter {
    /// Tensors with more elements than this print as a summary.
    public static let fullLimit = 1000

    public static func format(_ t: Tensor) -> String {
        let header = "tensor of shape \(describe(t.shape))"
        if t.count == 0 { return "\(header) (empty)" }
        // Statistics read every element; a broadcast view (`expand`) can describe far more
        // elements than memory holds, so past 2^26 only the count is shown.
        if t.count > 1 << 26 { return "\(header), \(t.count) elements" }
        let values = t.toArray()
        if t.count > fullLimit {
            var lo = Float.infinity, hi = -Float.infinity
            var sum = 0.0, sq = 0.0, nans = 0
            for v in values {
                if v.isNaN { nans += 1; continue }
                lo = min(lo, v); hi = max(hi, v)
                sum += Double(v); sq += Double(v) * Double(v)
            }
            let n = Double(values.count - nans)
            let mean = n > 0 ? sum / n : .nan
            let std = n > 0 ? (max(0, sq / n - mean * mean)).squareRoot() : .nan
            var s = "\(header), \(t.count) elements: min \(num(lo)), max \(num(hi)), mean \(num(Float(mean))), std \(num(Float(std)))"
            if nans > 0 { s += ", \(nans) NaN" }
            return s
        }
        if t.rank == 0 { return num(values[0]) }
        let texts = values.map(num)
        let width = texts.map(\.count).max() ?? 1
        var out = ""
        func emit(_ dim: Int, _ start: Int, _ indent: String) {
            let stride = t.shape[(dim + 1)...].reduce(1, *)
            if dim == t.rank - 1 {
                out += "[" + (0..<t.shape[dim]).map { i in
                    String(repeating: " ", count: width - texts[start + i].count) + texts[start + i]
                }.joined(separator: " ") + "]"
                return
            }
            out += "["
            for i in 0..<t.shape[dim] {
                if i > 0 { out += "\n" + indent + " " }
                emit(dim + 1, start + i * stride, indent + " ")
            }
            out += "]"
        }
        emit(0, 0, "")
        return out + "\n" + header
    }

    static func num(_ v: Float) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == v.rounded() && Swift.abs(v) < 1e7 { return String(Int(v)) }
        let a = Swift.abs(v)
        if a >= 1e-3 && a < 1e5 { return String(format: "%.4f", v) }
        return String(format: "%.4e", v)
    }
}
