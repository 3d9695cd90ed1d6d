public import NIOCore

/// Splits a byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes. Emits each frame
/// without its size prefix. A negative size, or one above the limit, throws `KafkaFrameError`: the connection is
/// closed, as Kafka's `socket.request.max.bytes` check does (a TLS or HTTP peer on a Kafka port shows up here).
/// The admin client and the simulator both frame with it.
public struct KafkaFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// Kafka's default `socket.request.max.bytes` is 100 MiB; responses are bounded the same way.
    public static let defaultMaxSize: Int32 = 100 * 1024 * 1024

    public let maxSize: Int32

    public init(maxSize: Int32 = KafkaFrameDecoder.defaultMaxSize) {
        self.maxSize = maxSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, size <= maxSize else { throw KafkaFrameError(size: size, maxSize: maxSize) }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(size))!))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// A frame size that no Kafka peer sends: negative, or above the limit.
public struct KafkaFrameError: Error, Sendable, Hashable, CustomStringConvertible {
    public var size: Int32
    public var maxSize: Int32

    public var description: String {
        "the peer sent a frame of \(size) bytes, which is not a Kafka frame (the limit is \(maxSize) bytes)"
    }
}
