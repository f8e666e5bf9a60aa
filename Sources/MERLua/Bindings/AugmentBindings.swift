import CLua
import CLuaBridge
import MERTensor
import MERVision

/// A seedable generator handed to Lua (`mer.generator(seed)`), for reproducible augmentation.
final class GeneratorBox {
    let generator: Generator
    init(_ g: Generator) { generator = g }
}

/// Augmentation and motion in `image`. Every geometric transform applies ONE set of drawn
/// parameters to all channels of a tensor and to every tensor of a table, so an onset/apex
/// pair (channels of one sample, or a table {onset, apex}) always stays in correspondence.
extension LuaVM {
    func installAugmentation() {
        defineType("generator", methods: {
            self.setFunction("uniform", "generator.uniform", doc: "g:uniform()\nA number uniform in [0, 1).", method: true) { call in
                call.push(Double(try call.generatorBox(1).generator.uniform())); return 1
            }
            self.setFunction("normal", "generator.normal", doc: "g:normal()\nA standard normal number.", method: true) { call in
                call.push(Double(try call.generatorBox(1).generator.normal())); return 1
            }
        }, field: { call in call.pushNil(); return 1 })
        mer_pop(L, 1)
        lua_getglobal(L, "mer")
        setFunction("generator", "mer.generator", doc: """
            mer.generator(seed)
            A random generator of its own (xoshiro256**), for reproducible augmentation: pass it as
            {generator = g} to image.noise, image.random_affine, ...
            """) { call in
            try call.expectAtMost(1)
            let seed = try call.integer(1)
            guard seed >= 0 else { throw call.error(1, "expected a non-negative seed, got \(seed)") }
            call.vm.pushObject(GeneratorBox(Generator(seed: UInt64(seed))), typeName: "generator")
            return 1
        }
        mer_pop(L, 1)

        lua_getglobal(L, "image")
        func transform(_ key: String, doc: String, arity: Int32, _ body: @escaping (LuaCall, [Tensor]) throws -> [Tensor]) {
            setFunction(key, "image.\(key)", doc: doc) { call in
                try call.expectAtMost(arity)
                let (list, single) = try call.images(1)
                try call.pushImages(try body(call, list), single: single)
                return 1
            }
        }
        transform("hflip", doc: "image.hflip(x)\nMirror left-right; x is a (C, H, W) / (N, C, H, W) tensor or a table of them.", arity: 1) { _, xs in
            try Augment.hflip(xs)
        }
        transform("rotate", doc: "image.rotate(x, degrees [, {fill=0}])\nRotation about the centre, counter-clockwise, bilinear.", arity: 3) { call, xs in
            let deg = try call.float(2)
            let o = try call.options(3, allowed: ["fill"])
            return try Augment.rotate(xs, degrees: deg, fill: try o?.float("fill") ?? 0)
        }
        transform("affine", doc: """
            image.affine(x, {angle=0, translate={dx, dy}, scale=1, shear={x, y}, fill=0})
            Affine transform about the centre (degrees, pixels), bilinear; one transform for every frame.
            """, arity: 2) { call, xs in
            let o = try call.options(2, allowed: ["angle", "translate", "scale", "shear", "fill"])
            let t = try o?.value("translate") { try call.floatPair($0) } ?? (0, 0)
            let sh = try o?.value("shear") { try call.floatPair($0) } ?? (0, 0)
            return try Augment.affine(xs, angle: try o?.float("angle") ?? 0, translate: (t.0, t.1), scale: try o?.float("scale") ?? 1,
                                      shear: (sh.0, sh.1), fill: try o?.float("fill") ?? 0)
        }
        transform("adjust", doc: """
            image.adjust(x, {brightness=0, contrast=1, gamma=1})
            Photometric change: x^gamma, then contrast about the mean, then + brightness (values in [0, 1]).
            """, arity: 2) { call, xs in
            let o = try call.options(2, allowed: ["brightness", "contrast", "gamma"])
            return try Augment.adjust(xs, brightness: try o?.float("brightness") ?? 0, contrast: try o?.float("contrast") ?? 1,
                                      gamma: try o?.float("gamma") ?? 1)
        }
        transform("noise", doc: """
            image.noise(x, std [, {generator | seed, clamp=false}])
            Adds Gaussian noise of standard deviation std, drawn from the given generator (or seed, else the global one).
            """, arity: 3) { call, xs in
            let std = try call.float(2)
            let o = try call.options(3, allowed: ["generator", "seed", "clamp"])
            return try Augment.noise(xs, std: std, generator: try call.generatorOption(o), clamp: try o?.boolean("clamp") ?? false)
        }
        transform("random_resized_crop", doc: """
            image.random_resized_crop(x, size [, {scale={0.8, 1}, ratio={3/4, 4/3}, generator | seed}])
            torchvision's RandomResizedCrop: one random box (area fraction, aspect ratio) for every frame, resized to size×size.
            """, arity: 3) { call, xs in
            let size = try call.positiveInteger(2)
            let o = try call.options(3, allowed: ["scale", "ratio", "generator", "seed"])
            let scale = try o?.value("scale") { try call.floatPair($0) } ?? (0.8, 1)
            let ratio = try o?.value("ratio") { try call.floatPair($0) } ?? (0.75, 4.0 / 3.0)
            guard scale.0 <= scale.1, ratio.0 <= ratio.1 else { throw call.error(3, "scale and ratio must be {low, high} with low <= high") }
            return try Augment.randomResizedCrop(xs, size: size, scale: scale.0...scale.1, ratio: ratio.0...ratio.1,
                                                 generator: try call.generatorOption(o))
        }
        transform("random_affine", doc: """
            image.random_affine(x, {max_angle=0, max_translate=0, scale={1, 1}, max_shear=0, fill=0, generator | seed})
            Draws one affine transform (angle in ±max_angle, shifts in ±max_translate px, ...) for every frame.
            """, arity: 2) { call, xs in
            let o = try call.options(2, allowed: ["max_angle", "max_translate", "scale", "max_shear", "fill", "generator", "seed"])
            let scale = try o?.value("scale") { try call.floatPair($0) } ?? (1, 1)
            guard scale.0 <= scale.1 else { throw call.error(2, "option 'scale': expected {low, high} with low <= high") }
            let p = try RandomAugment.randomAffine(maxAngle: try o?.float("max_angle") ?? 0, maxTranslate: try o?.float("max_translate") ?? 0,
                                                   scale: scale.0...scale.1, maxShear: try o?.float("max_shear") ?? 0,
                                                   generator: try call.generatorOption(o))
            return try Augment.affine(xs, p, fill: try o?.float("fill") ?? 0)
        }
        transform("random_hflip", doc: "image.random_hflip(x [, {p=0.5, generator | seed}])\nMirrors every frame together with probability p.", arity: 2) { call, xs in
            let o = try call.options(2, allowed: ["p", "generator", "seed"])
            return try RandomAugment.randomHFlip(xs, p: try o?.float("p") ?? 0.5, generator: try call.generatorOption(o))
        }

        setFunction("flow", "image.flow", doc: """
            image.flow(a, b [, {method="tvl1", lambda=0.15, tau=0.25, theta=0.3, scales=5, warps=5, epsilon=0.01,
                       iterations=30, outer_iterations=10, scale_step=0.8, median=5}])
            TV-L1 optical flow (Zach, Pock, Bischof 2007; OpenCV's DualTVL1) between gray frames a and b,
            returns u, v with a(y, x) ≈ b(y + v, x + u) (OpenCV's convention).
            """) { call in
            try call.expectAtMost(3)
            let a = try call.tensor(1), b = try call.tensor(2)
            let o = try call.options(3, allowed: ["method", "lambda", "tau", "theta", "scales", "warps", "epsilon", "iterations",
                                                  "outer_iterations", "scale_step", "median"])
            if let m = try o?.string("method"), m != "tvl1" { throw call.error(3, "option 'method': only \"tvl1\" is available, got \"\(m)\"") }
            var opts = OpticalFlow.TVL1Options()
            if let v = try o?.number("lambda") { opts.lambda = Float(v) }
            if let v = try o?.number("tau") { opts.tau = Float(v) }
            if let v = try o?.number("theta") { opts.theta = Float(v) }
            if let v = try o?.integer("scales") { opts.scales = v }
            if let v = try o?.integer("warps") { opts.warps = v }
            if let v = try o?.number("epsilon") { opts.epsilon = Float(v) }
            if let v = try o?.integer("iterations") { opts.innerIterations = v }
            if let v = try o?.integer("outer_iterations") { opts.outerIterations = v }
            if let v = try o?.number("scale_step") { opts.scaleStep = Float(v) }
            if let v = try o?.integer("median") { opts.medianFiltering = v }
            let (u, v) = try OpticalFlow.tvl1(a, b, options: opts)
            call.push(u)
            call.push(v)
            return 2
        }
        setFunction("strain", "image.strain", doc: "image.strain(u, v)\nOptical-strain magnitude sqrt(exx² + eyy² + 2 exy²) of a flow field.") { call in
            try call.expectAtMost(2)
            call.push(try OpticalFlow.strain(u: try call.tensor(1), v: try call.tensor(2)))
            return 1
        }
        setFunction("flow_color", "image.flow_color", doc: "image.flow_color(u, v [, max])\nThe flow as an RGB image on the Middlebury colour wheel.") { call in
            try call.expectAtMost(3)
            call.push(try OpticalFlow.colorize(u: try call.tensor(1), v: try call.tensor(2), maxMagnitude: call.isNil(3) ? nil : try call.float(3)))
            return 1
        }
        mer_pop(L, 1)
    }
}

extension LuaCall {
    func generatorBox(_ i: Int32) throws -> GeneratorBox {
        if let g = object(i, typeName: "generator", as: GeneratorBox.self) { return g }
        throw error(i, "expected a generator (mer.generator(seed)), got \(typeName(i))")
    }

    /// {generator = g} or {seed = n}; the global generator otherwise.
    func generatorOption(_ o: LuaOptions?) throws -> Generator {
        if let g = try o?.value("generator", { try generatorBox($0).generator }) { return g }
        if let s = try o?.integer("seed") {
            guard s >= 0 else { throw LuaError("\(name): option 'seed': expected a non-negative integer, got \(s)") }
            return Generator(seed: UInt64(s))
        }
        return .global
    }

    func floatPair(_ i: Int32) throws -> (Float, Float) {
        guard isTable(i), lua_rawlen(L, i) == 2 else { throw error(i, "expected a pair {a, b}") }
        var v: [Float] = []
        for k in 1...2 {
            lua_rawgeti(L, i, lua_Integer(k)); defer { mer_pop(L, 1) }
            v.append(try float(lua_gettop(L)))
        }
        return (v[0], v[1])
    }

    /// A tensor (single) or a table of tensors that must be transformed together.
    func images(_ i: Int32) throws -> ([Tensor], Bool) {
        if let t = object(i, typeName: "tensor", as: Tensor.self) { return ([t], true) }
        if isTable(i) { return (try tensorList(i), false) }
        throw error(i, "expected an image tensor or a table of them (frames transformed together), got \(typeName(i))")
    }

    func pushImages(_ list: [Tensor], single: Bool) throws {
        if single { push(list[0]); return }
        lua_createtable(L, Int32(list.count), 0)
        for (k, t) in list.enumerated() { push(t); lua_rawseti(L, -2, lua_Integer(k + 1)) }
    }
}
