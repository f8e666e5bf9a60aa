import MERTensor

/// One example: the preprocessed input and its metadata.
public struct Sample {
    /// Input, (C,H,W).
    public var x: Tensor
    /// Class index, 0-based (the Lua layer adds 1).
    public var label: Int
    public var subject: String
    /// Stable identifier, e.g. `sub01/EP02_01f`.
    public var id: String

    public init(x: Tensor, label: Int, subject: String, id: String) {
        self.x = x; self.label = label; self.subject = subject; self.id = id
    }
}
