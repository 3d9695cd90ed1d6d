/// Size-prefixed Kafka frames: a 4-byte big-endian length, then header and body.
public enum KafkaFrame {
    /// A complete request frame, size prefix included.
    public static func request<R: KafkaRequest>(
        _ r: R, version: Int16, correlationId: Int32, clientId: String?
    ) throws(WireError) -> [UInt8] {
        let header = RequestHeader(
            apiKey: R.apiKey.rawValue, apiVersion: version, correlationId: correlationId, clientId: clientId)
        var writer = WireWriter()
        writer.write(int32: 0)
        try header.encode(
            to: &writer, headerVersion: RequestHeader.headerVersion(apiKey: R.apiKey, apiVersion: version))
        try r.encode(to: &writer, version: version)
        try patchSize(&writer)
        return writer.bytes
    }

    /// A complete response frame, size prefix included.
    public static func response<R: KafkaResponse>(_ r: R, version: Int16, correlationId: Int32) throws(WireError)
        -> [UInt8]
    {
        var writer = WireWriter()
        writer.write(int32: 0)
        try ResponseHeader(correlationId: correlationId).encode(
            to: &writer, headerVersion: ResponseHeader.headerVersion(apiKey: R.apiKey, apiVersion: version))
        try r.encode(to: &writer, version: version)
        try patchSize(&writer)
        return writer.bytes
    }

    private static func patchSize(_ writer: inout WireWriter) throws(WireError) {
        let size = writer.bytes.count - 4
        guard size <= Int(Int32.max) else { throw WireError("KafkaFrame: frame of \(size) bytes is too large") }
        let s = UInt32(size)
        writer.bytes[0] = UInt8(truncatingIfNeeded: s >> 24)
        writer.bytes[1] = UInt8(truncatingIfNeeded: s >> 16)
        writer.bytes[2] = UInt8(truncatingIfNeeded: s >> 8)
        writer.bytes[3] = UInt8(truncatingIfNeeded: s)
    }

    /// Decodes a response frame body (the frame without its size prefix): header, then the body, which must
    /// consume every byte.
    public static func decodeResponse<R: KafkaResponse>(_ type: R.Type, version: Int16, body: [UInt8])
        throws(WireError) -> (correlationId: Int32, response: R)
    {
        var reader = WireReader(body)
        let header = try ResponseHeader(
            from: &reader, headerVersion: ResponseHeader.headerVersion(apiKey: R.apiKey, apiVersion: version))
        let response = try R(from: &reader, version: version)
        guard reader.isAtEnd else {
            throw WireError("\(R.self) v\(version): \(reader.remaining) trailing bytes after the body")
        }
        return (header.correlationId, response)
    }

    /// Server side: reads the request header of a frame body (no size prefix). Decode the body with
    /// `XRequest(from:version:)` on a `WireReader(body, offset: bodyOffset)`. Throws for API keys Kafka lacks.
    public static func decodeRequestHeader(_ body: [UInt8]) throws(WireError) -> (
        header: RequestHeader, bodyOffset: Int
    ) {
        var peek = WireReader(body)
        let apiKey = try peek.readInt16("RequestHeader.apiKey")
        let apiVersion = try peek.readInt16("RequestHeader.apiVersion")
        guard let headerVersion = RequestHeader.headerVersion(apiKey: apiKey, apiVersion: apiVersion) else {
            throw WireError("RequestHeader.apiKey: unknown API key \(apiKey)")
        }
        var reader = WireReader(body)
        let header = try RequestHeader(from: &reader, headerVersion: headerVersion)
        return (header, reader.offset)
    }

    /// Decodes a whole request frame body whose type the caller knows.
    public static func decodeRequest<R: KafkaRequest>(_ type: R.Type, body: [UInt8]) throws(WireError)
        -> (header: RequestHeader, request: R)
    {
        let (header, offset) = try decodeRequestHeader(body)
        guard header.apiKey == R.apiKey.rawValue else {
            throw WireError("\(R.self): frame carries API key \(header.apiKey), not \(R.apiKey.rawValue)")
        }
        var reader = WireReader(body, offset: offset)
        let request = try R(from: &reader, version: header.apiVersion)
        guard reader.isAtEnd else {
            throw WireError("\(R.self) v\(header.apiVersion): \(reader.remaining) trailing bytes after the body")
        }
        return (header, request)
    }

    /// The length (size prefix included) of the complete frame starting at `offset`, or nil if `buffer` does not
    /// hold it all yet. Throws for a negative size or one above `maxSize`.
    public static func nextFrame(in buffer: [UInt8], maxSize: Int32, offset: Int = 0) throws(WireError) -> Int? {
        guard offset >= 0, buffer.count - offset >= 4 else { return nil }
        var size: Int32 = 0
        for i in 0..<4 { size = size << 8 | Int32(buffer[offset + i]) }
        guard size >= 0 else { throw WireError("KafkaFrame: negative frame size \(size)") }
        guard size <= maxSize else { throw WireError("KafkaFrame: frame size \(size) exceeds the maximum \(maxSize)") }
        let total = 4 + Int(size)
        return buffer.count - offset >= total ? total : nil
    }
}
