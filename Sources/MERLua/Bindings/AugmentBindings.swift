import CLua
import CLuaBridge
import MERTensor
import MERVision

/// A seedable generator handed to Lua (`mer.generator(seed)`), for reproducible augmentation.
final class GeneratorBox: LuaObject {
    static let luaTypeName = "generator"
    static let expected = "a generator (mer.generator(seed))"
    let generator: Generator
    init(_ g: Generator) { generator = g }
}

/// `{generator = g}` or `{seed = n}`: where a random transform draws from (the global
/// generator when neither is given).
struct RandomSource {
    var generator: Generator?, seed: UInt64?
    var resolved: Generator { generator ?? seed.map { Generator(seed: $0) } ?? .global }
}

protocol RandomOptions { var source: RandomSource { get set } }

extension RandomOptions {
    static var sourceOptions: [Option<Self>] {
        [Option("generator", \.source.generator, Reader { (try $0.arg($1) as GeneratorBox).generator }),
         Option("seed", \.source.seed, Read.seed)]
    }
}

struct AffineOptions {
    var angle: Float = 0, translate: (Float, Float) = (0, 0), scale: Float = 1, shear: (Float, Float) = (0, 0), fill: Float = 0
    static let declared: [Option<AffineOptions>] = [
        Option("angle", \.angle, Read.float), Option("translate", \.translate, Read.floatPair), Option("scale", \.scale, Read.float),
        Option("shear", \.shear, Read.floatPair), Option("fill", \.fill, Read.float),
    ]
}

struct AdjustOptions {
    var brightness: Float = 0, contrast: Float = 1, gamma: Float = 1
    static let declared: [Option<AdjustOptions>] = [
        Option("brightness", \.brightness, Read.float), Option("contrast", \.contrast, Read.float), Option("gamma", \.gamma, Read.float),
    ]
}

struct NoiseOptions: RandomOptions {
    var source = RandomSource(), clamp = false
    static let declared: [Option<NoiseOptions>] = sourceOptions + [Option("clamp", \.clamp, Read.boolean)]
}

struct ResizedCropOptions: RandomOptions {
    var source = RandomSource(), scale: ClosedRange<Float> = 0.8...1, ratio: ClosedRange<Float> = 0.75...(4.0 / 3.0)
    static let declared: [Option<ResizedCropOptions>] = [Option("scale", \.scale, Read.range), Option("ratio", \.ratio, Read.range)] + sourceOptions
}

struct RandomAffineOptions: RandomOptions {
    var source = RandomSource(), maxAngle: Float = 0, maxTranslate: Float = 0, scale: ClosedRange<Float> = 1...1, maxShear: Float = 0, fill: Float = 0
    static let declared: [Option<RandomAffineOptions>] = [
        Option("max_angle", \.maxAngle, Read.float), Option("max_translate", \.maxTranslate, Read.float), Option("scale", \.scale, Read.range),
        Option("max_shear", \.maxShear, Read.float), Option("fill", \.fill, Read.float),
    ] + sourceOptions
}

struct FlipOptions: RandomOptions {
    var source = RandomSource(), p: Float = 0.5
    static let declared: [Option<FlipOptions>] = [Option("p", \.p, Read.float)] + sourceOptions
}

extension OpticalFlow.TVL1Options {
    static let declared: [Option<OpticalFlow.TVL1Options>] = [
        Option("method") { call, i, _ in
            let m = try call.string(i)
            guard m == "tvl1" else { throw call.error(i, "only \"tvl1\" is available, got \"\(m)\"") }
        },
        Option("lambda", \.lambda, Read.float), Option("tau", \.tau, Read.float), Option("theta", \.theta, Read.float),
        // Iteration counts bounded (100× OpenCV's defaults), so a typo cannot run for days.
        Option("scales", \.scales, Read.integer(in: 1...50)), Option("warps", \.warps, Read.integer(in: 1...500)),
        Option("epsilon", \.epsilon, Read.float),
        Option("iterations", \.innerIterations, Read.integer(in: 1...3000)),
        Option("outer_iterations", \.outerIterations, Read.integer(in: 1...1000)),
        Option("scale_step", \.scaleStep, Read.float), Option("median", \.medianFiltering, Read.integer(in: 0...99)),
    ]
}

/// Augmentation and motion in `image`. Every geometric transform applies ONE set of drawn
/// parameters to all channels of a tensor and to every tensor of a table, so an onset/apex
/// pair (channels of one sample, or a table {onset, apex}) always stays in correspondence.
extension LuaVM {
    func installAugmentation() {
        defineType(GeneratorBox.self, prefix: "mer.generator", methods: [
            Method("uniform", arity: 0, "g:uniform()\nA number uniform in [0, 1).") { call, g in call.push(Double(g.generator.uniform())) },
            Method("normal", arity: 0, "g:normal()\nA standard normal number.") { call, g in call.push(Double(g.generator.normal())) },
        ])
        defineModule("mer", [
            .function("generator", arity: 1, """
                mer.generator(seed)
                A random generator of its own (xoshiro256**), for reproducible augmentation: pass it as
                {generator = g} to image.noise, image.random_affine, ...
                """) { call in
                call.push(GeneratorBox(Generator(seed: UInt64(try call.integer(1, in: 0...Int.max, what: "a non-negative seed")))))
            },
        ])
        /// A transform of one image tensor or of a table of frames moved together.
        func transform(_ key: String, arity: Int32, _ doc: String, _ body: @escaping (LuaCall, [Tensor]) throws -> [Tensor]) -> Binding {
            .function(key, arity: arity, doc) { call in
                let (list, single) = try call.images(1)
                let out = try body(call, list)
                return single ? call.push(out[0]) : call.pushTensors(out)
            }
        }
        defineModule("image", [
            transform("hflip", arity: 1, "image.hflip(x)\nMirror left-right; x is a (C, H, W) / (N, C, H, W) tensor or a table of them.") { _, xs in
                try Augment.hflip(xs)
            },
            transform("rotate", arity: 3, "image.rotate(x, degrees [, {fill=0}])\nRotation about the centre, counter-clockwise, bilinear.") { call, xs in
                let deg = try call.float(2)
                return try Augment.rotate(xs, degrees: deg, fill: try call.option(3, "fill", Read.float) ?? 0)
            },
            transform("affine", arity: 2, """
                image.affine(x, {angle=0, translate={dx, dy}, scale=1, shear={x, y}, fill=0})
                Affine transform about the centre (degrees, pixels), bilinear; one transform for every frame.
                """) { call, xs in
                let o = try call.options(2, AffineOptions.declared, AffineOptions())
                return try Augment.affine(xs, angle: o.angle, translate: o.translate, scale: o.scale, shear: o.shear, fill: o.fill)
            },
            transform("adjust", arity: 2, """
                image.adjust(x, {brightness=0, contrast=1, gamma=1})
                Photometric change: x^gamma, then contrast about the mean, then + brightness (values in [0, 1]).
                """) { call, xs in
                let o = try call.options(2, AdjustOptions.declared, AdjustOptions())
                return try Augment.adjust(xs, brightness: o.brightness, contrast: o.contrast, gamma: o.gamma)
            },
            transform("noise", arity: 3, """
                image.noise(x, std [, {generator | seed, clamp=false}])
                Adds Gaussian noise of standard deviation std, drawn from the given generator (or seed, else the global one).
                """) { call, xs in
                let std = try call.float(2)
                let o = try call.options(3, NoiseOptions.declared, NoiseOptions())
                return try Augment.noise(xs, std: std, generator: o.source.resolved, clamp: o.clamp)
            },
            transform("random_resized_crop", arity: 3, """
                image.random_resized_crop(x, size [, {scale={0.8, 1}, ratio={3/4, 4/3}, generator | seed}])
                torchvision's RandomResizedCrop: one random box (area fraction, aspect ratio) for every frame, resized to size×size.
                """) { call, xs in
                let size = try call.positiveInteger(2)
                let o = try call.options(3, ResizedCropOptions.declared, ResizedCropOptions())
                return try Augment.randomResizedCrop(xs, size: size, scale: o.scale, ratio: o.ratio, generator: o.source.resolved)
            },
            transform("random_affine", arity: 2, """
                image.random_affine(x, {max_angle=0, max_translate=0, scale={1, 1}, max_shear=0, fill=0, generator | seed})
                Draws one affine transform (angle in ±max_angle, shifts in ±max_translate px, ...) for every frame.
                """) { call, xs in
                let o = try call.options(2, RandomAffineOptions.declared, RandomAffineOptions())
                let p = try RandomAugment.randomAffine(maxAngle: o.maxAngle, maxTranslate: o.maxTranslate, scale: o.scale,
                                                       maxShear: o.maxShear, generator: o.source.resolved)
                return try Augment.affine(xs, p, fill: o.fill)
            },
            transform("random_hflip", arity: 2, "image.random_hflip(x [, {p=0.5, generator | seed}])\nMirrors every frame together with probability p.") { call, xs in
                let o = try call.options(2, FlipOptions.declared, FlipOptions())
                return try RandomAugment.randomHFlip(xs, p: o.p, generator: o.source.resolved)
            },
            .function("flow", arity: 3, """
                image.flow(a, b [, {method="tvl1", lambda=0.15, tau=0.25, theta=0.3, scales=5, warps=5, epsilon=0.01,
                           iterations=30, outer_iterations=10, scale_step=0.8, median=5}])
                TV-L1 optical flow (Zach, Pock, Bischof 2007; OpenCV's DualTVL1) between gray frames a and b,
                returns u, v with a(y, x) ≈ b(y + v, x + u) (OpenCV's convention).
                """) { call in
                let a = try call.tensor(1), b = try call.tensor(2)
                let o = try call.options(3, OpticalFlow.TVL1Options.declared, OpticalFlow.TVL1Options())
                let (u, v) = try OpticalFlow.tvl1(a, b, options: o)
                return call.push(u) + call.push(v)
            },
            .function("strain", arity: 2, "image.strain(u, v)\nOptical-strain magnitude sqrt(exx² + eyy² + 2 exy²) of a flow field.") { call in
                call.push(try OpticalFlow.strain(u: try call.tensor(1), v: try call.tensor(2)))
            },
            .function("flow_color", arity: 3, "image.flow_color(u, v [, max])\nThe flow as an RGB image on the Middlebury colour wheel.") { call in
                call.push(try OpticalFlow.colorize(u: try call.tensor(1), v: try call.tensor(2), maxMagnitude: call.isNil(3) ? nil : try call.float(3)))
            },
        ])
    }
}
