import KafkaWireNIO
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Why a connection ended, recorded by its handler so that a request written after the handler is gone (the
/// channel closed first, e.g. on a failed TLS handshake) still fails with the real reason instead of hanging.
final class ConnectionFailure: Sendable {
    private let error = Mutex<KafkaAdminError?>(nil)

    func record(_ e: KafkaAdminError) { error.withLock { if $0 == nil { $0 = e } } }
    var recorded: KafkaAdminError? { error.withLock { $0 } }
}

/// One TCP (optionally TLS) connection to one broker, carrying pipelined requests. Set-up (ApiVersions, SASL)
/// is done by `NativeClient`; this type only moves frames.
final class KafkaConnection: Sendable {
    let channel: any Channel
    /// `host:port` as dialled.
    let peer: String
    private let failure: ConnectionFailure

    private init(channel: any Channel, peer: String, failure: ConnectionFailure) {
        self.channel = channel
        self.peer = peer
        self.failure = failure
    }

    var isActive: Bool { channel.isActive }

    /// Opens the TCP connection (and the TLS session, which completes with the first request). With
    /// `acceptingAnyCertificate`, the broker's certificate chain is recorded there instead of verified: for
    /// `TLSProbe` only, which never sends anything but ApiVersions on such a connection.
    static func open(
        host: String, port: Int, tls: NIOSSLContext?, verifyHostname: Bool, connectTimeout: Duration,
        group: any EventLoopGroup, acceptingAnyCertificate recorder: PeerChainRecorder? = nil
    ) async throws(KafkaAdminError) -> KafkaConnection {
        let peer = "\(host):\(port)"
        let failure = ConnectionFailure()
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(max(1, connectTimeout.milliseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls {
                        // SNI and the hostname check only take names; for an IP literal NIOSSL checks the
                        // certificate's IP SANs against the peer address instead.
                        let name = isIPLiteral(host) || !verifyHostname ? nil : host
                        if let recorder {
                            try sync.addHandler(
                                NIOSSLClientHandler(
                                    context: tls, serverHostname: isIPLiteral(host) ? nil : host,
                                    customVerificationCallback: { chain, promise in
                                        recorder.record(chain)
                                        promise.succeed(.certificateVerified)
                                    }))
                        } else {
                            try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                        }
                    }
                    try sync.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    try sync.addHandler(KafkaClientHandler(peer: peer, failure: failure))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return KafkaConnection(channel: channel, peer: peer, failure: failure)
        } catch {
            throw KafkaAdminError(
                .unreachable, "Could not connect to Kafka broker \(peer): \(Self.describe(error)).",
                brokerAddress: peer,
                isRetriable: true)
        }
    }

    /// Sends a complete frame (size prefix included, correlation id left 0) and returns the response frame,
    /// starting with its correlation id.
    func roundTrip(frame: [UInt8], apiName: String, timeout: Duration) async throws(KafkaAdminError) -> [UInt8] {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let request = OutboundRequest(
            frame: frame, apiName: apiName, timeout: .milliseconds(max(1, timeout.milliseconds)), promise: promise)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [failure, peer] _ in
            // Completing an already-completed promise is a no-op, so this only matters when the write never
            // reached the handler (it fails or times out every request it sees).
            promise.fail(
                failure.recorded
                    ?? KafkaAdminError(
                        .connectionClosed, "\(apiName) to \(peer) failed: the connection is closed.", isRetriable: true)
            )
        }
        channel.writeAndFlush(request, promise: written)
        do {
            var buffer = try await promise.futureResult.get()
            return buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch let e as KafkaAdminError {
            throw e
        } catch {
            throw KafkaAdminError(.connectionClosed, "\(apiName) to \(peer) failed: \(error).", isRetriable: true)
        }
    }

    func close() async {
        try? await channel.close()
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? KafkaAdminError { return e.message }
        // "connection refused", not NIO's "Connection errors: SingleConnectionFailure(target: …)".
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return describe(first.error) }
            if let dns = e.dnsAError ?? e.dnsAAAAError { return "its name does not resolve (\(dns))" }
        }
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        if error is ChannelError, case .connectTimeout(let t) = error as! ChannelError {
            return "no answer within \(KafkaClientHandler.describe(t))"
        }
        return "\(error)"
    }
}

func isIPLiteral(_ host: String) -> Bool {
    (try? SocketAddress(ipAddress: host, port: 0)) != nil
}

extension KafkaSecurity.TLS {
    /// Loads the CA, client certificate and key named by the configuration.
    func makeContext() throws(KafkaAdminError) -> NIOSSLContext {
        var c = TLSConfiguration.makeClientConfiguration()
        c.certificateVerification = verifyHostname ? .fullVerification : .noHostnameVerification
        do {
            if let caFile { c.trustRoots = .file(caFile) }
            if let certificateFile {
                c.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            }
            if let keyFile {
                if let keyPassword {
                    let key = try NIOSSLPrivateKey(file: keyFile, format: .pem) { setter in
                        setter(Array(keyPassword.utf8))
                    }
                    c.privateKey = .privateKey(key)
                } else {
                    c.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
                }
            }
            return try NIOSSLContext(configuration: c)
        } catch {
            throw KafkaAdminError(
                .invalidArgument,
                "The TLS files (CA \(caFile ?? "system"), certificate \(certificateFile ?? "none"), key "
                    + "\(keyFile ?? "none")) could not be loaded: \(error).")
        }
    }
}
