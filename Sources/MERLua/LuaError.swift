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
