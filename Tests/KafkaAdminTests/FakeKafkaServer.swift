import Crypto
import Foundation
import KafkaModel
import KafkaWire
import KafkaWireNIO
import NIOCore
import NIOPosix
import NIOSSL

@testable import KafkaAdmin

/// An in-process Kafka-speaking server on 127.0.0.1:0: ApiVersions, SASL (PLAIN and SCRAM-SHA-256/512 with
/// the server side of RFC 5802) and a one-broker Metadata. For testing the native connection's set-up.
final class FakeKafkaServer: Sendable {
    struct Options: Sendable {
        var mechanisms: [String] = []
        var username = "admin"
        var password = "secret"
        /// Highest ApiVersions version answered; v3 requests above it get UNSUPPORTED_VERSION in v0 format.
        var maxApiVersionsVersion: Int16 = 3
        /// Metadata answered this long after it arrived (to test timeouts).
        var metadataDelay: TimeAmount = .zero
        /// Serve TLS with this context.
        var tls: NIOSSLContext?
    }

    let channel: any Channel
    var port: Int { channel.localAddress!.port! }
    var bootstrap: String { "127.0.0.1:\(port)" }

    init(_ options: Options = Options()) async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = options.tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FakeKafkaHandler(options: options))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }
}

private final class FakeKafkaHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let options: FakeKafkaServer.Options
    var mechanism: String?
    var scramState: (clientFirstBare: String, serverFirst: String, salt: [UInt8])?

    init(options: FakeKafkaServer.Options) { self.options = options }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        let body = buffer.readBytes(length: buffer.readableBytes)!
        do {
            let (header, _) = try KafkaFrame.decodeRequestHeader(body)
            let frame = try answer(header, body)
            let write = {
                context.writeAndFlush(
                    self.wrapOutboundOut(context.channel.allocator.buffer(bytes: frame)), promise: nil)
            }
            if header.apiKey == ApiKey.metadata.rawValue && options.metadataDelay != .zero {
                context.eventLoop.assumeIsolated().scheduleTask(in: options.metadataDelay) { write() }
            } else {
                write()
            }
        } catch {
            context.close(promise: nil)
        }
    }

    private func answer(_ header: RequestHeader, _ body: [UInt8]) throws -> [UInt8] {
        let v = header.apiVersion
        let id = header.correlationId
        switch ApiKey(rawValue: header.apiKey) {
        case .apiVersions:
            let keys: [(ApiKey, ClosedRange<Int16>)] = [
                (.apiVersions, 0...options.maxApiVersionsVersion), (.saslHandshake, 0...1),
                (.saslAuthenticate, 0...2), (.metadata, 0...12),
            ]
            var r = ApiVersionsResponse(
                apiKeys: keys.map {
                    .init(apiKey: $0.0.rawValue, minVersion: $0.1.lowerBound, maxVersion: $0.1.upperBound)
                })
            if v > options.maxApiVersionsVersion {
                r.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
                return try KafkaFrame.response(r, version: 0, correlationId: id)
            }
            return try KafkaFrame.response(r, version: v, correlationId: id)
        case .saslHandshake:
            let (_, req) = try KafkaFrame.decodeRequest(SaslHandshakeRequest.self, body: body)
            var r = SaslHandshakeResponse(mechanisms: options.mechanisms)
            if options.mechanisms.contains(req.mechanism) {
                mechanism = req.mechanism
            } else {
                r.errorCode = KafkaErrorCode.unsupportedSaslMechanism.rawValue
            }
            return try KafkaFrame.response(r, version: v, correlationId: id)
        case .saslAuthenticate:
            let (_, req) = try KafkaFrame.decodeRequest(SaslAuthenticateRequest.self, body: body)
            var r = SaslAuthenticateResponse()
            switch authenticate(req.authBytes) {
            case .success(let bytes): r.authBytes = bytes
            case .failure:
                r.errorCode = KafkaErrorCode.saslAuthenticationFailed.rawValue
                r.errorMessage = "Authentication failed: Invalid username or password"
            }
            return try KafkaFrame.response(r, version: v, correlationId: id)
        case .metadata:
            let r = MetadataResponse(
                brokers: [.init(nodeId: 1, host: "127.0.0.1", port: 9092, rack: "az-a")], clusterId: "fake",
                controllerId: 1, topics: [])
            return try KafkaFrame.response(r, version: v, correlationId: id)
        default:
            throw WireError("unexpected API \(header.apiKey)")
        }
    }

    struct Refused: Error {}

    private func authenticate(_ bytes: [UInt8]) -> Result<[UInt8], Refused> {
        switch mechanism {
        case "PLAIN":
            let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            return parts == ["", options.username, options.password] ? .success([]) : .failure(Refused())
        case "SCRAM-SHA-256": return scram(SHA256.self, bytes)
        case "SCRAM-SHA-512": return scram(SHA512.self, bytes)
        default: return .failure(Refused())
        }
    }

    private func scram<H: HashFunction>(_: H.Type, _ bytes: [UInt8]) -> Result<[UInt8], Refused> {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let state = scramState else {
            // client-first: n,,n=user,r=nonce
            guard text.hasPrefix("n,,") else { return .failure(Refused()) }
            let bare = String(text.dropFirst(3))
            let attrs = ScramClient<H>.attributes(bare)
            guard attrs["n"] == options.username, let nonce = attrs["r"] else { return .failure(Refused()) }
            let salt: [UInt8] = Array("fake-salt".utf8)
            let serverFirst = "r=\(nonce)server,s=\(Data(salt).base64EncodedString()),i=4096"
            scramState = (bare, serverFirst, salt)
            return .success(Array(serverFirst.utf8))
        }
        let attrs = ScramClient<H>.attributes(text)
        guard let proofB64 = attrs["p"], let proof = Data(base64Encoded: proofB64),
            let withoutProof = text.range(of: ",p=").map({ String(text[..<$0.lowerBound]) })
        else { return .failure(Refused()) }
        let salted = ScramClient<H>.hi(password: Array(options.password.utf8), salt: state.salt, iterations: 4096)
        let key = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<H>.authenticationCode(for: Array("Client Key".utf8), using: key))
        let storedKey = Array(H.hash(data: clientKey))
        let authMessage = Array("\(state.clientFirstBare),\(state.serverFirst),\(withoutProof)".utf8)
        let signature = Array(HMAC<H>.authenticationCode(for: authMessage, using: SymmetricKey(data: storedKey)))
        guard zip(clientKey, signature).map({ $0 ^ $1 }) == Array(proof) else { return .failure(Refused()) }
        let serverKey = Array(HMAC<H>.authenticationCode(for: Array("Server Key".utf8), using: key))
        let serverSignature = HMAC<H>.authenticationCode(for: authMessage, using: SymmetricKey(data: serverKey))
        return .success(Array("v=\(Data(serverSignature).base64EncodedString())".utf8))
    }
}
