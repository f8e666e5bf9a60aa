import CLua
import CLuaBridge
import MERTensor

/// Pushers of results. Each returns how many values it pushed, so a binding can end with
/// `return call.push(x)`.
extension LuaCall {
    @discardableResult func push(_ v: Double) -> Int32 { lua_pushnumber(L, v); return 1 }
    @discardableResult func push(_ v: Float) -> Int32 { lua_pushnumber(L, Double(v)); return 1 }
    @discardableResult func push(_ v: Int) -> Int32 { lua_pushinteger(L, lua_Integer(v)); return 1 }
    @discardableResult func push(_ v: Bool) -> Int32 { lua_pushboolean(L, v ? 1 : 0); return 1 }
    @discardableResult func push(_ v: String) -> Int32 { lua_pushstring(L, v); return 1 }
    @discardableResult func push(_ t: Tensor) -> Int32 { vm.pushTensor(t); return 1 }
    @discardableResult func push(_ o: LuaObject) -> Int32 { vm.pushObject(o, typeName: type(of: o).luaTypeName); return 1 }
    @discardableResult func pushNil() -> Int32 { lua_pushnil(L); return 1 }
    /// Returns argument `i` itself (methods that answer `self` for chaining).
    @discardableResult func pushArgument(_ i: Int32) -> Int32 { lua_pushvalue(L, i); return 1 }

    /// An array `{v1, v2, ...}` of values pushed by `element`.
    @discardableResult func pushList<T>(_ list: [T], _ element: (T) -> Void) -> Int32 {
        lua_createtable(L, Int32(list.count), 0)
        for (k, v) in list.enumerated() {
            element(v)
            lua_rawseti(L, -2, lua_Integer(k + 1))
        }
        return 1
    }

    @discardableResult func pushIntegers(_ values: [Int]) -> Int32 { pushList(values) { push($0) } }
    @discardableResult func pushStrings(_ values: [String]) -> Int32 { pushList(values) { push($0) } }
    @discardableResult func pushTensors(_ values: [Tensor]) -> Int32 { pushList(values) { push($0) } }

    /// A record `{key = value, ...}` of fields pushed by `value`, in the order given.
    @discardableResult func pushRecord(_ fields: [(String, () -> Void)]) -> Int32 {
        lua_createtable(L, 0, Int32(fields.count))
        for (key, value) in fields {
            value()
            lua_setfield(L, -2, key)
        }
        return 1
    }

    /// A table name → tensor, and an array of the names in order.
    @discardableResult func pushNamedTensors(_ list: [(name: String, tensor: Tensor)]) -> Int32 {
        lua_createtable(L, 0, Int32(list.count))
        for (name, t) in list {
            push(t)
            lua_setfield(L, -2, name)
        }
        return 1 + pushStrings(list.map(\.name))
    }

    /// The values of `t` as nested tables (a number for a 0-d tensor).
    @discardableResult func pushNested(_ t: Tensor) throws -> Int32 {
        // One table on the stack per dimension while the nesting is built.
        guard lua_checkstack(L, Int32(clamping: t.rank + 4)) != 0 else {
            throw error("a tensor of \(t.rank) dimensions nests too deep for Lua's stack")
        }
        let values = t.toArray()
        if t.rank == 0 { return push(values[0]) }
        func build(_ dim: Int, _ start: Int) {
            let n = t.shape[dim]
            let stride = t.shape[(dim + 1)...].reduce(1, *)
            lua_createtable(L, Int32(n), 0)
            for k in 0..<n {
                if dim == t.rank - 1 { lua_pushnumber(L, Double(values[start + k])) } else { build(dim + 1, start + k * stride) }
                lua_rawseti(L, -2, lua_Integer(k + 1))
            }
        }
        build(0, 0)
        return 1
    }
}
