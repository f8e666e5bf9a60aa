/// An error from a data loader: a sheet, a frame, a split. The message names the file,
/// row, column or sample it is about.
public struct DataError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
