import CLua
import CLuaBridge
import Foundation
import MERNN
import MERTensor

/// A module defined in Lua (`local M = nn.Module:extend("M")`), as the Swift engine sees it.
///
/// Representation. An instance is a plain Lua table whose metatable is its class (class →
/// parent class → `nn.Module`, chained by `__index`). Its Swift side is this object, which
/// exposes the table's fields to the engine: parameters, buffers and children are found by
/// scanning the table raw, and `forward` calls the Lua method through `lua_pcall`, so a Lua
/// module can sit inside a native `nn.Sequential`, and native containers, optimisers and
/// state dicts treat it like any other module.
///
/// What counts. A field holding a module (native or Lua) is a child; a tensor made with
/// `nn.Parameter` is a parameter; a tensor registered with `self:register_buffer(name, t)`
/// is a buffer; any other value — including plain tensors — is ignored, as in PyTorch.
///
/// Order. Fields are visited in the order they were first assigned (tracked by the class's
/// `__newindex`, which runs exactly when a new key is added), which is PyTorch's order, so
/// `state_dict` names line up with a PyTorch port. Keys added with `rawset` come after, sorted.
///
/// Ownership (no cycles). The Lua table owns this object: an ephemeron table in the
/// registry maps the instance table to a userdata holding it, so it lives exactly as long
/// as the table. This object finds its table through a weak-valued registry table. Native
/// containers holding a Lua module keep its table alive through their userdata's keep-alive
/// list. Nothing in the registry holds the table strongly, so dropped modules are collected.
final class LuaModule: Module {
    let className: String
    weak var vm: LuaVM?
    private(set) var fieldOrder: [String] = []
    private var fieldSet: Set<String> = []
    var bufferNames: Set<String> = []

    init(className: String, vm: LuaVM) {
        self.className = className
        self.vm = vm
        super.init()
    }

    override var typeName: String { className }

    func noteField(_ name: String) {
        if fieldSet.insert(name).inserted { fieldOrder.append(name) }
    }

    struct Fields {
        var parameters: [(name: String, tensor: Tensor)] = []
        var buffers: [(name: String, tensor: Tensor)] = []
        var children: [(name: String, module: Module)] = []
    }

    override var ownParameters: [(name: String, tensor: Tensor)] { scan().parameters }
    override var ownBuffers: [(name: String, tensor: Tensor)] { scan().buffers }
    override var children: [(name: String, module: Module)] { scan().children }

    /// Pushes the instance table on `L`; false (nothing pushed) if it was collected.
    func pushInstance(_ L: OpaquePointer) -> Bool {
        lua_getfield(L, mer_registryindex(), NNRegistry.objects)
        lua_pushlightuserdata(L, Unmanaged.passUnretained(self).toOpaque())
        lua_rawget(L, -2)
        mer_remove(L, -2)
        if lua_type(L, -1) == LUA_TTABLE { return true }
        mer_pop(L, 1)
        return false
    }

    /// The table's fields, classified (raw reads only: no Lua code runs).
    func scan() -> Fields {
        var fields = Fields()
        guard let vm = vm else { return fields }
        let L = vm.activeState
        guard lua_checkstack(L, 8) != 0 else { return fields }
        let base = lua_gettop(L)
        guard pushInstance(L) else { return fields }
        defer { lua_settop(L, base) }
        let t = lua_gettop(L)
        var extra: [String] = []
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            if lua_type(L, -2) == LUA_TSTRING {
                let k = String(cString: mer_tostring(L, -2, nil))
                if !fieldSet.contains(k) { extra.append(k) }
            }
            mer_pop(L, 1)
        }
        let call = LuaCall(L: L, vm: vm, name: className, isMethod: false)
        for name in fieldOrder + extra.sorted() {
            lua_pushstring(L, name)
            lua_rawget(L, t)
            defer { mer_pop(L, 1) }
            switch lua_type(L, -1) {
            case LUA_TUSERDATA:
                if let x = call.object(-1, as: Tensor.self) {
                    if vm.nn.isParameter(x) { fields.parameters.append((name, x)) }
                    else if bufferNames.contains(name) { fields.buffers.append((name, x)) }
                } else if let m = call.object(-1, as: Module.self), m !== self {
                    fields.children.append((name, m))
                }
            case LUA_TTABLE:
                if let m = call.luaModule(-1), m !== self { fields.children.append((name, m)) }
            default:
                break
            }
        }
        return fields
    }

    /// Calls the Lua `forward` method (on the running Lua thread) with the inputs.
    override func forward(_ inputs: [Tensor]) throws -> Tensor {
        guard let vm = vm else { throw LuaError("\(className): its Lua state has been closed") }
        let L = vm.activeState
        guard lua_checkstack(L, Int32(inputs.count) + 4) != 0 else {
            throw LuaError("\(className).forward: too many inputs (\(inputs.count))")
        }
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        lua_getfield(L, mer_registryindex(), NNRegistry.invoke)
        guard pushInstance(L) else {
            throw LuaError("\(className): its Lua table was collected (keep a reference to the module in Lua)")
        }
        for x in inputs { vm.pushTensor(x) }
        if mer_pcall(L, Int32(inputs.count) + 1, 1, 0) != LUA_OK {
            let message = lua_type(L, -1) == LUA_TSTRING
                ? String(cString: mer_tostring(L, -1, nil))
                : "\(className).forward raised a \(String(cString: lua_typename(L, lua_type(L, -1)))) value"
            throw LuaError(located: message)
        }
        let call = LuaCall(L: L, vm: vm, name: className, isMethod: false)
        guard let y = call.object(-1, as: Tensor.self) else {
            throw LuaError("\(className):forward returned \(call.typeName(-1)), expected a tensor")
        }
        return y
    }

    /// Mode changes also set the instance's raw `training` field, which Lua forwards read.
    override func setTraining(_ on: Bool) {
        super.setTraining(on)
        guard let vm = vm else { return }
        let L = vm.activeState
        guard lua_checkstack(L, 4) != 0, pushInstance(L) else { return }
        lua_pushstring(L, "training")
        lua_pushboolean(L, on ? 1 : 0)
        lua_rawset(L, -3)
        mer_pop(L, 1)
    }
}
