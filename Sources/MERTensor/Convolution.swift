import MERKernels

extension Tensor {
    /// 2-d convolution, NCHW, PyTorch's `F.conv2d`: input (n, cin, h, w), weight
    /// (cout, cin/groups, kh, kw), optional bias (cout). Pairs are (height, width).
    public static func conv2d(_ input: Tensor, _ weight: Tensor, bias: Tensor? = nil,
                              stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                              dilation: (Int, Int) = (1, 1), groups: Int = 1) throws -> Tensor {
        let s = try convShape(input, weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
        let cout = s.cout
        let x = try input.contiguousData(), w = try weight.contiguousData(), b = try bias?.contiguousData()
        let out = try Tensor(uninitialized: [s.n, cout, s.hout, s.wout])
        let inputs = [input, weight] + (bias.map { [$0] } ?? [])
        // Without a tape this is inference: the weights are prepared once and kept (as the
        // folded conv2d + batch_norm op does), and both ops then take the same path per shape.
        let prepared = try forwardPreparation(weight, s, inference: !tapeRecords(inputs))
        if s.n > 0 {
            ConvKernels.forward(s, input: x.pointer, weight: w.pointer, bias: b.map { UnsafePointer($0.pointer) }, output: out.pointer,
                                prepared: prepared)
        }
        let needInput = input.requiresGrad, needWeight = weight.requiresGrad, needBias = bias?.requiresGrad ?? false
        return out.record(OpProfile.convName("conv2d", s, filtersPrepared: prepared != nil), inputs) { g in
            let gy = try g.contiguousData()
            var gx: Tensor?, gw: Tensor?, gb: Tensor?
            if needInput {
                gx = try Tensor(uninitialized: x.shape)
                try MemoryBudget.check(ConvKernels.scratchBytes(s, pass: .backwardData), for: "conv2d's backward workspace")
                if s.n > 0 { ConvKernels.backwardData(s, gradOutput: gy.pointer, weight: w.pointer, gradInput: gx!.pointer) }
            }
            if needWeight || needBias {
                gw = try Tensor(zeros: w.shape)
                gb = needBias ? try Tensor(zeros: [cout]) : nil
                try MemoryBudget.check(ConvKernels.scratchBytes(s, pass: .backwardWeight), for: "conv2d's weight-gradient workspace")
                if s.n > 0 {
                    ConvKernels.backwardWeight(s, input: x.pointer, gradOutput: gy.pointer, gradWeight: gw!.pointer, gradBias: gb?.pointer)
                }
            }
            return [gx, gw] + (bias != nil ? [gb] : [])
        }
    }

    /// The checked geometry of a conv2d call (shared by the plain and the folded op).
    static func convShape(_ input: Tensor, _ weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
                          dilation: (Int, Int), groups: Int) throws -> ConvShape {
        try check(input.rank == 4, "conv2d: input must be 4-d (N, C, H, W), got shape \(describe(input.shape))")
        try check(weight.rank == 4, "conv2d: weight must be 4-d (out, in/groups, kh, kw), got shape \(describe(weight.shape))")
        try check(groups >= 1, "conv2d: groups must be positive, got \(groups)")
        let cin = input.shape[1], cout = weight.shape[0]
        try check(weight.shape[1] * groups == cin,
                  "conv2d: weight \(describe(weight.shape)) with groups \(groups) expects \(weight.shape[1] * groups) input channels, input has \(cin) (shape \(describe(input.shape)))")
        if let b = bias {
            try check(b.shape == [cout], "conv2d: bias must have shape [\(cout)], got \(describe(b.shape))")
        }
        let s = ConvShape(n: input.shape[0], cin: cin, h: input.shape[2], w: input.shape[3],
                          cout: cout, kh: weight.shape[2], kw: weight.shape[3],
                          strideH: stride.0, strideW: stride.1, padH: padding.0, padW: padding.1,
                          dilH: dilation.0, dilW: dilation.1, groups: groups)
        if let problem = s.problem { throw TensorError("conv2d: \(problem)") }
        return s
    }
}
