import NIOCore

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
