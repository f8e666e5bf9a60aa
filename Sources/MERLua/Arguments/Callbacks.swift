import CLua
import CLuaBridge

/// Lua functions passed to a binding that runs them under a mode (`tensor.no_grad`,
/// `mer.autocast`): the call is protected, so an error it raises unwinds only Lua frames and
/// is re-raised unchanged once the Swift scope has restored the mode.
extension LuaCall {
    /// Calls the function at `i` with the arguments above it, inside `scope` (which sets a
    /// mode around the call it is given), and returns how many results it left on the stack.
    func callFunction(_ i: Int32, within scope: (() -> Int32) -> Int32) throws -> Int32 {
        try function(i)
        let status = scope { mer_pcall(L, top - i, LUA_MULTRET, 0) }
        if status != LUA_OK { throw LuaError(propagatingValueOnStack: name) }
        return top - (i - 1)
    }
}
