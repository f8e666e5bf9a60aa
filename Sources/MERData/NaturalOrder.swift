/// "Natural" string order: digit runs compare as numbers, so `sub2 < sub10` and
/// `1 < 01 < 2` (equal numbers: the shorter spelling first, then plain text order).
public func naturalLess(_ a: String, _ b: String) -> Bool {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    var i = 0, j = 0
    func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 48 && s.value <= 57 }
    while i < x.count && j < y.count {
        if isDigit(x[i]) && isDigit(y[j]) {
            var ie = i, je = j
            while ie < x.count && isDigit(x[ie]) { ie += 1 }
            while je < y.count && isDigit(y[je]) { je += 1 }
            // Compare the runs as numbers without overflow: strip leading zeros, then length, then digits.
            var a0 = i, b0 = j
            while a0 < ie - 1 && x[a0] == "0" { a0 += 1 }
            while b0 < je - 1 && y[b0] == "0" { b0 += 1 }
            if ie - a0 != je - b0 { return ie - a0 < je - b0 }
            for k in 0..<(ie - a0) where x[a0 + k] != y[b0 + k] { return x[a0 + k].value < y[b0 + k].value }
            if ie - i != je - j { return ie - i < je - j }
            i = ie; j = je
        } else {
            if x[i] != y[j] { return x[i].value < y[j].value }
            i += 1; j += 1
        }
    }
    return x.count - i < y.count - j
}

/// Python's default `sorted` order for strings (code point by code point), which is what
/// torchvision's `find_classes` uses.
func codePointLess(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
}
