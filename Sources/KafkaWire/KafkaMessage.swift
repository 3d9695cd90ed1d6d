/// A Kafka request or response body, generated from Kafka's JSON message definitions.
public protocol KafkaMessage: Sendable, Equatable {
    static var apiKey: ApiKey { get }
    static var validVersions: ClosedRange<Int16> { get }
    static func isFlexible(version: Int16) -> Bool
    /// Throws when `version` is not valid, or when a field holds a non-default value that `version` cannot carry
    /// and the field is not ignorable.
    func encode(to writer: inout WireWriter, version: Int16) throws(WireError)
    init(from reader: inout WireReader, version: Int16) throws(WireError)
}

public protocol KafkaRequest: KafkaMessage {
    associatedtype Response: KafkaResponse
}

public protocol KafkaResponse: KafkaMessage {}

extension KafkaMessage {
    /// The body alone (no header, no size prefix).
    public func encoded(version: Int16) throws(WireError) -> [UInt8] {
        var writer = WireWriter()
        try encode(to: &writer, version: version)
        return writer.bytes
    }

    /// Decodes a body that must be consumed exactly.
    public init(decoding bytes: [UInt8], version: Int16) throws(WireError) {
        var reader = WireReader(bytes)
        try self.init(from: &reader, version: version)
        guard reader.isAtEnd else {
            throw WireError("\(Self.self) v\(version): \(reader.remaining) trailing bytes after the body")
        }
    }
}
