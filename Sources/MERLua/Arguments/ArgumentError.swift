/// A binding's complaint about how it was called, as data (lauxlib's `luaL_argerror`): the
/// function, the argument as the stack holds it, where inside that argument (an option, an
/// element), and what was wrong. The message is formatted once, when the error reaches Lua,
/// so readers can re-place an error (a value read as option 'stride' rather than as an
/// argument) without rewording text.
struct ArgumentError: Error, CustomStringConvertible {
    /// The binding's full name (`tensor.reshape`).
    var function: String
    /// Whether stack slot 1 is `self` (then it is not counted, and a bad `self` is a call
    /// made with '.' instead of ':').
    var isMethod: Bool
    /// The stack slot of the argument; nil when the complaint is about the call as a whole.
    var argument: Int32?
    /// Qualifiers inside the argument, outermost first: `option 'padding'`, `element 2`.
    var path: [String] = []
    var detail: String

    /// The argument as the user numbers it (1 = the first after `self` for methods).
    var position: Int32? { argument.map { isMethod ? $0 - 1 : $0 } }

    var description: String {
        if isMethod && argument == 1 && path.isEmpty {
            return "\(function): \(detail) (call it with ':' on the object)"
        }
        var parts = [function]
        if let p = position { parts.append("argument \(p)") }
        return (parts + path + [detail]).joined(separator: ": ")
    }

    /// The same complaint, located inside argument `slot` under `qualifier` (an option's
    /// name, a field of a table): what was read as a value on its own is part of a bigger one.
    func within(_ slot: Int32?, _ qualifier: String) -> ArgumentError {
        var e = self
        e.argument = slot
        e.path = [qualifier] + path
        return e
    }
}
