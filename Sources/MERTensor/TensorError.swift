/// The one error type of the tensor engine. The message names the operation and what was
/// wrong (`reshape: shape [3, 5] has 15 elements, tensor has 16`); the Lua layer adds the
/// binding's name and argument position in front of it. Dimensions in messages are
/// numbered from 1, as the Lua API numbers them (a shape's first size is dimension 1),
/// whatever 0-based axis a Swift caller passed.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

@inline(__always)
func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw TensorError(message()) }
}

func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
