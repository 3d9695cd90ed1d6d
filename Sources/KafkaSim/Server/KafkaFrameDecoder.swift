import NIOCore

/// Splits the byte stream into Kafka request frames (4-byte big-endian size, then the request). A negative
/// size, or one above the limit, is a protocol violation: the connection is closed, as Kafka's
/// `socket.request.max.bytes` check does.
struct KafkaFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    /// Kafka's default `socket.request.max.bytes` is 100 MiB.
    static let defaultMaxSize: Int32 = 100 * 1024 * 1024

    struct OversizedFrame: Error, Sendable {
        var size: Int32
    }

    let maxSize: Int32

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return .needMoreData }
        guard size >= 0, size <= maxSize else { throw OversizedFrame(size: size) }
        guard buffer.readableBytes >= 4 + Int(size) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        let frame = buffer.readSlice(length: Int(size))!
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        try decode(context: context, buffer: &buffer)
    }
}

/// What the request handler does with one frame.
public enum KafkaReply: Sendable, Equatable {
    /// Write this frame (size prefix included).
    case respond([UInt8])
    /// Send nothing (Produce with acks=0).
    case noResponse
    /// Close the connection (what Kafka does on a request it cannot parse).
    case close
}

/// Answers one request frame received by node `node` (the frame without its size prefix).
public typealias KafkaResponder = @Sendable (_ node: Int32, _ frame: [UInt8]) -> KafkaReply

/// Hands each frame to the responder on the event loop and writes the answer in order.
final class KafkaRequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let node: Int32
    let responder: KafkaResponder

    init(node: Int32, responder: @escaping KafkaResponder) {
        self.node = node
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let frame = buffer.readBytes(length: buffer.readableBytes) ?? []
        switch responder(node, frame) {
        case .respond(let bytes):
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        case .noResponse:
            break
        case .close:
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
