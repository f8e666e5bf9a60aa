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

/// Which tensors are `nn.Parameter`s: a property of the Swift tensor (a tensor reaches Lua
/// as a fresh userdata each time, so a mark on the userdata would not stick).
final class NNState {
    private final class WeakTensor {
        weak var tensor: Tensor?
        init(_ t: Tensor) { tensor = t }
    }
    private var marks: [ObjectIdentifier: WeakTensor] = [:]
    private var sweepAt = 1024

    func markParameter(_ t: Tensor) {
        marks[ObjectIdentifier(t)] = WeakTensor(t)
        if marks.count >= sweepAt {
            marks = marks.filter { $0.value.tensor != nil }
            sweepAt = max(1024, marks.count * 2)
        }
    }

    func isParameter(_ t: Tensor) -> Bool { marks[ObjectIdentifier(t)]?.tensor === t }
}

/// `nn.Module` and the class machinery of Lua-defined modules.
extension LuaVM {
    static let modulePrelude = """
    local methods, attach, newindex, tostr = ...
    local setmetatable, getmetatable, rawget, type, pairs, error = setmetatable, getmetatable, rawget, type, pairs, error

    local function construct(class, ...)
      local self = setmetatable({}, class)
      attach(self, class)
      self:init(...)
      return self
    end

    local function call(self, ...)
      local forward = self.forward
      if forward == methods.forward then
        local name = rawget(getmetatable(self), "__name")
        error(name .. ": forward is not defined (define function " .. name .. ":forward(x) ... end)", 2)
      end
      return forward(self, ...)
    end

    local function makeClass(name, parent)
      local c = {}
      if parent then
        for k, v in pairs(parent) do
          if type(k) == "string" and k:sub(1, 2) == "__" then c[k] = v end
        end
      end
      c.__name = name
      c.__index = c
      c.new = function(...) return construct(c, ...) end
      c.super = parent
      return setmetatable(c, {
        __index = parent,
        __call = function(_, ...) return construct(c, ...) end,
        __tostring = function() return "nn class " .. name end,
      })
    end

    local Module = makeClass("Module", nil)
    for k, v in pairs(methods) do Module[k] = v end
    Module.__newindex = newindex
    Module.__tostring = tostr
    Module.__call = call
    function Module:init() end

    function Module.extend(parent, name)
      if type(parent) ~= "table" or rawget(parent, "__index") ~= parent then
        error('nn.Module.extend: call it with \\':\\' on a class (nn.Module:extend("Name"))', 2)
      end
      if type(name) ~= "string" or not name:match("^[%a_][%w_%.]*$") then
        local got = type(name) == "string" and ("'" .. name .. "'") or type(name)
        error("nn.Module.extend: argument 1: expected a class name (a string such as \\"MyBlock\\"), got " .. got, 2)
      end
      return makeClass(name, parent)
    end

    local function invoke(self, ...) return self:forward(...) end
    return Module, invoke
    """

    /// Creates `nn.Module` (left on the stack) from the module methods table.
    func installModuleClass() {
        let status = LuaVM.modulePrelude.withCString { p in mer_loadbuffer(L, p, strlen(p), "=[nn.Module]") }
        precondition(status == LUA_OK, "nn prelude: \(popMessage())")
        pushMethods(of: "module")
        pushBinding(.meta("new") { call in
            guard call.isTable(1), call.isTable(2) else { throw call.error("expected an instance table and its class") }
            lua_pushstring(call.L, "__name")
            lua_rawget(call.L, 2)
            let name = lua_type(call.L, -1) == LUA_TSTRING ? String(cString: mer_tostring(call.L, -1, nil)) : "Module"
            mer_pop(call.L, 1)
            let m = LuaModule(className: name, vm: call.vm)
            lua_getfield(call.L, mer_registryindex(), NNRegistry.handles)
            lua_pushvalue(call.L, 1)
            call.vm.pushObject(m, typeName: "luamodule")
            lua_rawset(call.L, -3)
            mer_pop(call.L, 1)
            lua_getfield(call.L, mer_registryindex(), NNRegistry.objects)
            lua_pushlightuserdata(call.L, Unmanaged.passUnretained(m).toOpaque())
            lua_pushvalue(call.L, 1)
            lua_rawset(call.L, -3)
            mer_pop(call.L, 1)
            lua_pushstring(call.L, "training")
            lua_pushboolean(call.L, 1)
            lua_rawset(call.L, 1)
            return 0
        }, name: "nn.Module.new")
        pushBinding(.meta("__newindex") { call in
            guard let m = call.luaModule(1) else { throw call.error("expected a Lua module instance") }
            switch lua_type(call.L, 2) {
            case LUA_TNIL: throw call.error("\(m.typeName): a field name cannot be nil")
            case LUA_TNUMBER where lua_tonumberx(call.L, 2, nil).isNaN: throw call.error("\(m.typeName): a field name cannot be NaN")
            case LUA_TSTRING:
                let key = String(cString: mer_tostring(call.L, 2, nil))
                if !call.isNil(3) {
                    if let child = call.object(3, as: Module.self) ?? call.luaModule(3) {
                        if child.namedModules().contains(where: { $0.module === m }) {
                            throw call.error("\(m.typeName): field '\(key)': a module cannot contain itself (modules must form a tree)")
                        }
                    }
                    m.noteField(key)
                }
            default: break
            }
            lua_settop(call.L, 3)
            lua_rawset(call.L, 1)
            return 0
        }, name: "nn.Module.__newindex")
        lua_getfield(L, mer_registryindex(), "mer.module")
        lua_getfield(L, -1, "__tostring")
        mer_remove(L, -2)
        // Stack: prelude, methods, attach, newindex, tostring.
        if mer_pcall(L, 4, 2, 0) != LUA_OK { preconditionFailure("nn prelude: \(popMessage())") }
        lua_setfield(L, mer_registryindex(), NNRegistry.invoke)
        // nn.Module is on top.
        for (key, doc) in [
            ("extend", "nn.Module:extend(name)\nA new module class: define M:init(...) and M:forward(x), then make instances with M(...) or M.new(...)."),
            ("new", "M.new(...)\nA new instance of class M (the same as M(...)): runs M:init(...)."),
            ("init", "function M:init(...) ... end\nSets up an instance: assign submodules, nn.Parameter tensors and buffers to self fields."),
        ] {
            lua_pushstring(L, key)
            lua_rawget(L, -2)
            registerDoc(at: -1, doc: doc)
            reference.append(ReferenceEntry(name: "nn.Module.\(key)", kind: .function, doc: doc))
            mer_pop(L, 1)
        }
        register([Method<Module>("register_buffer", arity: 2, """
            m:register_buffer(name, t)
            Stores tensor t as field name and as a buffer of a Lua module: saved in the state dict
            (as batch-norm statistics are) but not a parameter. Plain tensor fields are not saved.
            """) { call, _ in
            guard let m = call.luaModule(1) else {
                throw call.error(1, "expected a Lua-defined module, got \(call.typeName(1))")
            }
            let name = try call.string(2)
            if !call.isNil(3) { _ = try call.tensor(3) }
            m.bufferNames.insert(name)
            if !call.isNil(3) { m.noteField(name) }
            lua_settop(call.L, 3)
            lua_rawset(call.L, 1)
            return 0
        }.binding], prefix: "nn.Module", into: -1)
    }
}
