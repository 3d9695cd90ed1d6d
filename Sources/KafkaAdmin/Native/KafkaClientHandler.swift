import KafkaWireNIO
import NIOCore
import NIOSSL

/// One request on its way: a complete frame whose correlation id the handler fills in.
struct OutboundRequest: Sendable {
    /// Size prefix, request header and body, encoded with correlation id 0.
    var frame: [UInt8]
    var apiName: String
    var timeout: TimeAmount
    var promise: EventLoopPromise<ByteBuffer>
}

/// Pipelines requests over one connection: assigns correlation ids, matches responses to requests in any
/// order, fails each request on its own timeout, and fails everything in flight when the connection ends.
final class KafkaClientHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<ByteBuffer>
        var timeoutTask: Scheduled<Void>?
    }

    private var inFlight = CorrelationMap<Pending>()
    private let peer: String
    private var closedError: KafkaAdminError?
    private let failure: ConnectionFailure

    init(peer: String, failure: ConnectionFailure = ConnectionFailure()) {
        self.peer = peer
        self.failure = failure
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var request = unwrapOutboundIn(data)
        if let closedError {
            request.promise.fail(closedError)
            promise?.fail(closedError)
            return
        }
        guard request.frame.count >= 12 else {
            request.promise.fail(KafkaAdminError(.invalidArgument, "A \(request.apiName) frame is too short."))
            return
        }
        let id = inFlight.register(Pending(promise: request.promise, timeoutTask: nil))
        // The correlation id sits after size (4), api key (2) and api version (2) in every request header.
        withUnsafeBytes(of: id.bigEndian) { bytes in
            for i in 0..<4 { request.frame[8 + i] = bytes[i] }
        }
        let peer = self.peer
        let api = request.apiName
        let timeout = request.timeout
        let task = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            guard let self, let pending = self.inFlight.complete(id) else { return }
            pending.promise.fail(
                KafkaAdminError(
                    .timedOut, "\(api) to \(peer) got no answer within \(Self.describe(timeout)).",
                    isRetriable: true))
        }
        _ = inFlight.replace(id, Pending(promise: request.promise, timeoutTask: task))
        let buffer = context.channel.allocator.buffer(bytes: request.frame)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let id = frame.getInteger(at: frame.readerIndex, as: Int32.self) else {
            context.fireErrorCaught(
                KafkaAdminError(.protocolViolation, "\(peer) sent a response without a correlation id."))
            return
        }
        // A response after its request timed out is dropped: its caller has already been told.
        guard let pending = inFlight.complete(id) else { return }
        pending.timeoutTask?.cancel()
        pending.promise.succeed(frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let e: KafkaAdminError
        if let error = error as? KafkaAdminError {
            e = error
        } else if let error = error as? KafkaFrameError {
            e = KafkaAdminError(
                .protocolViolation, "\(peer) sent a frame of \(error.size) bytes, which is not a Kafka frame.")
        } else if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            e = KafkaAdminError(.tls, "TLS with \(peer) failed: \(error).")
        } else {
            e = KafkaAdminError(.connectionClosed, "The connection to \(peer) failed: \(error).", isRetriable: true)
        }
        failAll(e)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(KafkaAdminError(.connectionClosed, "\(peer) closed the connection.", isRetriable: true))
        context.fireChannelInactive()
    }

    private func failAll(_ error: KafkaAdminError) {
        if closedError == nil { closedError = error }
        failure.record(error)
        for p in inFlight.removeAll() {
            p.timeoutTask?.cancel()
            p.promise.fail(error)
        }
    }

    static func describe(_ t: TimeAmount) -> String {
        let ms = t.nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(ms) ms"
    }
}
