import Crypto
import Foundation
import KafkaWire

/// The users of a simulated SASL listener and the mechanisms it enables. Like Kafka, which stores a salted SCRAM
/// credential per user and mechanism (`kafka-configs.sh --alter --add-config SCRAM-SHA-512=[...]`), the SCRAM keys
/// are derived once here, not at every login.
public struct SimSaslUsers: Sendable, Hashable {
    public static let allMechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

    /// user → password (PLAIN checks it).
    public let passwords: [String: String]
    /// Kafka's `sasl.enabled.mechanisms`, in the order the listener offers them.
    public let mechanisms: [String]
    /// mechanism → user → stored SCRAM credential.
    let scram: [String: [String: ScramCredential]]

    public init(passwords: [String: String], mechanisms: [String] = SimSaslUsers.allMechanisms) {
        self.passwords = passwords
        self.mechanisms = mechanisms
        var scram: [String: [String: ScramCredential]] = [:]
        for mechanism in mechanisms where mechanism.hasPrefix("SCRAM-") {
            for (user, password) in passwords {
                scram[mechanism, default: [:]][user] = ScramCredential(mechanism: mechanism, password: password)
            }
        }
        self.scram = scram
    }

    /// A users file: one `user:password` per line (the password is everything after the first colon); blank
    /// lines and lines starting with `#` are skipped. Errors name the line, never the password.
    public init(parsing text: String, fileName: String, mechanisms: [String] = SimSaslUsers.allMechanisms)
        throws(SimTopologyError)
    {
        var passwords: [String: String] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw SimTopologyError("\(fileName) line \(i + 1) is not user:password")
            }
            let user = String(line[..<colon])
            guard passwords[user] == nil else {
                throw SimTopologyError("\(fileName) line \(i + 1) repeats user '\(user)'")
            }
            passwords[user] = String(line[line.index(after: colon)...])
        }
        guard !passwords.isEmpty else { throw SimTopologyError("\(fileName) names no user") }
        guard !mechanisms.isEmpty else { throw SimTopologyError("no SASL mechanism is enabled") }
        for m in mechanisms where !Self.allMechanisms.contains(m) {
            throw SimTopologyError("SASL mechanism '\(m)' is not one of \(Self.allMechanisms.joined(separator: ", "))")
        }
        self.init(passwords: passwords, mechanisms: mechanisms)
    }
}

/// What Kafka stores for a SCRAM user (RFC 5802): salt, iterations, StoredKey and ServerKey — not the password.
struct ScramCredential: Sendable, Hashable {
    var salt: [UInt8]
    var iterations: Int
    var storedKey: [UInt8]
    var serverKey: [UInt8]

    /// SCRAM's iteration count: Kafka's minimum for SHA-256 and SHA-512.
    static let iterations = 4096

    init(mechanism: String, password: String, salt: [UInt8] = (0..<18).map { _ in UInt8.random(in: 0...255) }) {
        self.salt = salt
        iterations = Self.iterations
        (storedKey, serverKey) =
            mechanism == "SCRAM-SHA-256"
            ? Self.keys(SHA256.self, password: password, salt: salt, iterations: iterations)
            : Self.keys(SHA512.self, password: password, salt: salt, iterations: iterations)
    }

    static func keys<H: HashFunction>(_: H.Type, password: String, salt: [UInt8], iterations: Int) -> (
        [UInt8], [UInt8]
    ) {
        let key = SymmetricKey(data: hi(H.self, password: Array(password.utf8), salt: salt, iterations: iterations))
        let clientKey = Array(HMAC<H>.authenticationCode(for: Array("Client Key".utf8), using: key))
        return (
            Array(H.hash(data: clientKey)), Array(HMAC<H>.authenticationCode(for: Array("Server Key".utf8), using: key))
        )
    }

    /// RFC 5802 Hi(): PBKDF2 with HMAC-H, one output block.
    static func hi<H: HashFunction>(_: H.Type, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var u = Array(HMAC<H>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = u
        for _ in 1..<iterations {
            u = Array(HMAC<H>.authenticationCode(for: u, using: key))
            for i in 0..<result.count { result[i] ^= u[i] }
        }
        return result
    }
}

/// One connection's SASL exchange on a SASL listener, as Kafka 4.x runs it (`SaslServerAuthenticator`):
/// ApiVersions and SaslHandshake v1 before authentication, then SaslAuthenticate rounds; any other request
/// before authentication closes the connection, and so does a failed authentication, right after its answer.
/// SCRAM (RFC 5802) checks the client-final nonce strictly: it must equal the server's nonce, which Kafka 4.x
/// enforces and librdkafka before 2.6.1 violates by sending the client nonce twice (confluentinc/librdkafka#4895).
/// Pure: frames in, actions out; the channel handler does the I/O.
struct SimSaslSession: Sendable {
    enum Action: Sendable, Equatable {
        /// Not a SASL matter (ApiVersions, or anything once authenticated): the cluster answers it.
        case pass
        case respond([UInt8])
        /// Answer, then close the connection (a failed authentication).
        case respondAndClose([UInt8])
        case close
    }

    enum State: Sendable, Equatable {
        case awaitingHandshake
        case handshaken(mechanism: String)
        case scramFirstDone(
            mechanism: String, user: String, clientFirstBare: String, serverFirst: String, nonce: String)
        case authenticated(user: String)
        case failed
    }

    let users: SimSaslUsers
    private(set) var state: State = .awaitingHandshake
    private let serverNonce: String

    init(users: SimSaslUsers) {
        self.users = users
        let random = (0..<18).map { _ in UInt8.random(in: 0...255) }
        serverNonce = Data(random).base64EncodedString().replacingOccurrences(of: ",", with: "-")
    }

    var isAuthenticated: Bool { if case .authenticated = state { true } else { false } }

    mutating func receive(_ frame: [UInt8]) -> Action {
        if isAuthenticated { return .pass }
        guard let header = try? KafkaFrame.decodeRequestHeader(frame).0 else { return .close }
        switch ApiKey(rawValue: header.apiKey) {
        case .apiVersions:
            return .pass
        case .saslHandshake:
            guard state == .awaitingHandshake, header.apiVersion == 1,
                let request = try? KafkaFrame.decodeRequest(SaslHandshakeRequest.self, body: frame).1
            else { return .close }
            var response = SaslHandshakeResponse(mechanisms: users.mechanisms)
            guard users.mechanisms.contains(request.mechanism) else {
                response.errorCode = KafkaErrorCode.unsupportedSaslMechanism.rawValue
                state = .failed
                return Self.encode(response, header, close: true)
            }
            state = .handshaken(mechanism: request.mechanism)
            return Self.encode(response, header, close: false)
        case .saslAuthenticate:
            guard let request = try? KafkaFrame.decodeRequest(SaslAuthenticateRequest.self, body: frame).1 else {
                return .close
            }
            return authenticate(request.authBytes, header)
        default:
            // Kafka: "Unexpected Kafka request of type … during SASL handshake", and the connection is closed.
            return .close
        }
    }

    private mutating func authenticate(_ bytes: [UInt8], _ header: RequestHeader) -> Action {
        switch state {
        case .handshaken(let mechanism) where mechanism == "PLAIN":
            // authzid NUL user NUL password; Kafka accepts an empty authzid or one equal to the user.
            let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard parts.count == 3, parts[0].isEmpty || parts[0] == parts[1], let expected = users.passwords[parts[1]],
                expected == parts[2]
            else { return refuse(header, "Authentication failed: Invalid username or password") }
            state = .authenticated(user: parts[1])
            return Self.encode(SaslAuthenticateResponse(authBytes: []), header, close: false)
        case .handshaken(let mechanism):
            return scramFirst(mechanism, bytes, header)
        case .scramFirstDone(let mechanism, let user, let clientFirstBare, let serverFirst, let nonce):
            let credential = users.scram[mechanism]![user]!
            let ok =
                mechanism == "SCRAM-SHA-256"
                ? scramFinal(SHA256.self, credential, clientFirstBare, serverFirst, nonce, bytes)
                : scramFinal(SHA512.self, credential, clientFirstBare, serverFirst, nonce, bytes)
            guard let serverFinal = ok else {
                return refuse(
                    header,
                    "Authentication failed during authentication due to invalid credentials with SASL mechanism "
                        + mechanism)
            }
            state = .authenticated(user: user)
            return Self.encode(SaslAuthenticateResponse(authBytes: Array(serverFinal.utf8)), header, close: false)
        case .awaitingHandshake, .authenticated, .failed:
            return .close
        }
    }

    /// client-first `n,,n=user,r=nonce` → server-first `r=nonce+ours,s=salt,i=4096`.
    private mutating func scramFirst(_ mechanism: String, _ bytes: [UInt8], _ header: RequestHeader) -> Action {
        let refusal =
            "Authentication failed during authentication due to invalid credentials with SASL mechanism \(mechanism)"
        let text = String(decoding: bytes, as: UTF8.self)
        // gs2 header: no channel binding ("n" or "y"), an optional authzid, then the bare message.
        let gs2 = text.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false)
        guard gs2.count == 3, gs2[0] == "n" || gs2[0] == "y" else { return refuse(header, refusal) }
        let bare = String(gs2[2])
        let attributes = Self.attributes(bare)
        guard let name = attributes["n"], let clientNonce = attributes["r"], !clientNonce.isEmpty else {
            return refuse(header, refusal)
        }
        let user = name.replacingOccurrences(of: "=2C", with: ",").replacingOccurrences(of: "=3D", with: "=")
        let authzid = gs2[1].hasPrefix("a=") ? String(gs2[1].dropFirst(2)) : ""
        guard let credential = users.scram[mechanism]?[user], authzid.isEmpty || authzid == user else {
            return refuse(header, refusal)
        }
        let nonce = clientNonce + serverNonce
        let serverFirst =
            "r=\(nonce),s=\(Data(credential.salt).base64EncodedString()),i=\(credential.iterations)"
        state = .scramFirstDone(
            mechanism: mechanism, user: user, clientFirstBare: bare, serverFirst: serverFirst, nonce: nonce)
        return Self.encode(SaslAuthenticateResponse(authBytes: Array(serverFirst.utf8)), header, close: false)
    }

    /// client-final `c=…,r=nonce,p=proof` → server-final `v=signature`, or nil when refused.
    private func scramFinal<H: HashFunction>(
        _: H.Type, _ credential: ScramCredential, _ clientFirstBare: String, _ serverFirst: String, _ nonce: String,
        _ bytes: [UInt8]
    ) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        let attributes = Self.attributes(text)
        // RFC 5802 §5.1: the nonce must be the server's, exactly (Kafka 4.x's check).
        guard attributes["c"] != nil, attributes["r"] == nonce, let proofText = attributes["p"],
            let proof = Data(base64Encoded: proofText),
            let withoutProof = text.range(of: ",p=").map({ String(text[..<$0.lowerBound]) })
        else { return nil }
        let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = Array(
            HMAC<H>.authenticationCode(for: authMessage, using: SymmetricKey(data: credential.storedKey)))
        guard proof.count == clientSignature.count else { return nil }
        let clientKey = zip(Array(proof), clientSignature).map { $0 ^ $1 }
        guard Array(H.hash(data: clientKey)) == credential.storedKey else { return nil }
        let serverSignature = HMAC<H>.authenticationCode(
            for: authMessage, using: SymmetricKey(data: credential.serverKey))
        return "v=\(Data(serverSignature).base64EncodedString())"
    }

    private mutating func refuse(_ header: RequestHeader, _ message: String) -> Action {
        state = .failed
        return Self.encode(
            SaslAuthenticateResponse(
                errorCode: KafkaErrorCode.saslAuthenticationFailed.rawValue, errorMessage: message, authBytes: []),
            header, close: true)
    }

    private static func encode<R: KafkaResponse>(_ response: R, _ header: RequestHeader, close: Bool) -> Action {
        guard
            let bytes = try? KafkaFrame.response(
                response, version: header.apiVersion, correlationId: header.correlationId)
        else { return .close }
        return close ? .respondAndClose(bytes) : .respond(bytes)
    }

    static func attributes(_ message: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in message.split(separator: ",") {
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else { continue }
            let key = String(part[..<eq])
            if out[key] == nil { out[key] = String(part[part.index(after: eq)...]) }
        }
        return out
    }
}
