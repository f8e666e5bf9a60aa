import CLua
import CLuaBridge
import MERNN
import MERTensor

/// Readers of tensors in their several Lua spellings: a number for a 0-d tensor, nested
/// tables of numbers, lists and name → tensor tables, class labels, image pairs, modules.
extension LuaCall {
    /// The argument as a tensor, or a number turned into a 0-d tensor.
    func tensorOrScalar(_ i: Int32) throws -> Tensor {
        if isNumber(i) { return try Tensor.scalar(try float(i)) }
        if let u = object(i, as: Tensor.self) { return u }
        throw error(i, "expected a tensor or a number, got \(typeName(i))")
    }

    /// A non-empty list of tensors given as a table.
    func tensorList(_ i: Int32) throws -> [Tensor] {
        guard isTable(i) else { throw error(i, "expected a table of tensors, got \(typeName(i))") }
        let n = Int(lua_rawlen(L, i))
        if n == 0 { throw error(i, "expected a non-empty table of tensors") }
        return try (1...n).map { k in
            lua_rawgeti(L, i, lua_Integer(k))
            defer { mer_pop(L, 1) }
            guard let t = object(-1, as: Tensor.self) else { throw error(i, "expected a table of tensors, element \(k) is \(typeName(-1))") }
            return t
        }
    }

    /// A tensor from a number or nested tables of numbers; rows must agree in length.
    func nestedTable(_ i: Int32) throws -> Tensor {
        if isNumber(i) { return try Tensor.scalar(try float(i)) }
        guard isTable(i) else { throw error(i, "expected a number or a table of numbers, got \(typeName(i))") }
        var shape: [Int] = []
        // The shape is read down the first elements, then every element is checked against it.
        // Nesting is bounded (a tensor has at most 64 dimensions) and the stack checked, so
        // a table nested thousands deep is an error, not a Lua stack overrun.
        let maxDepth = 64
        guard lua_checkstack(L, Int32(maxDepth + 4)) != 0 else { throw error("out of Lua stack space") }
        lua_pushvalue(L, i)
        var depth = 0
        while lua_type(L, -1) == LUA_TTABLE {
            guard depth < maxDepth else {
                mer_pop(L, Int32(depth + 1))
                throw error(i, "tables nested more than \(maxDepth) deep (a tensor has at most \(maxDepth) dimensions)")
            }
            let n = Int(lua_rawlen(L, -1))
            shape.append(n)
            if n == 0 { break }
            lua_rawgeti(L, -1, 1)
            depth += 1
        }
        mer_pop(L, Int32(depth + 1))
        var values: [Float] = []
        values.reserveCapacity(shape.reduce(1, *))
        func walk(_ index: Int32, _ level: Int, _ path: String) throws {
            if level == shape.count {
                guard isNumber(index) else { throw error(i, "element \(path) is \(typeName(index)), expected a number") }
                // Data may hold NaN and infinities; a finite value beyond Float's range is a mistake.
                let v = lua_tonumberx(L, index, nil)
                if v.isFinite && abs(v) > Double(Float.greatestFiniteMagnitude) {
                    throw error(i, "element \(path) is \(formatNumber(v)), out of range for a 32-bit float")
                }
                values.append(Float(v))
                return
            }
            guard isTable(index) else {
                throw error(i, "element \(path) is \(typeName(index)), expected a table of \(shape[level]) elements")
            }
            let n = Int(lua_rawlen(L, index))
            guard n == shape[level] else {
                throw error(i, "rows have different lengths: element \(path) has \(n) elements, expected \(shape[level])")
            }
            for k in 0..<n {
                lua_rawgeti(L, index, lua_Integer(k + 1))
                defer { mer_pop(L, 1) }
                try walk(top, level + 1, path.isEmpty ? "[\(k + 1)]" : "\(path)[\(k + 1)]")
            }
        }
        try walk(lua_absindex(L, i), 0, "")
        return try Tensor.from(values, shape: shape)
    }

    /// A table name → tensor (a state dict), read raw, sorted by name.
    func namedTensors(_ i: Int32) throws -> [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        guard isTable(i) else { throw error(i, "expected a table of name → tensor (a state dict), got \(typeName(i))") }
        try forEachField(i, what: "a table of name → tensor") { name, v in
            guard let t = object(v, as: Tensor.self) else { throw error(i, "entry '\(name)' is \(typeName(v)), expected a tensor") }
            out.append((name, t))
        }
        return out.sorted { $0.name < $1.name }
    }

    /// Class labels 1..C from a table or a tensor (an (N, C) tensor gives its argmax), 0-based.
    /// The most classes metrics take: their confusion matrix is classes² counts.
    static let maxClasses = 4096

    func classLabels(_ i: Int32) throws -> [Int] {
        let top = LuaCall.maxClasses
        if let t = object(i, as: Tensor.self) {
            if t.rank == 2 {
                guard t.shape[1] <= top else { throw error(i, "scores for \(t.shape[1]) classes, more than \(top)") }
                return try t.argmax(dim: 1).toArray().map { Int($0) }
            }
            guard t.rank <= 1 else { throw error(i, "expected labels (a 1-D tensor) or (N, C) scores, got a tensor of shape \(formatList(t.shape))") }
            return try t.toArray().enumerated().map { k, v in
                guard v == v.rounded(), v >= 1, v <= Float(top) else {
                    throw error(i, "label \(k + 1) is \(formatNumber(Double(v))), expected an integer class 1..\(top)")
                }
                return Int(v) - 1
            }
        }
        guard isTable(i) else { throw error(i, "expected class labels (a table or tensor of integers 1..C), got \(typeName(i))") }
        let labels = try integerList(i, what: "a table of class labels 1..C", allowVarargs: false, minimum: 1)
        if let k = labels.firstIndex(where: { $0 > top }) {
            throw error(i, "label \(k + 1) is \(labels[k]), more than \(top) classes")
        }
        return labels.map { $0 - 1 }
    }

    /// The class count at `i`, or the largest label seen.
    func classCount(_ i: Int32, labels: [Int]) throws -> Int {
        if isNil(i) { return max(1, (labels.max() ?? 0) + 1) }
        let c = try integer(i, in: 1...LuaCall.maxClasses, what: "a number of classes in 1...\(LuaCall.maxClasses)")
        if let top = labels.max(), top >= c { throw error(i, "a label is \(top + 1) but nclasses is \(c)") }
        return c
    }

    /// Class labels 1..C (a tensor or a table) as the 0-based float tensor the losses take.
    func labelTensor(_ i: Int32) throws -> Tensor {
        if let u = object(i, as: Tensor.self) { return try u.adding(scalar: -1) }
        guard isTable(i) else { throw error(i, "expected class labels (a tensor or a table of integers 1..C), got \(typeName(i))") }
        let list = try integerList(i, what: "a table of class labels")
        return try Tensor.from(list.map { Float($0) - 1 }, shape: [list.count]) // in Float: $0 - 1 could overflow
    }

    /// Refuses parameter shapes too large to allocate (a typo such as 1e9 channels).
    func checkParameterSize(_ shape: [Int]) throws {
        var n = 1
        for s in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: max(s, 1))
            guard !overflow, p <= 1 << 31 else { throw error("a parameter of shape \(shape) is too large") }
            n = p
        }
    }

    /// A tensor (single) or a table of tensors that must be transformed together.
    func images(_ i: Int32) throws -> (list: [Tensor], single: Bool) {
        if let t = object(i, as: Tensor.self) { return ([t], true) }
        if isTable(i) { return (try tensorList(i), false) }
        throw error(i, "expected an image tensor or a table of them (frames transformed together), got \(typeName(i))")
    }

    /// An array of modules (for containers).
    func moduleList(_ i: Int32, allowEmpty: Bool) throws -> [Module] {
        if luaModule(i) != nil || object(i, as: Module.self) != nil {
            throw error(i, "expected a table of modules, got a single module (write {m1, m2, ...})")
        }
        guard isTable(i) else { throw error(i, "expected a table of modules, got \(typeName(i))") }
        let n = Int(lua_rawlen(L, i))
        if hasNonSequenceKeys(i, length: n) { throw error(i, "expected a table of modules, got a table with non-sequence keys") }
        if n == 0 && !allowEmpty { throw error(i, "expected a non-empty table of modules") }
        return try (0..<n).map { k in
            lua_rawgeti(L, i, lua_Integer(k + 1))
            defer { mer_pop(L, 1) }
            guard let m = try? module(-1) else { throw error(i, "expected a table of modules, element \(k + 1) is \(typeName(-1))") }
            return m
        }
    }

    /// Parameters to optimise: a module's, or a table of tensors.
    func parameterList(_ i: Int32) throws -> [Tensor] {
        if let m = try? module(i) { return m.parameters() }
        guard isTable(i) else { throw error(i, "expected a table of tensors (m:parameters()) or a module, got \(typeName(i))") }
        return try tensorList(i)
    }
}
