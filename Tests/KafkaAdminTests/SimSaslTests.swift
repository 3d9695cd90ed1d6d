import Crypto
import Foundation
import KafkaWire
import Testing

@testable import KafkaAdmin
@testable import KafkaSim

/// The simulator's server side of SASL (`SimSaslSession`) frame by frame, against Ballast's own SCRAM client:
/// what Kafka 4.x lets through before authentication, and its strict RFC 5802 nonce check, which refuses the
/// client-final message librdkafka before 2.6.1 sends (the client nonce twice, with a proof that is otherwise
/// right).
@Suite struct SimSaslTests {
    static let users = SimSaslUsers(passwords: ["ballast": "pw-123"])

    /// A request frame as the listener's frame decoder hands it over: without the size prefix.
    static func frame<R: KafkaRequest>(_ r: R, version: Int16, id: Int32 = 7) throws -> [UInt8] {
        Array(try KafkaFrame.request(r, version: version, correlationId: id, clientId: "test").dropFirst(4))
    }

    static func response<R: KafkaResponse>(_: R.Type, _ action: SimSaslSession.Action, version: Int16) throws -> R {
        let bytes: [UInt8]
        switch action {
        case .respond(let b), .respondAndClose(let b): bytes = b
        default: throw WireError("no answer: \(action)")
        }
        return try KafkaFrame.decodeResponse(R.self, version: version, body: Array(bytes.dropFirst(4))).response
    }

    static func handshake(_ session: inout SimSaslSession, _ mechanism: String) throws {
        let a = session.receive(try frame(SaslHandshakeRequest(mechanism: mechanism), version: 1))
        #expect(try response(SaslHandshakeResponse.self, a, version: 1).errorCode == 0)
    }

    static func authenticate(_ session: inout SimSaslSession, _ bytes: [UInt8]) throws -> SimSaslSession.Action {
        session.receive(try frame(SaslAuthenticateRequest(authBytes: bytes), version: 2))
    }

    @Test func beforeAuthenticationOnlyApiVersionsReachesTheClusterAndAnythingElseClosesTheConnection() throws {
        var session = SimSaslSession(users: Self.users)
        #expect(session.receive(try Self.frame(ApiVersionsRequest(), version: 3)) == .pass)
        #expect(session.receive(try Self.frame(MetadataRequest(topics: nil), version: 12)) == .close)
        var early = SimSaslSession(users: Self.users)
        #expect(try Self.authenticate(&early, Array("\0ballast\0pw-123".utf8)) == .close)
    }

    @Test func aMechanismTheListenerLacksIsRefusedWithTheOnesItOffersAndTheConnectionCloses() throws {
        var session = SimSaslSession(users: SimSaslUsers(passwords: ["u": "p"], mechanisms: ["SCRAM-SHA-512"]))
        let a = session.receive(try Self.frame(SaslHandshakeRequest(mechanism: "PLAIN"), version: 1))
        guard case .respondAndClose = a else { Issue.record("expected an answer and a close, got \(a)"); return }
        let r = try Self.response(SaslHandshakeResponse.self, a, version: 1)
        #expect(r.errorCode == KafkaErrorCode.unsupportedSaslMechanism.rawValue)
        #expect(r.mechanisms == ["SCRAM-SHA-512"])
    }

    @Test func plainWithTheRightPasswordAuthenticatesAndThenEveryRequestPasses() throws {
        var session = SimSaslSession(users: Self.users)
        try Self.handshake(&session, "PLAIN")
        let a = try Self.authenticate(&session, SaslPlain(username: "ballast", password: "pw-123").initialResponse)
        #expect(try Self.response(SaslAuthenticateResponse.self, a, version: 2).errorCode == 0)
        #expect(session.isAuthenticated)
        #expect(session.receive(try Self.frame(MetadataRequest(topics: nil), version: 12)) == .pass)
    }

    @Test func plainWithAWrongPasswordIsRefusedAsKafkaDoesAndTheConnectionCloses() throws {
        var session = SimSaslSession(users: Self.users)
        try Self.handshake(&session, "PLAIN")
        let a = try Self.authenticate(&session, SaslPlain(username: "ballast", password: "nope").initialResponse)
        guard case .respondAndClose = a else { Issue.record("expected an answer and a close, got \(a)"); return }
        let r = try Self.response(SaslAuthenticateResponse.self, a, version: 2)
        #expect(r.errorCode == KafkaErrorCode.saslAuthenticationFailed.rawValue)
        #expect(r.errorMessage == "Authentication failed: Invalid username or password")
    }

    @Test func scramWithBallastsClientAuthenticatesAndTheServerProvesItKnowsThePassword() throws {
        for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
            var session = SimSaslSession(users: Self.users)
            try Self.handshake(&session, mechanism)
            var client = ScramClient<SHA512>(username: "ballast", password: "pw-123", clientNonce: "cnonce-1")
            var client256 = ScramClient<SHA256>(username: "ballast", password: "pw-123", clientNonce: "cnonce-1")
            let first = mechanism == "SCRAM-SHA-512" ? client.clientFirstMessage() : client256.clientFirstMessage()
            let serverFirst = try Self.response(
                SaslAuthenticateResponse.self, try Self.authenticate(&session, first), version: 2
            ).authBytes
            let final =
                mechanism == "SCRAM-SHA-512"
                ? try client.clientFinalMessage(serverFirst: serverFirst)
                : try client256.clientFinalMessage(serverFirst: serverFirst)
            let r = try Self.response(SaslAuthenticateResponse.self, try Self.authenticate(&session, final), version: 2)
            #expect(r.errorCode == 0, "\(mechanism): \(r.errorMessage ?? "")")
            if mechanism == "SCRAM-SHA-512" {
                try client.verifyServerFinal(r.authBytes)
            } else {
                try client256.verifyServerFinal(r.authBytes)
            }
            #expect(session.isAuthenticated)
        }
    }

    /// librdkafka < 2.6.1 builds `c=biws,r=<client nonce><server nonce>` where the server nonce already starts with
    /// the client nonce, and signs that message correctly: only the nonce is wrong.
    @Test func scramWithTheClientNonceSentTwiceIsRefusedWithTheRightPassword() throws {
        var session = SimSaslSession(users: Self.users)
        try Self.handshake(&session, "SCRAM-SHA-512")
        let clientNonce = "cnonce-2"
        let bare = "n=ballast,r=\(clientNonce)"
        let serverFirstBytes = try Self.response(
            SaslAuthenticateResponse.self, try Self.authenticate(&session, Array("n,,\(bare)".utf8)), version: 2
        ).authBytes
        let serverFirst = String(decoding: serverFirstBytes, as: UTF8.self)
        let attributes = ScramClient<SHA512>.attributes(serverFirst)
        let serverNonce = try #require(attributes["r"])
        #expect(serverNonce.hasPrefix(clientNonce))
        let saltText = try #require(attributes["s"])
        let salt = try #require(Data(base64Encoded: saltText))
        let withoutProof = "c=biws,r=\(clientNonce)\(serverNonce)"
        let salted = ScramClient<SHA512>.hi(password: Array("pw-123".utf8), salt: Array(salt), iterations: 4096)
        let clientKey = Array(
            HMAC<SHA512>.authenticationCode(for: Array("Client Key".utf8), using: .init(data: salted)))
        let storedKey = Array(SHA512.hash(data: clientKey))
        let authMessage = Array("\(bare),\(serverFirst),\(withoutProof)".utf8)
        let signature = Array(HMAC<SHA512>.authenticationCode(for: authMessage, using: .init(data: storedKey)))
        let proof = Data(zip(clientKey, signature).map { $0 ^ $1 }).base64EncodedString()
        let a = try Self.authenticate(&session, Array("\(withoutProof),p=\(proof)".utf8))
        guard case .respondAndClose = a else { Issue.record("expected an answer and a close, got \(a)"); return }
        let r = try Self.response(SaslAuthenticateResponse.self, a, version: 2)
        #expect(r.errorCode == KafkaErrorCode.saslAuthenticationFailed.rawValue)
        #expect(
            r.errorMessage
                == "Authentication failed during authentication due to invalid credentials with SASL mechanism "
                + "SCRAM-SHA-512")
        #expect(!session.isAuthenticated)
    }

    @Test func theUsersFileNamesTheBadLineAndNeverThePassword() throws {
        #expect(throws: Never.self) { try SimSaslUsers(parsing: "# users\n\na:b:c\n", fileName: "u") }
        #expect(try SimSaslUsers(parsing: "a:b:c\n", fileName: "u").passwords == ["a": "b:c"])
        #expect {
            try SimSaslUsers(parsing: "a:1\nsecretpw\n", fileName: "users.txt")
        } throws: { "\($0)" == "users.txt line 2 is not user:password" }
        #expect { try SimSaslUsers(parsing: "a:1\na:2\n", fileName: "u") } throws: {
            "\($0)".contains("repeats user 'a'")
        }
    }
}
