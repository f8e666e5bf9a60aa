/// Geometry of a 2-D convolution over NCHW tensors, as PyTorch's `nn.Conv2d` defines it.
///
/// input  (n, cin, h, w)            weight (cout, cin/groups, kh, kw)
/// output (n, cout, hout, wout)     hout = (h + 2·padH − dilH·(kh−1) − 1) / strideH + 1
public struct ConvShape: Equatable, Sendable {
    public var n, cin, h, w: Int
    public var cout, kh, kw: Int
    public var strideH, strideW, padH, padW, dilH, dilW, groups: Int

    public init(n: Int, cin: Int, h: Int, w: Int, cout: Int, kh: Int, kw: Int,
                strideH: Int = 1, strideW: Int = 1, padH: Int = 0, padW: Int = 0,
                dilH: Int = 1, dilW: Int = 1, groups: Int = 1) {
        self.n = n; self.cin = cin; self.h = h; self.w = w
        self.cout = cout; self.kh = kh; self.kw = kw
        self.strideH = strideH; self.strideW = strideW; self.padH = padH; self.padW = padW
        self.dilH = dilH; self.dilW = dilW; self.groups = groups
    }

    public var hout: Int { (h + 2 * padH - dilH * (kh - 1) - 1) / strideH + 1 }
    public var wout: Int { (w + 2 * padW - dilW * (kw - 1) - 1) / strideW + 1 }
    public var cinPerGroup: Int { cin / groups }
    public var coutPerGroup: Int { cout / groups }
    /// Multiply-adds ×2 of the forward pass.
    public var forwardFLOPs: Double {
        2.0 * Double(n) * Double(cout) * Double(hout * wout) * Double(cinPerGroup * kh * kw)
    }

    /// Why this geometry is invalid, or nil when it is valid.
    public var problem: String? {
        if n < 0 || cin <= 0 || h <= 0 || w <= 0 || cout <= 0 || kh <= 0 || kw <= 0 {
            return "sizes must be positive (n \(n), cin \(cin), h \(h), w \(w), cout \(cout), kernel \(kh)x\(kw))"
        }
        if strideH <= 0 || strideW <= 0 { return "stride must be positive, got \(strideH)x\(strideW)" }
        if dilH <= 0 || dilW <= 0 { return "dilation must be positive, got \(dilH)x\(dilW)" }
        if padH < 0 || padW < 0 { return "padding must be non-negative, got \(padH)x\(padW)" }
        if groups <= 0 || cin % groups != 0 || cout % groups != 0 {
            return "groups \(groups) must divide in_channels \(cin) and out_channels \(cout)"
        }
        if hout <= 0 || wout <= 0 {
            return "kernel \(kh)x\(kw) (dilation \(dilH)x\(dilW)) does not fit input \(h)x\(w) with padding \(padH)x\(padW)"
        }
        return nil
    }
}

/// Geometry of 2-D max / average pooling over NCHW tensors (PyTorch's `MaxPool2d`, `AvgPool2d`).
/// `ceilMode` rounds the output size up, as PyTorch does, dropping a last window that
/// would start inside the right/bottom padding only.
public struct PoolShape: Equatable, Sendable {
    public var n, c, h, w: Int
    public var kh, kw, strideH, strideW, padH, padW: Int
    public var ceilMode: Bool

    public init(n: Int, c: Int, h: Int, w: Int, kh: Int, kw: Int,
                strideH: Int, strideW: Int, padH: Int = 0, padW: Int = 0, ceilMode: Bool = false) {
        self.n = n; self.c = c; self.h = h; self.w = w
        self.kh = kh; self.kw = kw; self.strideH = strideH; self.strideW = strideW
        self.padH = padH; self.padW = padW; self.ceilMode = ceilMode
    }

    private static func outSize(_ size: Int, _ k: Int, _ s: Int, _ p: Int, _ ceil: Bool) -> Int {
        let span = size + 2 * p - k
        if span < 0 { return 0 }
        var out = (ceil ? (span + s - 1) / s : span / s) + 1
        if ceil && (out - 1) * s >= size + p { out -= 1 }
        return out
    }
    public var hout: Int { Self.outSize(h, kh, strideH, padH, ceilMode) }
    public var wout: Int { Self.outSize(w, kw, strideW, padW, ceilMode) }

    public var problem: String? {
        if n < 0 || c <= 0 || h <= 0 || w <= 0 { return "input sizes must be positive, got \(n)x\(c)x\(h)x\(w)" }
        if kh <= 0 || kw <= 0 { return "kernel size must be positive, got \(kh)x\(kw)" }
        if strideH <= 0 || strideW <= 0 { return "stride must be positive, got \(strideH)x\(strideW)" }
        if padH < 0 || padW < 0 || 2 * padH > kh || 2 * padW > kw {
            return "padding \(padH)x\(padW) must be between 0 and half the kernel \(kh)x\(kw)"
        }
        if hout <= 0 || wout <= 0 { return "kernel \(kh)x\(kw) does not fit input \(h)x\(w) with padding \(padH)x\(padW)" }
        return nil
    }
}
