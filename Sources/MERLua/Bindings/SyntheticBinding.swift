import CLua
import CLuaBridge
import MERData
import MERVision

/// `data.synthetic`'s options: the renderer's own, plus the inputs and caching.
struct SyntheticBindingOptions {
    var synthetic = SyntheticOptions(), input = ["onset", "apex"], cache = true
    static let declared: [Option<SyntheticBindingOptions>] = [
        Option("subjects", \.synthetic.subjects, Read.positive), Option("per_class", \.synthetic.perClass, Read.positive),
        Option("size", \.synthetic.size, Read.positive), Option("seed", \.synthetic.seed, Read.seed),
        Option("input", \.input, Read.strings), Option("intensity", \.synthetic.intensity, Read.range),
        Option("head_motion", \.synthetic.headMotion, Read.float), Option("noise", \.synthetic.noise, Read.float),
        Option("illumination", \.synthetic.illumination, Read.float), Option("cache", \.cache, Read.boolean),
    ]
}

extension LuaVM {
    /// `data.synthetic{...}`: the built-in procedural micro-expressions.
    func installSyntheticData() {
        defineModule("data", [
            .function("synthetic", arity: 1, """
                data.synthetic{subjects=8, per_class=4, size=112, seed=0, input={"onset","apex"},
                               intensity={1, 3}, head_motion=0.3, noise=0.01, illumination=0.01}
                The built-in data set: procedural grey-level faces with per-subject identity, onset/apex pairs whose apex
                carries a subtle action-unit deformation (happiness AU6+12, disgust AU4+9, repression AU14/17, surprise
                AU1+2, others mixed); subjects × 5 × per_class samples, CASME II's 5 class names. Same seed, same pixels.
                """) { call in
                let o = try call.options(1, SyntheticBindingOptions.declared, SyntheticBindingOptions())
                return call.pushDataset(try SyntheticDataset(options: o.synthetic, input: o.input, cache: o.cache))
            },
        ])
    }
}
