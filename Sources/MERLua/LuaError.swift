/// A script-facing error: its message is what the Lua caller sees (after `file:line:`).
public struct LuaError: Error, CustomStringConvertible {
    public let message: String
    /// True when the Lua error value is already on the stack (e.g. an error raised by a
    /// Lua callback run from a binding) and must be re-raised unchanged.
    let valueOnStack: Bool

    public init(_ message: String) { self.message = message; valueOnStack = false }
    init(propagatingValueOnStack message: String) { self.message = message; valueOnStack = true }

    public var description: String { message }
}
