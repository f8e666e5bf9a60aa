import MERKernels

/// Output of mer-bench: a readable table, or exactly one JSON object:
///
///     {"peak_gflops_per_core": x, "peak_gflops_all": y, "threads": T,
///      "gemm": [{"m","n","k","threads","gflops","pct_peak"}...],
///      "conv": [{"name","threads","fwd_ms","bwd_ms","bwd_data_ms","bwd_weight_ms","gflops","gemm_equiv_ratio"}...],
///      "model": [{"config","size","widths","batch","threads","params","train_ms_per_sample","pytorch_train_ms",
///                 "train_ratio","train_gflops","pct_peak","infer_ms","pytorch_infer_ms","infer_ratio","peak_rss_mb"}...]}
struct Report {
    var peakPerCore: Double
    var peakAll: Double
    var threads: Int
    var gemm: [GemmResult]
    var conv: [ConvResult]
    var model: [ModelResult] = []
    /// Which tables were asked for (a skipped one prints nothing).
    var sections: (gemm: Bool, conv: Bool, model: Bool) = (true, true, true)

    func table() -> String {
        var s = "FMA peak: \(f(peakPerCore, 1)) GFLOP/s per core, \(f(peakAll, 1)) GFLOP/s on \(threads) threads\n"
        if GemmPrecision.current == .bfloat16 {
            s += "products in bfloat16 (--bf16): % peak is still against the float32 FMA peak; VDPBF16PS doubles it\n"
        }
        if sections.gemm { s += "\n" + gemmTable() }
        if sections.conv { s += convTable() }
        if sections.model { s += modelTable() }
        return s
    }

    func modelTable() -> String {
        var s = "\n" + pad("DBFEM train step", 34) + lpad("params", 11) + lpad("ms/sample", 11) + lpad("PyTorch", 9) + lpad("×PT", 7)
            + lpad("GFLOP/s", 9) + lpad("% peak", 8) + lpad("infer ms", 10) + lpad("PyTorch", 9) + lpad("×PT", 7) + lpad("train RSS MB", 14) + lpad("peak RSS MB", 13) + "\n"
        for r in model {
            let label = "\(r.config) \(r.size)px \(r.widths) b\(r.batch)"
            s += pad(label, 34) + lpad(String(r.params), 11) + lpad(f(r.trainMsPerSample, 1), 11) + lpad(f(r.pytorchTrainMs, 0), 9)
                + lpad(f(r.trainRatio, 2), 7) + lpad(f(r.trainGflops, 1), 9) + lpad(f(pctOfAll(r.trainGflops), 1), 8)
                + lpad(f(r.inferMs, 1), 10) + lpad(f(r.pytorchInferMs, 0), 9) + lpad(f(r.inferRatio, 2), 7) + lpad(f(r.trainRssMB, 0), 14) + lpad(f(r.peakRssMB, 0), 13) + "\n"
        }
        if model.isEmpty { s += "(no rows: the model runs failed, see stderr)\n" }
        s += "(train = forward + log_softmax-mean loss + backward, mean of steps after a warm-up; infer = 1 sample, eval, no grad, best run;\n"
        s += " GFLOP/s = ARCHITECTURE.md's train GFLOP/sample (44.4 paper, 4.2 quick) / our time; % peak against all threads;\n"
        s += " ×PT = our time / ARCHITECTURE.md's PyTorch time, which was measured on the same machine type, not side by side;\n"
        s += " train RSS = peak resident set after the training steps, peak RSS = after the inferences too, with their prepared weights)\n"
        return s
    }

    private func pctOfAll(_ gflops: Double) -> Double { 100 * gflops / (peakPerCore * Double(threads)) }

    func gemmTable() -> String {
        var s = pad("GEMM m×n×k", 20) + lpad("threads", 8) + lpad("ms", 10) + lpad("GFLOP/s", 10) + lpad("% peak", 8) + "\n"
        for r in gemm {
            s += pad("\(r.m)×\(r.n)×\(r.k)", 20) + lpad("\(r.threads)", 8) + lpad(f(r.seconds * 1e3, 2), 10)
                + lpad(f(r.gflops, 1), 10) + lpad(f(r.pctPeak, 1), 8) + "\n"
        }
        s += "(% peak is against per-core peak × threads)\n"
        return s
    }

    func convTable() -> String {
        var s = ""
        if conv.isEmpty {
            s += "\nconv: no rows (built without MER_CONV_BENCH)\n"
        } else {
            s += "\n" + pad("conv (batch 32)", 28) + lpad("threads", 8) + lpad("fwd ms", 10) + lpad("bwd ms", 10)
                + lpad("(data", 9) + lpad("weight)", 9) + lpad("GFLOP/s", 10) + lpad("×GEMM", 8) + "\n"
            for r in conv {
                s += pad(r.name, 28) + lpad("\(r.threads)", 8) + lpad(f(r.fwdMs, 2), 10) + lpad(f(r.bwdMs, 2), 10)
                    + lpad(f(r.bwdDataMs, 1), 9) + lpad(f(r.bwdWeightMs, 1), 9) + lpad(f(r.gflops, 1), 10) + lpad(f(r.gemmEquivRatio, 2), 8) + "\n"
            }
            s += "(GFLOP/s counts fwd+bwd = 3× forward FLOPs; ×GEMM = time / time of a 1024³-rate GEMM of equal FLOPs)\n"
        }
        return s
    }

    func json() -> String {
        let g = gemm.map {
            "{\"m\": \($0.m), \"n\": \($0.n), \"k\": \($0.k), \"threads\": \($0.threads), "
                + "\"gflops\": \(num($0.gflops)), \"pct_peak\": \(num($0.pctPeak))}"
        }
        let c = conv.map {
            "{\"name\": \(str($0.name)), \"threads\": \($0.threads), \"fwd_ms\": \(num($0.fwdMs)), "
                + "\"bwd_ms\": \(num($0.bwdMs)), \"bwd_data_ms\": \(num($0.bwdDataMs)), "
                + "\"bwd_weight_ms\": \(num($0.bwdWeightMs)), \"gflops\": \(num($0.gflops)), "
                + "\"gemm_equiv_ratio\": \(num($0.gemmEquivRatio))}"
        }
        let m = model.map {
            "{\"config\": \(str($0.config)), \"size\": \($0.size), \"widths\": \(str($0.widths)), \"batch\": \($0.batch), "
                + "\"threads\": \($0.threads), \"params\": \($0.params), \"train_ms_per_sample\": \(num($0.trainMsPerSample)), "
                + "\"pytorch_train_ms\": \(num($0.pytorchTrainMs)), \"train_ratio\": \(num($0.trainRatio)), "
                + "\"train_gflops\": \(num($0.trainGflops)), \"pct_peak\": \(num(pctOfAll($0.trainGflops))), "
                + "\"infer_ms\": \(num($0.inferMs)), \"pytorch_infer_ms\": \(num($0.pytorchInferMs)), "
                + "\"infer_ratio\": \(num($0.inferRatio)), \"train_rss_mb\": \(num($0.trainRssMB)), "
                + "\"peak_rss_mb\": \(num($0.peakRssMB))}"
        }
        return "{\"peak_gflops_per_core\": \(num(peakPerCore)), \"peak_gflops_all\": \(num(peakAll)), "
            + "\"threads\": \(threads), \"gemm\": [\(g.joined(separator: ", "))], "
            + "\"conv\": [\(c.joined(separator: ", "))], \"model\": [\(m.joined(separator: ", "))]}"
    }

    /// JSON has no NaN/inf: those become null.
    private func num(_ x: Double) -> String { x.isFinite ? f(x, 3) : "null" }
    private func str(_ s: String) -> String {
        var o = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": o += "\\\""
            case "\\": o += "\\\\"
            default:
                if ch.value < 0x20 { o += "\\u" + String(repeating: "0", count: 4 - String(ch.value, radix: 16).count) + String(ch.value, radix: 16) }
                else { o.unicodeScalars.append(ch) }
            }
        }
        return o + "\""
    }
    private func f(_ x: Double, _ digits: Int) -> String {
        if !x.isFinite { return "\(x)" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        let r = (abs(x) * p).rounded()
        let whole = Int(r / p), frac = Int(r - Double(whole) * p)
        var fs = String(frac)
        while fs.count < digits { fs = "0" + fs }
        return (x < 0 && r != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + fs : "")
    }
    private func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
    private func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? " " + s : String(repeating: " ", count: w - s.count) + s }
}
