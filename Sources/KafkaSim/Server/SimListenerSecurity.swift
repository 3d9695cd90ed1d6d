import NIOCore
public import NIOSSL

/// How the simulated brokers' listeners are secured: TLS (optionally requiring a client certificate) and SASL.
/// The four combinations are Kafka's PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL; every node's one listener
/// uses the same.
public struct SimListenerSecurity: Sendable {
    public var tls: NIOSSLContext?
    public var sasl: SimSaslUsers?

    public init(tls: NIOSSLContext? = nil, sasl: SimSaslUsers? = nil) {
        self.tls = tls
        self.sasl = sasl
    }

    /// Kafka's name for the listener's security protocol.
    public var protocolName: String {
        switch (tls != nil, sasl != nil) {
        case (false, false): "PLAINTEXT"
        case (true, false): "SSL"
        case (false, true): "SASL_PLAINTEXT"
        case (true, true): "SASL_SSL"
        }
    }

    /// A server TLS context from PEM files. With `clientCAFile`, a client must present a certificate that CA
    /// signed (Kafka's `ssl.client.auth=required`). Errors name the file.
    public static func tlsContext(certificateFile: String, keyFile: String, clientCAFile: String? = nil)
        throws(SimTopologyError) -> NIOSSLContext
    {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(certificateFile) } catch {
            throw SimTopologyError("the TLS certificate file \(certificateFile) could not be read as PEM: \(error)")
        }
        guard !chain.isEmpty else { throw SimTopologyError("the TLS certificate file \(certificateFile) holds none") }
        do { key = try NIOSSLPrivateKey(file: keyFile, format: .pem) } catch {
            throw SimTopologyError("the TLS key file \(keyFile) could not be read as a PEM private key: \(error)")
        }
        var c = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        if let clientCAFile {
            do { _ = try NIOSSLCertificate.fromPEMFile(clientCAFile) } catch {
                throw SimTopologyError("the client CA file \(clientCAFile) could not be read as PEM: \(error)")
            }
            c.certificateVerification = .noHostnameVerification
            c.trustRoots = .file(clientCAFile)
        }
        do { return try NIOSSLContext(configuration: c) } catch {
            throw SimTopologyError(
                "the TLS certificate \(certificateFile) and key \(keyFile) do not make a TLS context: \(error)")
        }
    }
}

/// Runs one connection's SASL exchange in front of the request handler (`SimSaslSession`); once the client has
/// authenticated, frames pass straight through.
final class SaslServerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var session: SimSaslSession

    init(users: SimSaslUsers) { session = SimSaslSession(users: users) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if session.isAuthenticated {
            context.fireChannelRead(data)
            return
        }
        let buffer = unwrapInboundIn(data)
        let frame = Array(buffer.readableBytesView)
        switch session.receive(frame) {
        case .pass:
            context.fireChannelRead(data)
        case .respond(let bytes):
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
        case .respondAndClose(let bytes):
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: written)
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in loopBound.value.close(promise: nil) }
        case .close:
            context.close(promise: nil)
        }
    }
}
