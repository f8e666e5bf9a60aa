import CLua
import CLuaBridge
import Foundation
import MERNN
import MERTensor

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
