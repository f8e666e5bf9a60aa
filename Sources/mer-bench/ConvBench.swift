import MERKernels

struct ConvResult {
    var name: String
    var threads: Int
    var fwdMs: Double
    /// backward data + backward weight (and bias).
    var bwdMs: Double
    var bwdDataMs: Double
    var bwdWeightMs: Double
    /// (forward + backward FLOPs = 3 × forward FLOPs) / (fwd + bwd time).
    var gflops: Double
    /// Total time / the time a GEMM of the same FLOPs would take at the measured 1024³ GEMM
    /// rate on the same thread count (1.0 = as fast as GEMM; higher = slower).
    var gemmEquivRatio: Double
}

/// The conv layers we care about (batch 32 unless stated, NCHW): the ResNet12 blocks of our
/// model at 112×112 input, an Inception 1×7 / 7×1 pair, a 1×1 projection, the Inception grid
/// reduction and 5×5 branch.
let convBenchLayers: [(String, ConvShape)] = [
    ("resnet12 64->64 3x3 @56", ConvShape(n: 32, cin: 64, h: 56, w: 56, cout: 64, kh: 3, kw: 3, padH: 1, padW: 1)),
    ("resnet12 2->64 3x3 @112", ConvShape(n: 32, cin: 2, h: 112, w: 112, cout: 64, kh: 3, kw: 3, padH: 1, padW: 1)),
    ("resnet12 64->160 3x3 @56", ConvShape(n: 32, cin: 64, h: 56, w: 56, cout: 160, kh: 3, kw: 3, padH: 1, padW: 1)),
    ("resnet12 160->320 3x3 @28", ConvShape(n: 32, cin: 160, h: 28, w: 28, cout: 320, kh: 3, kw: 3, padH: 1, padW: 1)),
    ("resnet12 320->640 3x3 @14", ConvShape(n: 32, cin: 320, h: 14, w: 14, cout: 640, kh: 3, kw: 3, padH: 1, padW: 1)),
    ("inception 1x7 128->128 @17", ConvShape(n: 32, cin: 128, h: 17, w: 17, cout: 128, kh: 1, kw: 7, padH: 0, padW: 3)),
    ("inception 7x1 128->128 @17", ConvShape(n: 32, cin: 128, h: 17, w: 17, cout: 128, kh: 7, kw: 1, padH: 3, padW: 0)),
    ("1x1 256->64 @28", ConvShape(n: 32, cin: 256, h: 28, w: 28, cout: 64, kh: 1, kw: 1)),
    // DBFEM paper's Inception grid reduction (batch 16) and its 5×5 branch.
    ("inception 3x3/2 260->346 @27", ConvShape(n: 16, cin: 260, h: 27, w: 27, cout: 346, kh: 3, kw: 3, strideH: 2, strideW: 2)),
    ("inception 5x5 43->58 @27", ConvShape(n: 16, cin: 43, h: 27, w: 27, cout: 58, kh: 5, kw: 5, padH: 2, padW: 2)),
    // DBFEM quick's pointwise layers on its 7×7 and 15×15 Inception grids (batch 32).
    ("quick 1x1 692->173 @7", ConvShape(n: 32, cin: 692, h: 7, w: 7, cout: 173, kh: 1, kw: 1)),
    ("quick 1x1 231->58 @15", ConvShape(n: 32, cin: 231, h: 15, w: 15, cout: 58, kh: 1, kw: 1)),
    // DBFEM quick's 1×7 / 7×1 pair on the 7×7 grid and its grid reduction (batch 32).
    ("quick 1x7 115->115 @7", ConvShape(n: 32, cin: 115, h: 7, w: 7, cout: 115, kh: 1, kw: 7, padH: 0, padW: 3)),
    ("quick 7x1 115->115 @7", ConvShape(n: 32, cin: 115, h: 7, w: 7, cout: 115, kh: 7, kw: 1, padH: 3, padW: 0)),
    ("quick 3x3/2 260->346 @15", ConvShape(n: 32, cin: 260, h: 15, w: 15, cout: 346, kh: 3, kw: 3, strideH: 2, strideW: 2)),
]

/// The tensors of one benchmark layer, filled deterministically.
final class ConvBuffers {
    let s: ConvShape
    let input, weight, bias, output, gradOut, gradIn, gradW, gradB: UnsafeMutablePointer<Float>

    init(_ s: ConvShape) {
        self.s = s
        let inCount = s.n * s.cin * s.h * s.w
        let wCount = s.cout * s.cinPerGroup * s.kh * s.kw
        let outCount = s.n * s.cout * s.hout * s.wout
        input = .allocate(capacity: inCount); weight = .allocate(capacity: wCount)
        bias = .allocate(capacity: s.cout); output = .allocate(capacity: outCount)
        gradOut = .allocate(capacity: outCount); gradIn = .allocate(capacity: inCount)
        gradW = .allocate(capacity: wCount); gradB = .allocate(capacity: s.cout)
        fillRandom(input, count: inCount, seed: 11)
        fillRandom(weight, count: wCount, seed: 12)
        fillRandom(bias, count: s.cout, seed: 13)
        fillRandom(gradOut, count: outCount, seed: 14)
    }
    deinit { for p in [input, weight, bias, output, gradOut, gradIn, gradW, gradB] { p.deallocate() } }

    func forward() { ConvKernels.forward(s, input: input, weight: weight, bias: bias, output: output) }
    func backwardData() { ConvKernels.backwardData(s, gradOutput: gradOut, weight: weight, gradInput: gradIn) }
    func backwardWeight() {
        ConvKernels.backwardWeight(s, input: input, gradOutput: gradOut, gradWeight: gradW, gradBias: gradB)
    }
}

func selectedConvLayers(_ o: BenchOptions) -> [(String, ConvShape)] {
    guard let f = o.convFilter else { return convBenchLayers }
    return convBenchLayers.filter { $0.0.contains(f) }
}

/// Conv forward / backward timings through the `ConvKernels` API.
func convBenchmarks(_ ctx: BenchContext, gemm: [GemmResult]) -> [ConvResult] {
    var out: [ConvResult] = []
    let reps = ctx.options.quick ? 1 : 3
    for (name, s) in selectedConvLayers(ctx.options) {
        let b = ConvBuffers(s)
        let saved = Parallel.threads
        for t in ctx.threadCounts {
            Parallel.threads = t
            let fwd = Bench.bestTime(reps: reps) { b.forward() }
            let data = Bench.bestTime(reps: reps) { b.backwardData() }
            let weight = Bench.bestTime(reps: reps) { b.backwardWeight() }
            let bwd = data + weight
            let flops = 3 * s.forwardFLOPs
            let total = fwd + bwd
            let gemmSecs = gemmRate(gemm, threads: t).map { flops / ($0 * 1e9) } ?? .nan
            out.append(ConvResult(name: name, threads: t, fwdMs: fwd * 1e3, bwdMs: bwd * 1e3,
                                  bwdDataMs: data * 1e3, bwdWeightMs: weight * 1e3,
                                  gflops: flops / total / 1e9, gemmEquivRatio: total / gemmSecs))
        }
        Parallel.threads = saved
    }
    return out
}

/// `--profile PASS`: one pass in a steady loop, for `perf record`; prints ms per call.
func convProfile(_ o: BenchOptions, pass: String) {
    Parallel.threads = o.threads
    let layers = o.winograd ? winogradBenchLayers.filter { o.convFilter.map($0.0.contains) ?? true } : selectedConvLayers(o)
    for (name, shape) in layers {
        var s = shape
        if let n = o.batch { s.n = n }
        let b = ConvBuffers(s)
        let body: () -> Void = pass == "fwd" ? b.forward : pass == "data" ? b.backwardData : b.backwardWeight
        body()
        let t0 = PeakFLOPs.now()
        for _ in 0..<o.profileReps { body() }
        let ms = (PeakFLOPs.now() - t0) / Double(o.profileReps) * 1e3
        print("\(name)  \(pass)  threads \(o.threads)  \(ms) ms/call")
    }
}
