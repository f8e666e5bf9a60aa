/// A script-facing error: its message is what the Lua caller sees (after `file:line:`).
public struct LuaError: Error, CustomStringConvertible {
    public let message: String
    /// True when the Lua error value is already on the stack (e.g. an error raised by a
    /// Lua callback run from a binding) and must be re-raised unchanged.
    let valueOnStack: Bool
    /// True when `message` already names the Lua file:line it came from (an error raised
    /// by Lua code that Swift called, such as a Lua module's forward); it is not prefixed again.
    let located: Bool

    public init(_ message: String) { self.message = message; valueOnStack = false; located = false }
    init(propagatingValueOnStack message: String) { self.message = message; valueOnStack = true; located = false }
    init(located message: String) { self.message = message; valueOnStack = false; located = true }

    public var description: String { message }
}

/// The message a Swift error shows in Lua. Argument errors and `LuaError`s are complete;
/// an engine error names its operation first (`reshape: …` or `image.resize: …`, from
/// `TensorError` and its siblings), and that operation is the binding, so the binding's
/// full name replaces it (`tensor.reshape: …`) rather than repeating it.
func luaMessage(for error: Error, in name: String) -> String {
    if let e = error as? ArgumentError { return e.description }
    if let e = error as? LuaError { return e.message }
    var text = "\(error)"
    let short = name.split(separator: ".").last.map(String.init) ?? name
    for prefix in [name, short] where text.hasPrefix(prefix + ": ") {
        text.removeFirst(prefix.count + 2)
        break
    }
    return "\(name): \(text)"
}
