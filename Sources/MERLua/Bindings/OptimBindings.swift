import CLua
import CLuaBridge
import MERNN
import MERTensor

/// `optim` (Adam, AdamW, SGD, StepLR, CosineLR) and the losses `nn.cross_entropy`, `nn.mse`.
extension LuaVM {
    func installOptim() {
        defineType("optimizer", methods: {
            self.setFunction("zero_grad", "optim.zero_grad", doc: "opt:zero_grad()\nClears the .grad of every parameter.", method: true) { call in
                try call.optimizer(1).zeroGrad()
                return 0
            }
            self.setFunction("step", "optim.step", doc: "opt:step()\nOne update of every parameter that has a gradient.", method: true) { call in
                try call.expectAtMost(1)
                try call.optimizer(1).step()
                return 0
            }
            self.setFunction("save", "optim.save", doc: "opt:save(path)\nWrites the optimiser state (moments, steps, lr) to a .safetensors file.", method: true) { call in
                try call.optimizer(1).save(path: try call.string(2))
                return 0
            }
            self.setFunction("load", "optim.load", doc: "opt:load(path)\nRestores the optimiser state written by opt:save.", method: true) { call in
                try call.optimizer(1).load(path: try call.string(2))
                return 0
            }
        }, field: { call in
            let opt = try call.optimizer(1)
            switch lua_type(call.L, 2) == LUA_TSTRING ? String(cString: mer_tostring(call.L, 2, nil)) : "" {
            case "lr": call.push(opt.lr)
            case "steps": call.push(opt.stepCount)
            case "name": call.push(opt.name)
            default: call.pushNil()
            }
            return 1
        })
        setFunction("__newindex", "optim.__newindex") { call in
            let opt = try call.optimizer(1)
            guard lua_type(call.L, 2) == LUA_TSTRING, String(cString: mer_tostring(call.L, 2, nil)) == "lr" else {
                throw call.error("only lr can be set on an optimiser")
            }
            let lr = try call.number(3)
            guard lr >= 0, lr.isFinite else { throw call.error(3, "lr must be a non-negative number, got \(lr)") }
            opt.lr = lr
            return 0
        }
        setFunction("__tostring", "optim.__tostring") { call in
            let opt = try call.optimizer(1)
            call.push("\(opt.name)(lr=\(opt.lr), \(opt.params.count) parameters, \(opt.stepCount) steps)")
            return 1
        }
        mer_pop(L, 1)

        defineType("schedule", methods: {
            self.setFunction("step", "optim.schedule.step", doc: "s:step()\nAdvances one epoch and sets the optimiser's lr.", method: true) { call in
                try call.schedule(1).step()
                return 0
            }
        }, field: { call in
            let s = try call.schedule(1)
            switch lua_type(call.L, 2) == LUA_TSTRING ? String(cString: mer_tostring(call.L, 2, nil)) : "" {
            case "epoch": call.push(s.epoch)
            case "lr": call.push(s.optimizer.lr)
            default: call.pushNil()
            }
            return 1
        })
        setFunction("__newindex", "optim.schedule.__newindex") { call in
            let s = try call.schedule(1)
            guard lua_type(call.L, 2) == LUA_TSTRING, String(cString: mer_tostring(call.L, 2, nil)) == "epoch" else {
                throw call.error("only epoch can be set on a schedule")
            }
            let e = try call.integer(3)
            guard e >= 0 else { throw call.error(3, "epoch must be non-negative, got \(e)") }
            s.epoch = e
            return 0
        }
        mer_pop(L, 1)

        lua_createtable(L, 0, 8)
        func params(_ call: LuaCall) throws -> [Tensor] {
            if let m = try? call.module(1) { return m.parameters() }
            guard call.isTable(1) else { throw call.error(1, "expected a table of tensors (m:parameters()) or a module, got \(call.typeName(1))") }
            return try call.tensorList(1)
        }
        setFunction("Adam", "optim.Adam", doc: """
            optim.Adam(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0}])
            Adam (Kingma & Ba) with PyTorch's update rule; weight_decay is L2 added to the gradient.
            params: m:parameters() or a module.
            """) { call in
            try call.expectAtMost(2)
            let ps = try params(call)
            let o = try call.options(2, allowed: ["lr", "betas", "eps", "weight_decay"])
            call.vm.pushObject(try Adam(ps, lr: try o?.number("lr") ?? 1e-3, betas: try call.betas(o),
                                     eps: try o?.number("eps") ?? 1e-8, weightDecay: try o?.number("weight_decay") ?? 0), typeName: "optimizer")
            return 1
        }
        setFunction("AdamW", "optim.AdamW", doc: """
            optim.AdamW(params [, {lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0.01}])
            Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's AdamW.
            """) { call in
            try call.expectAtMost(2)
            let ps = try params(call)
            let o = try call.options(2, allowed: ["lr", "betas", "eps", "weight_decay"])
            call.vm.pushObject(try AdamW(ps, lr: try o?.number("lr") ?? 1e-3, betas: try call.betas(o),
                                      eps: try o?.number("eps") ?? 1e-8, weightDecay: try o?.number("weight_decay") ?? 0.01), typeName: "optimizer")
            return 1
        }
        setFunction("SGD", "optim.SGD", doc: """
            optim.SGD(params [, {lr=1e-3, momentum=0, dampening=0, nesterov=false, weight_decay=0}])
            Stochastic gradient descent with PyTorch's momentum and Nesterov rules.
            """) { call in
            try call.expectAtMost(2)
            let ps = try params(call)
            let o = try call.options(2, allowed: ["lr", "momentum", "dampening", "nesterov", "weight_decay"])
            call.vm.pushObject(try SGD(ps, lr: try o?.number("lr") ?? 1e-3, momentum: try o?.number("momentum") ?? 0,
                                    dampening: try o?.number("dampening") ?? 0, weightDecay: try o?.number("weight_decay") ?? 0,
                                    nesterov: try o?.boolean("nesterov") ?? false), typeName: "optimizer")
            return 1
        }
        setFunction("StepLR", "optim.StepLR", doc: """
            optim.StepLR(opt, {step, gamma=0.1})
            lr = base_lr * gamma^floor(epoch / step); call s:step() once per epoch.
            """) { call in
            try call.expectAtMost(2)
            let opt = try call.optimizer(1)
            guard let o = try call.options(2, allowed: ["step", "gamma"]), let step = try o.integer("step") else {
                throw call.error(2, "expected an options table with step (epochs between decays)")
            }
            call.vm.pushObject(try StepLR(opt, stepSize: step, gamma: try o.number("gamma") ?? 0.1), typeName: "schedule")
            return 1
        }
        setFunction("CosineLR", "optim.CosineLR", doc: """
            optim.CosineLR(opt, {epochs, eta_min=0})
            Cosine annealing from the base lr to eta_min over `epochs` (PyTorch's CosineAnnealingLR).
            """) { call in
            try call.expectAtMost(2)
            let opt = try call.optimizer(1)
            guard let o = try call.options(2, allowed: ["epochs", "eta_min"]), let epochs = try o.integer("epochs") else {
                throw call.error(2, "expected an options table with epochs")
            }
            call.vm.pushObject(try CosineLR(opt, tMax: epochs, etaMin: try o.number("eta_min") ?? 0), typeName: "schedule")
            return 1
        }
        lua_setglobal(L, "optim")
    }

    func installLosses() {
        lua_getglobal(L, "nn")
        setFunction("cross_entropy", "nn.cross_entropy", doc: """
            nn.cross_entropy(logits, target [, {weight, label_smoothing=0}])
            Mean cross-entropy of (N, C) logits against labels 1..C (a tensor or a table of N integers),
            with optional class weights (C) and label smoothing, as PyTorch's F.cross_entropy.
            """) { call in
            try call.expectAtMost(3)
            let logits = try call.tensor(1)
            let target = try call.labels(2)
            let o = try call.options(3, allowed: ["weight", "label_smoothing"])
            call.push(try Loss.crossEntropy(logits, target, weight: try o?.tensor("weight"),
                                            labelSmoothing: try o?.float("label_smoothing") ?? 0))
            return 1
        }
        setFunction("mse", "nn.mse", doc: "nn.mse(input, target)\nMean squared error of two same-shaped tensors.") { call in
            try call.expectAtMost(2)
            call.push(try Loss.mse(try call.tensor(1), try call.tensor(2)))
            return 1
        }
        mer_pop(L, 1)
    }
}

extension LuaCall {
    func optimizer(_ i: Int32) throws -> Optimizer {
        if let o = object(i, typeName: "optimizer", as: Optimizer.self) { return o }
        throw error(i, "expected an optimiser, got \(typeName(i))")
    }

    func schedule(_ i: Int32) throws -> LRSchedule {
        if let s = object(i, typeName: "schedule", as: LRSchedule.self) { return s }
        throw error(i, "expected a schedule, got \(typeName(i))")
    }

    func betas(_ o: LuaOptions?) throws -> (Double, Double) {
        guard let list = try o?.value("betas", { i -> [Double] in
            guard isTable(i), lua_rawlen(L, i) == 2 else { throw error(i, "expected {beta1, beta2}") }
            return try (1...2).map { k -> Double in
                lua_rawgeti(L, i, lua_Integer(k))
                defer { mer_pop(L, 1) }
                return try number(lua_gettop(L))
            }
        }) else { return (0.9, 0.999) }
        return (list[0], list[1])
    }

    /// Class labels 1..C from Lua (a tensor or a table), as the 0-based tensor the engine uses.
    func labels(_ i: Int32) throws -> Tensor {
        let t: Tensor
        if let u = object(i, typeName: "tensor", as: Tensor.self) { t = u }
        else if isTable(i) { t = try Tensor.from(try integerList(i, what: "a table of class labels").map(Float.init), shape: [Int(lua_rawlen(L, i))]) }
        else { throw error(i, "expected class labels (a tensor or a table of integers 1..C), got \(typeName(i))") }
        return t.adding(scalar: -1)
    }
}
