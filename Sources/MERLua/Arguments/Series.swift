import CLua
import CLuaBridge
import MERTensor

/// Readers of plotted data: a series of finite numbers from a table or a 1-D tensor, and a
/// list of such series. A NaN or an infinity cannot be drawn, so it is an error naming the
/// element, as is a series longer than a plot can sensibly hold.
extension LuaCall {
    /// The most points one plot call takes (all series together).
    static let maxPlotPoints = 1 << 20

    /// A table of numbers or a 1-D (or N×1) tensor; every value finite.
    func finiteSeries(_ i: Int32, what: String = "a table of numbers or a 1-D tensor") throws -> [Double] {
        var values: [Double]
        if let t = object(i, as: Tensor.self) {
            guard t.rank == 1 || (t.rank == 2 && t.shape[1] == 1) else {
                throw error(i, "expected \(what), got a tensor of shape \(formatList(t.shape))")
            }
            guard t.count <= LuaCall.maxPlotPoints else { throw error(i, "\(t.count) values, more than \(LuaCall.maxPlotPoints) points") }
            values = t.toArray().map(Double.init)
        } else if isTable(i) {
            let n = Int(lua_rawlen(L, i))
            guard n <= LuaCall.maxPlotPoints else { throw error(i, "\(n) values, more than \(LuaCall.maxPlotPoints) points") }
            values = []
            values.reserveCapacity(n)
            for k in 0..<n {
                lua_rawgeti(L, i, lua_Integer(k + 1))
                defer { mer_pop(L, 1) }
                guard isNumber(-1) else { throw error(i, "expected \(what), got a table whose element \(k + 1) is \(typeName(-1))") }
                values.append(lua_tonumberx(L, -1, nil))
            }
            if hasNonSequenceKeys(i, length: n) { throw error(i, "expected \(what), got a table with non-sequence keys") }
        } else {
            throw error(i, "expected \(what), got \(typeName(i))")
        }
        if let k = values.firstIndex(where: { !$0.isFinite }) {
            throw error(i, "element \(k + 1) is \(values[k].isNaN ? "nan" : formatNumber(values[k])), expected a finite number")
        }
        return values
    }

    /// One series (numbers or a 1-D tensor) or several (a table of them), as a list of series.
    func seriesList(_ i: Int32) throws -> [[Double]] {
        if object(i, as: Tensor.self) != nil { return [try finiteSeries(i)] }
        guard isTable(i) else { throw error(i, "expected a series (a table of numbers or a 1-D tensor) or a table of series, got \(typeName(i))") }
        lua_rawgeti(L, i, 1)
        let nested = isTable(-1) || object(-1, as: Tensor.self) != nil
        mer_pop(L, 1)
        guard nested else { return [try finiteSeries(i)] }
        let n = Int(lua_rawlen(L, i))
        guard n <= 64 else { throw error(i, "\(n) series, more than 64 in one chart") }
        var total = 0
        return try elements(i, count: n) { k in
            let s = try finiteSeries(k)
            total += s.count
            guard total <= LuaCall.maxPlotPoints else { throw error(k, "more than \(LuaCall.maxPlotPoints) points in all") }
            return s
        }
    }
}
