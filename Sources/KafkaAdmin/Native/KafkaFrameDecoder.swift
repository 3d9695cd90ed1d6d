import NIOCore

/// Splits the byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes. Emits the
/// frame without its size prefix. A negative or oversized size is a protocol error that closes the
/// connection (a TLS or HTTP server answering on a Kafka port shows up here).
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Kafka's own default for `socket.request.max.bytes` is 100 MiB; responses are bounded the same way.
    var maxFrameSize: Int32 = 100 * 1024 * 1024

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, size <= maxFrameSize else {
            throw KafkaAdminError(
                .protocolViolation, "The peer sent a frame of \(size) bytes, which is not a Kafka frame.")
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(size))!))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// In-flight requests by correlation id. Pure bookkeeping; the channel handler owns one.
struct CorrelationMap<Value> {
    private var pending: [Int32: Value] = [:]
    private var next: Int32 = 1

    var count: Int { pending.count }

    /// The next id; wraps to 1 after Int32.max, skipping ids still in flight.
    mutating func register(_ value: Value) -> Int32 {
        var id = next
        while pending[id] != nil { id = id == Int32.max ? 1 : id + 1 }
        next = id == Int32.max ? 1 : id + 1
        pending[id] = value
        return id
    }

    mutating func complete(_ id: Int32) -> Value? { pending.removeValue(forKey: id) }

    mutating func replace(_ id: Int32, _ value: Value) -> Bool {
        let existed = pending[id] != nil
        pending[id] = value
        return existed
    }

    mutating func removeAll() -> [Value] {
        defer { pending.removeAll() }
        return pending.sorted { $0.key < $1.key }.map(\.value)
    }
}
