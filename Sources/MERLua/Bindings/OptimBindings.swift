import CLua
import CLuaBridge
import MERNN
import MERTensor

extension Optimizer: LuaObject {
    static var luaTypeName: String { "optimizer" }
    static var expected: String { "an optimiser" }
}

extension LRSchedule: LuaObject {
    static var luaTypeName: String { "schedule" }
    static var expected: String { "a schedule" }
}

/// Adam's and AdamW's options; `weight_decay` defaults differ, so the base value is passed in.
struct AdamOptions {
    var lr = 1e-3, betas = (0.9, 0.999), eps = 1e-8, weightDecay = 0.0
    static let declared: [Option<AdamOptions>] = [
        Option("lr", \.lr, Read.number), Option("eps", \.eps, Read.number), Option("weight_decay", \.weightDecay, Read.number),
        Option("betas", \.betas, Reader { call, i -> (Double, Double) in
            guard call.isTable(i), lua_rawlen(call.L, i) == 2 else { throw call.error(i, "expected {beta1, beta2}") }
            let b = try call.elements(i, count: 2) { try call.number($0) }
            return (b[0], b[1])
        }),
    ]
}

struct SGDOptions {
    var lr = 1e-3, momentum = 0.0, dampening = 0.0, nesterov = false, weightDecay = 0.0
    static let declared: [Option<SGDOptions>] = [
        Option("lr", \.lr, Read.number), Option("momentum", \.momentum, Read.number), Option("dampening", \.dampening, Read.number),
        Option("nesterov", \.nesterov, Read.boolean), Option("weight_decay", \.weightDecay, Read.number),
    ]
}

struct StepOptions {
    var step: Int?, gamma = 0.1
    static let declared: [Option<StepOptions>] = [Option("step", \.step, Read.integer), Option("gamma", \.gamma, Read.number)]
}

struct CosineOptions {
    var epochs: Int?, etaMin = 0.0
    static let declared: [Option<CosineOptions>] = [Option("epochs", \.epochs, Read.integer), Option("eta_min", \.etaMin, Read.number)]
}

struct CrossEntropyOptions {
    var weight: Tensor?, smoothing: Float = 0
    static let declared: [Option<CrossEntropyOptions>] = [Option("weight", \.weight, Read.tensor), Option("label_smoothing", \.smoothing, Read.float)]
}

/// `optim` (Adam, AdamW, SGD, StepLR, CosineLR) and the losses `nn.cross_entropy`, `nn.mse`.
extension LuaVM {
    func installOptim() {
        defineType(Optimizer.self, prefix: "optim.optimizer", methods: [
            Method("zero_grad", arity: 0, "opt:zero_grad()\nClears the .grad of every parameter.") { _, opt in opt.zeroGrad(); return 0 },
            Method("step", arity: 0, "opt:step()\nOne update of every parameter that has a gradient.") { _, opt in try opt.step(); return 0 },
            Method("save", arity: 1, "opt:save(path)\nWrites the optimiser state (moments, steps, lr) to a .safetensors file.") { call, opt in
                try opt.save(path: try call.string(2))
                return 0
            },
            Method("load", arity: 1, "opt:load(path)\nRestores the optimiser state written by opt:save.") { call, opt in
                try opt.load(path: try call.string(2))
                return 0
            },
        ], properties: [
            Property("lr", "opt.lr\nThe learning rate; assignable (a non-negative number), as a schedule does each epoch.",
                     get: { call, opt in call.push(opt.lr) },
                     set: { call, opt in opt.lr = try call.number(3, in: 0...Double.greatestFiniteMagnitude, what: "a non-negative number") }),
            Property("steps", "opt.steps\nUpdates made so far.", get: { call, opt in call.push(opt.stepCount) }),
            Property("name", "opt.name\nThe algorithm (\"Adam\", \"AdamW\", \"SGD\").", get: { call, opt in call.push(opt.name) }),
        ], meta: [
            .meta("__tostring") { call in
                let opt: Optimizer = try call.arg(1)
                return call.push("\(opt.name)(lr=\(opt.lr), \(opt.params.count) parameters, \(opt.stepCount) steps)")
            },
        ])
        defineType(LRSchedule.self, prefix: "optim.schedule", methods: [
            Method("step", arity: 0, "s:step()\nAdvances one epoch and sets the optimiser's lr.") { _, s in s.step(); return 0 },
        ], properties: [
            Property("epoch", "s.epoch\nEpochs stepped so far; assignable (a non-negative integer) to resume a schedule.",
                     get: { call, s in call.push(s.epoch) },
                     set: { call, s in s.epoch = try call.integer(3, in: 0...LRSchedule.maxEpoch, what: "an epoch in 0...\(LRSchedule.maxEpoch)") }),
            Property("lr", "s.lr\nThe optimiser's current learning rate.", get: { call, s in call.push(s.optimizer.lr) }),
        ])

        defineModule("optim", [
            .function("Adam", arity: 2, """
                optim.Adam(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0}])
                Adam (Kingma & Ba) with PyTorch's update rule; weight_decay is L2 added to the gradient.
                params: m:parameters() or a module.
                """) { call in
                let ps = try call.parameterList(1)
                let o = try call.options(2, AdamOptions.declared, AdamOptions())
                return call.push(try Adam(ps, lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay))
            },
            .function("AdamW", arity: 2, """
                optim.AdamW(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0.01}])
                Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's AdamW.
                """) { call in
                let ps = try call.parameterList(1)
                let o = try call.options(2, AdamOptions.declared, AdamOptions(weightDecay: 0.01))
                return call.push(try AdamW(ps, lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay))
            },
            .function("SGD", arity: 2, """
                optim.SGD(params [, {lr=1e-3, momentum=0, dampening=0, nesterov=false, weight_decay=0}])
                Stochastic gradient descent with PyTorch's momentum and Nesterov rules.
                """) { call in
                let ps = try call.parameterList(1)
                let o = try call.options(2, SGDOptions.declared, SGDOptions())
                return call.push(try SGD(ps, lr: o.lr, momentum: o.momentum, dampening: o.dampening, weightDecay: o.weightDecay, nesterov: o.nesterov))
            },
            .function("StepLR", arity: 2, """
                optim.StepLR(opt, {step, gamma=0.1})
                lr = base_lr * gamma^floor(epoch / step); call s:step() once per epoch.
                """) { call in
                let opt: Optimizer = try call.arg(1)
                let o = try call.options(2, StepOptions.declared, StepOptions())
                guard let step = o.step else { throw call.error(2, "expected an options table with step (epochs between decays)") }
                return call.push(try StepLR(opt, stepSize: step, gamma: o.gamma))
            },
            .function("CosineLR", arity: 2, """
                optim.CosineLR(opt, {epochs, eta_min=0})
                Cosine annealing from the base lr to eta_min over `epochs` (PyTorch's CosineAnnealingLR).
                """) { call in
                let opt: Optimizer = try call.arg(1)
                let o = try call.options(2, CosineOptions.declared, CosineOptions())
                guard let epochs = o.epochs else { throw call.error(2, "expected an options table with epochs") }
                return call.push(try CosineLR(opt, tMax: epochs, etaMin: o.etaMin))
            },
        ])
    }

    func installLosses() {
        defineModule("nn", [
            .function("cross_entropy", arity: 3, """
                nn.cross_entropy(logits, target [, {weight, label_smoothing=0}])
                Mean cross-entropy of (N, C) logits against labels 1..C (a tensor or a table of N integers),
                with optional class weights (C) and label smoothing, as PyTorch's F.cross_entropy.
                """) { call in
                let logits = try call.tensor(1), target = try call.labelTensor(2)
                let o = try call.options(3, CrossEntropyOptions.declared, CrossEntropyOptions())
                return call.push(try Loss.crossEntropy(logits, target, weight: o.weight, labelSmoothing: o.smoothing))
            },
            .function("mse", arity: 2, "nn.mse(input, target)\nMean squared error of two same-shaped tensors.") { call in
                call.push(try Loss.mse(try call.tensor(1), try call.tensor(2)))
            },
        ])
    }
}
