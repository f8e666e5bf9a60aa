import CLua
import CLuaBridge
import Foundation

/// `help(x)`: a one-screen description of any binding, module or object.
extension LuaVM {
    func installHelp() {
        pushBinding(.function("help", arity: 1, """
            help([x])
            Describes x: a function (its signature and what it does), a module table (its
            functions), a tensor or other object (its methods), or a name such as "tensor.zeros".
            """) { call in
            call.push(call.vm.helpText(call, 1))
            LuaVM.pushRawGlobal(call.L, "print")
            mer_insert(call.L, -2)
            if mer_pcall(call.L, 1, 0, 0) != LUA_OK { throw LuaError(propagatingValueOnStack: "help") }
            return 0
        }, name: "help")
        lua_setglobal(L, "help")
    }

    /// The doc string registered for the value at `index`, if any.
    func doc(at index: Int32) -> String? {
        let L = activeState
        let idx = lua_absindex(L, index)
        lua_getfield(L, mer_registryindex(), "mer.docs")
        lua_pushvalue(L, idx)
        lua_rawget(L, -2)
        defer { mer_pop(L, 2) }
        return lua_type(L, -1) == LUA_TSTRING ? String(cString: mer_tostring(L, -1, nil)) : nil
    }

    /// Entries `name: first line of doc` of the functions in the table at `index`.
    func summaries(ofTable index: Int32, prefix: String) -> [String] {
        let L = activeState
        let t = lua_absindex(L, index)
        var rows: [(String, String)] = []
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            if lua_type(L, -2) == LUA_TSTRING {
                let key = String(cString: mer_tostring(L, -2, nil))
                if !key.hasPrefix("_") {
                    let d = doc(at: -1)
                    let kind = lua_type(L, -1)
                    let summary = d.map { lines in String(lines.split(separator: "\n").dropFirst().first ?? "") }
                        ?? (kind == LUA_TFUNCTION ? "" : String(cString: lua_typename(L, kind)))
                    rows.append((prefix + key, summary))
                }
            }
            mer_pop(L, 1)
        }
        rows.sort { $0.0 < $1.0 }
        let width = min(24, rows.map { $0.0.count }.max() ?? 0)
        return rows.map { name, summary in
            let pad = String(repeating: " ", count: max(1, width - name.count + 1))
            let line = "  " + name + pad + summary
            return line.count > 100 ? String(line.prefix(97)) + "..." : line
        }
    }

    func helpText(_ call: LuaCall, _ i: Int32) -> String {
        let L = call.L
        if call.isNil(i) {
            return """
            mer-script \(LuaVM.version): Lua 5.4 with native tensors for micro-expression research.
            Modules: tensor (tensors and autograd), nn (layers, nn.Module, nn.F), optim, image, data, eval,
            plot (figures: line, scatter, bar, images, confusion), mer (seed, threads, time); display(x) shows
            a value (inline in a notebook). `mer-script doc` prints the whole API reference as Markdown.
            Try help(tensor), help(tensor.zeros), help(nn.Conv2d), help(t) for a tensor t, or help("t:reshape").
            Lua's own libraries (string, table, math, io, os) are there as usual.
            """
        }
        if lua_type(L, i) == LUA_TSTRING {
            // A dotted or colon name: resolve it through globals and the tensor methods.
            let name = String(cString: mer_tostring(L, i, nil))
            let parts = name.split(whereSeparator: { $0 == "." || $0 == ":" }).map(String.init)
            if name.hasPrefix("t:") || name.hasPrefix("tensor:"), parts.count == 2 {
                pushMethods(of: "tensor")
            } else if let first = parts.first {
                // Raw lookups: a script may give _G or a module a raising __index, and this
                // also runs for completion, outside any protected call.
                LuaVM.pushRawGlobal(L, first)
                for p in parts.dropFirst() {
                    guard lua_type(L, -1) == LUA_TTABLE else { break }
                    lua_pushstring(L, p)
                    lua_rawget(L, -2)
                    mer_remove(L, -2)
                }
            } else {
                lua_pushnil(L)
            }
            if parts.count == 2 && (name.hasPrefix("t:") || name.hasPrefix("tensor:")) {
                lua_pushstring(L, parts[1])
                lua_rawget(L, -2)
                mer_remove(L, -2)
            }
            defer { mer_pop(L, 1) }
            if lua_type(L, -1) == LUA_TNIL { return "help: no binding named '\(name)'" }
            return helpText(call, lua_gettop(L))
        }
        if let d = doc(at: i) { return d }
        if let typeName = call.userdataTypeName(i) {
            pushMethods(of: typeName)
            defer { mer_pop(L, 1) }
            let fields = reference.filter { $0.kind == .field && $0.name.hasPrefix((typePrefixes[typeName] ?? typeName) + ".") }
                .map { String($0.name.split(separator: ".").last!) }
            let article = "aeiou".contains(typeName.first ?? "x") ? "an" : "a"
            var header = "\(article) \(typeName)" + (fields.isEmpty ? "" : "; fields: \(fields.joined(separator: ", "))") + ". Methods:"
            if typeName == "module", let m = try? call.module(i) {
                header = "a module:\n\(m.description)\nFields: own parameters, buffers and children by name, m[i] the i-th child, m.training. Methods:"
            }
            if typeName == "tensor", let t = try? call.tensor(i) {
                header = "a tensor of shape \(t.shape)\(t.requiresGrad ? " (requires grad)" : ""); 1-based indexing t[i], #t, + - * / ^, tostring.\nFields: t.grad. Methods (help(\"t:name\") for one):"
            }
            return ([header] + compactColumns(methodNames(lua_gettop(L)))).joined(separator: "\n")
        }
        if let m = call.luaModule(i) {
            pushMethods(of: "module")
            defer { mer_pop(L, 1) }
            return (["a Lua-defined module (class \(m.typeName), from nn.Module:extend):", m.description,
                     "Methods (as every module, plus register_buffer):"] + compactColumns(methodNames(lua_gettop(L)))).joined(separator: "\n")
        }
        if lua_type(L, i) == LUA_TTABLE {
            let lines = summaries(ofTable: i, prefix: "")
            return lines.isEmpty ? "an empty table" : "a table of \(lines.count) entries:\n" + lines.joined(separator: "\n")
        }
        if lua_type(L, i) == LUA_TFUNCTION { return "a Lua function without help text" }
        // Only plain values are shown: converting others could run a __tostring that raises.
        switch lua_type(L, i) {
        case LUA_TNUMBER, LUA_TSTRING: return "a \(call.typeName(i)) value: \(String(cString: mer_tostring(L, i, nil)))"
        case LUA_TBOOLEAN: return "a boolean value: \(lua_toboolean(L, i) != 0)"
        default: return "a \(call.typeName(i)) value"
        }
    }

    func methodNames(_ index: Int32) -> [String] {
        let L = activeState
        var names: [String] = []
        let t = lua_absindex(L, index)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            if lua_type(L, -2) == LUA_TSTRING { names.append(String(cString: mer_tostring(L, -2, nil))) }
            mer_pop(L, 1)
        }
        return names.sorted()
    }

    func compactColumns(_ names: [String], width: Int = 88) -> [String] {
        let cell = (names.map(\.count).max() ?? 0) + 2
        let perLine = max(1, width / cell)
        return stride(from: 0, to: names.count, by: perLine).map { start in
            "  " + names[start..<min(names.count, start + perLine)].map { $0.padding(toLength: cell, withPad: " ", startingAt: 0) }.joined()
        }
    }
}
