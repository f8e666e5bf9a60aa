import MERKernels

/// Walks one to three same-shaped strided operands row by row: dimensions of size 1 are
/// dropped, adjacent dimensions that are contiguous in every operand are merged, and the
/// innermost dimension becomes a row handed to a kernel with its per-operand strides.
enum Strided {
    /// Shape and per-operand strides after collapsing.
    static func collapse(_ shape: [Int], _ strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        var dims: [Int] = []
        var st: [[Int]] = Array(repeating: [], count: strides.count)
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = dims.last, (0..<strides.count).allSatisfy({ st[$0].last! == strides[$0][d] * shape[d] }) {
                dims[dims.count - 1] = last * shape[d]
                for k in 0..<strides.count { st[k][st[k].count - 1] = strides[k][d] }
            } else {
                dims.append(shape[d])
                for k in 0..<strides.count { st[k].append(strides[k][d]) }
            }
        }
        if dims.isEmpty { return ([1], strides.map { _ in [1] }) }
        return (dims, st)
    }

    /// Calls `body(offsets, rowLength, rowStrides)` for every row; `offsets[k]` is the element
    /// offset of operand k's row start (relative to its base). Large walks are split over
    /// threads by row, which never changes any element's result.
    ///
    /// `freshOutput`: operand 0 is a new buffer that no other operand overlaps (an
    /// out-of-place result), so one long row may also be cut between threads. Contiguous
    /// operands collapse to a single row, and without this every elementwise op on them
    /// (the tape's gradient sums, the activation masks) ran on one core (perf, DBFEM quick
    /// training: `Elementwise.binary` 1.5 % of the step on the main thread, 0.2 % on the
    /// helper). The cuts fall on multiples of 16 elements from the row's start, so every
    /// element takes the same vector or scalar path of the kernel as in one pass.
    static func forEachRow(shape: [Int], strides: [[Int]], parallel: Bool = true, freshOutput: Bool = false,
                           _ body: (_ offsets: UnsafePointer<Int>, _ n: Int, _ rowStrides: UnsafePointer<Int>) -> Void) {
        let (dims, st) = collapse(shape, strides)
        let total = shape.reduce(1, *)
        if total == 0 { return }
        let k = st.count
        let rowLen = dims.last!
        let rows = total / rowLen
        let outerRank = dims.count - 1
        let rowStrides = st.map { $0.last! }
        if parallel && freshOutput && rows == 1 && total >= Parallel.minimumElements && Parallel.threads > 1 {
            withoutActuallyEscaping(body) { body in
                let box = UncheckedSendable(body)
                Parallel.forRanges(rowLen, granule: 16) { range in
                    let offsets = rowStrides.map { $0 * range.lowerBound }
                    offsets.withUnsafeBufferPointer { off in
                        rowStrides.withUnsafeBufferPointer { rs in box.value(off.baseAddress!, range.count, rs.baseAddress!) }
                    }
                }
            }
            return
        }
        let threads = parallel && total >= Parallel.minimumElements && rows > 1 ? Parallel.threads : 1
        // Strides as one flat buffer: the outer dimensions' dimension-major (st[j][d] at d·k + j),
        // then the row strides. The odometer runs once per row, and on broadcasts like
        // (C, H·W) × (C, 1) rows are short (49 floats for a 7×7 map), so nested arrays'
        // indirections and bounds checks cost more than the row.
        var flat = [Int](repeating: 0, count: (outerRank + 1) * k)
        for d in 0..<outerRank { for j in 0..<k { flat[d * k + j] = st[j][d] } }
        for j in 0..<k { flat[outerRank * k + j] = rowStrides[j] }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            flat.withUnsafeBufferPointer { flatBuffer in
                let strideBase = UncheckedSendable(flatBuffer.baseAddress!)
                Parallel.forRanges(rows, threads: threads) { range in
                    let strideOf = strideBase.value, rs = strideOf + outerRank * k
                    // This range's multi-index over the outer dimensions, then the k offsets.
                    let state = UnsafeMutablePointer<Int>.allocate(capacity: outerRank + k)
                    defer { state.deallocate() }
                    let index = state, offsets = state + outerRank
                    var r = range.lowerBound
                    for d in stride(from: outerRank - 1, through: 0, by: -1) {
                        index[d] = r % dims[d]; r /= dims[d]
                    }
                    for j in 0..<k {
                        var o = 0
                        for d in 0..<outerRank { o += index[d] * strideOf[d * k + j] }
                        offsets[j] = o
                    }
                    for _ in range {
                        box.value(offsets, rowLen, rs)
                        // Odometer step over the outer dimensions.
                        var d = outerRank - 1
                        while d >= 0 {
                            index[d] += 1
                            let sd = strideOf + d * k
                            for j in 0..<k { offsets[j] += sd[j] }
                            if index[d] < dims[d] { break }
                            for j in 0..<k { offsets[j] -= sd[j] * dims[d] }
                            index[d] = 0
                            d -= 1
                        }
                    }
                }
            }
        }
    }

    /// Copies a strided tensor into a contiguous buffer.
    static func copy(from t: Tensor, to dst: UnsafeMutablePointer<Float>) {
        let src = t.pointer
        forEachRow(shape: t.shape, strides: [Tensor.contiguousStrides(t.shape), t.strides], freshOutput: true) { off, n, rs in
            Elementwise.unary(.copy, count: n, x: src + off[1], xStride: rs[1], out: dst + off[0], outStride: rs[0])
        }
    }
}
