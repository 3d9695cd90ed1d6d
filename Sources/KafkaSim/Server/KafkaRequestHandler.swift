import NIOCore

/// What the request handler does with one frame.
public enum KafkaReply: Sendable, Equatable {
    /// Write this frame (size prefix included).
    case respond([UInt8])
    /// Send nothing (Produce with acks=0).
    case noResponse
    /// Close the connection (what Kafka does on a request it cannot parse).
    case close
    /// Answer later: the request waits for the cluster (a Fetch for data, a JoinGroup for the rebalance). Like
    /// Kafka, the connection serves nothing else meanwhile.
    case deferred(KafkaDeferredReply)
}

/// A reply that waits for the cluster. `poll` runs under the engine lock whenever the cluster may have changed
/// (after a Produce or a group request, and on every tick) and returns the encoder once the answer is ready; the
/// encoding runs outside the lock.
public final class KafkaDeferredReply: Sendable, Equatable {
    public typealias Poll = @Sendable (inout SimCluster) -> (@Sendable () -> KafkaReply)?
    let simulator: KafkaSimulator
    let poll: Poll

    public init(simulator: KafkaSimulator, poll: @escaping Poll) {
        self.simulator = simulator
        self.poll = poll
    }

    /// Calls `done`, on some thread, with the reply once it is ready.
    public func wait(_ done: @escaping @Sendable (KafkaReply) -> Void) {
        simulator.addWaiter(poll, done)
    }

    public static func == (a: KafkaDeferredReply, b: KafkaDeferredReply) -> Bool { a === b }
}

/// Answers one request frame received by node `node` (the frame without its size prefix).
public typealias KafkaResponder = @Sendable (_ node: Int32, _ frame: [UInt8]) -> KafkaReply

/// Hands each frame to the responder on the event loop and writes the answers in order. While a deferred answer
/// waits, later frames queue (Kafka mutes a connection until it has answered its request).
final class KafkaRequestHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let node: Int32
    let responder: KafkaResponder
    var waiting = false
    var active = true
    var queued = CircularBuffer<ByteBuffer>()

    init(node: Int32, responder: @escaping KafkaResponder) {
        self.node = node
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if waiting {
            queued.append(buffer)
        } else {
            handle(context: context, buffer)
        }
    }

    func handle(context: ChannelHandlerContext, _ buffer: ByteBuffer) {
        var buffer = buffer
        let frame = buffer.readBytes(length: buffer.readableBytes) ?? []
        let reply = responder(node, frame)
        guard case .deferred(let later) = reply else {
            send(context: context, reply)
            return
        }
        waiting = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        later.wait { reply in
            loop.execute {
                let (handler, context) = bound.value
                handler.finish(context: context, reply)
            }
        }
    }

    func send(context: ChannelHandlerContext, _ reply: KafkaReply) {
        switch reply {
        case .respond(let bytes):
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        case .noResponse, .deferred:
            break
        case .close:
            context.close(promise: nil)
        }
    }

    func finish(context: ChannelHandlerContext, _ reply: KafkaReply) {
        guard active else { return }
        waiting = false
        send(context: context, reply)
        while active && !waiting, let next = queued.popFirst() { handle(context: context, next) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        queued.removeAll()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        active = false
        queued.removeAll()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
