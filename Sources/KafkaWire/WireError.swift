/// A truncated, malformed or unencodable Kafka message. The message names the field at fault.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "WireError: \(message)" }
}
