import CLua
import CLuaBridge

/// Tab completion for the REPL: globals and keywords for a bare word, fields after `.`,
/// methods after `:` — resolved by raw lookups only, so completing never runs user code.
extension LuaVM {
    static let keywords = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
                           "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"]

    public func completions(for text: String) -> [String] {
        let separators: Set<Character> = [".", ":"]
        guard let sepIndex = text.lastIndex(where: { separators.contains($0) }) else {
            var names = keys(ofGlobalPath: []) + LuaVM.keywords
            names = names.filter { $0.hasPrefix(text) }
            return Array(Set(names)).sorted()
        }
        let path = text[..<sepIndex].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let sep = text[sepIndex]
        let partial = String(text[text.index(after: sepIndex)...])
        guard path.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }) else { return [] }
        let onlyFunctions = sep == ":"
        let head = String(text[...sepIndex])
        return keys(ofGlobalPath: path, onlyFunctions: onlyFunctions)
            .filter { $0.hasPrefix(partial) && !$0.hasPrefix("__") }
            .sorted()
            .map { head + $0 }
    }

    /// Keys of the value at `_G.path[1].path[2]…`; for userdata, its methods table.
    func keys(ofGlobalPath path: [String], onlyFunctions: Bool = false) -> [String] {
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        mer_pushglobaltable(L)
        for p in path {
            switch lua_type(L, -1) {
            case LUA_TTABLE:
                lua_pushstring(L, p)
                lua_rawget(L, -2)
            case LUA_TUSERDATA:
                return []
            default:
                return []
            }
        }
        if lua_type(L, -1) == LUA_TUSERDATA {
            guard lua_getmetatable(L, -1) != 0 else { return [] }
            lua_pushstring(L, "methods")
            lua_rawget(L, -2)
        }
        guard lua_type(L, -1) == LUA_TTABLE else { return [] }
        var names: [String] = []
        let t = lua_gettop(L)
        lua_pushnil(L)
        while lua_next(L, t) != 0 {
            if lua_type(L, -2) == LUA_TSTRING && (!onlyFunctions || lua_type(L, -1) == LUA_TFUNCTION) {
                names.append(String(cString: mer_tostring(L, -2, nil)))
            }
            mer_pop(L, 1)
        }
        return names
    }
}
