import CLua
import CLuaBridge
import MERData
import MERTensor

/// A Lua function kept in the registry for as long as a mapped data set lives.
final class LuaFunctionRef {
    weak var vm: LuaVM?
    let ref: Int32
    init(vm: LuaVM, ref: Int32) { self.vm = vm; self.ref = ref }
    deinit { if let vm = vm { luaL_unref(vm.L, mer_registryindex(), ref) } }

    /// Calls the function with a sample table on the running Lua thread and reads back the
    /// sample it returns. Must be called on the thread that owns the Lua state.
    func apply(_ sample: Sample) throws -> Sample {
        guard let vm = vm else { throw LuaError("data.map: the Lua state is gone") }
        let L = vm.activeState
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        lua_rawgeti(L, mer_registryindex(), lua_Integer(ref))
        let call = LuaCall(L: L, vm: vm, name: "data.map", isMethod: false)
        try call.pushSample(sample, index: nil)
        if mer_pcall_traceback(L, 1, 1) != LUA_OK {
            throw LuaError("data.map: the mapping function failed: \(vm.popMessage())")
        }
        guard lua_type(L, -1) == LUA_TTABLE else {
            throw LuaError("data.map: the mapping function must return the sample table, got \(call.typeName(-1))")
        }
        let t = lua_gettop(L)
        lua_pushstring(L, "x")        // raw: the script's table may have a raising __index
        lua_rawget(L, t)
        guard let x = call.object(-1, as: Tensor.self) else {
            throw LuaError("data.map: the returned sample's x must be a tensor, got \(call.typeName(-1))")
        }
        var out = sample
        out.x = x
        return out
    }
}
