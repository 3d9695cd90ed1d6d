import Crypto
import Synchronization

import struct Foundation.Data

/// The client side of SASL PLAIN (RFC 4616): one message, no challenge.
struct SaslPlain: Sendable {
    var username: String
    var password: String

    /// `authzid NUL authcid NUL passwd`, with an empty authzid as Kafka expects.
    var initialResponse: [UInt8] { [0] + Array(username.utf8) + [0] + Array(password.utf8) }
}

/// The client side of SCRAM (RFC 5802; SHA-256 per RFC 7677, and SHA-512), without channel binding.
///
/// A pure state machine: feed it the server's messages, send what it returns. Kafka carries each message in
/// one SaslAuthenticate round.
struct ScramClient<H: HashFunction>: Sendable {
    enum State: Sendable, Equatable {
        case initial
        case sentClientFirst(clientFirstBare: String)
        case sentClientFinal(serverSignature: [UInt8])
        case done
    }

    let username: String
    let password: String
    let clientNonce: String
    private(set) var state: State = .initial

    init(username: String, password: String, clientNonce: String) {
        self.username = username
        self.password = password
        self.clientNonce = clientNonce
    }

    /// A random printable nonce (no ',' per RFC 5802).
    static func randomNonce() -> String {
        var g = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &g) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: ",", with: "-")
    }

    /// `n,,n=user,r=nonce`
    mutating func clientFirstMessage() -> [UInt8] {
        let bare = "n=\(Self.saslName(username)),r=\(clientNonce)"
        state = .sentClientFirst(clientFirstBare: bare)
        return Array(("n,," + bare).utf8)
    }

    /// Reads `r=...,s=...,i=...` and returns `c=biws,r=...,p=proof`. `salts` keeps Hi(password, salt, i), the
    /// costly part (4096+ HMAC rounds), for the next connection: Kafka stores one salt per user, so every broker
    /// of a cluster sends the same.
    mutating func clientFinalMessage(serverFirst: [UInt8], salts: SaltedPasswords? = nil) throws(ScramError)
        -> [UInt8]
    {
        guard case .sentClientFirst(let clientFirstBare) = state else {
            throw ScramError("the server's first message arrived out of order")
        }
        let serverFirstText = String(decoding: serverFirst, as: UTF8.self)
        let attrs = Self.attributes(serverFirstText)
        if let e = attrs["e"] { throw ScramError("the server refused: \(e)") }
        guard let nonce = attrs["r"], let saltB64 = attrs["s"], let iterText = attrs["i"] else {
            throw ScramError("the server's first message lacks r, s or i")
        }
        guard nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count else {
            throw ScramError("the server's nonce does not extend ours")
        }
        guard let salt = Data(base64Encoded: saltB64) else { throw ScramError("the salt is not base64") }
        guard let iterations = Int(iterText), iterations >= 1, iterations <= 1_000_000 else {
            throw ScramError("the iteration count \(iterText) is not acceptable")
        }
        let saltKey = SaltedPasswords.Key(hash: "\(H.self)", salt: Array(salt), iterations: iterations)
        let password = self.password
        let compute = { Self.hi(password: Array(password.utf8), salt: Array(salt), iterations: iterations) }
        let salted = salts?.value(for: saltKey, compute) ?? compute()
        let key = SymmetricKey(data: salted)
        let clientKey = Array(HMAC<H>.authenticationCode(for: Array("Client Key".utf8), using: key))
        let storedKey = Array(H.hash(data: clientKey))
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(serverFirstText),\(withoutProof)".utf8)
        let clientSignature = Array(
            HMAC<H>.authenticationCode(for: authMessage, using: SymmetricKey(data: storedKey)))
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = HMAC<H>.authenticationCode(for: Array("Server Key".utf8), using: key)
        let serverSignature = Array(
            HMAC<H>.authenticationCode(for: authMessage, using: SymmetricKey(data: Array(serverKey))))
        state = .sentClientFinal(serverSignature: serverSignature)
        return Array("\(withoutProof),p=\(Data(proof).base64EncodedString())".utf8)
    }

    /// Checks `v=signature`: proves the server knew the password too.
    mutating func verifyServerFinal(_ serverFinal: [UInt8]) throws(ScramError) {
        guard case .sentClientFinal(let expected) = state else {
            throw ScramError("the server's final message arrived out of order")
        }
        let attrs = Self.attributes(String(decoding: serverFinal, as: UTF8.self))
        if let e = attrs["e"] { throw ScramError("the server refused: \(e)") }
        guard let v = attrs["v"], let signature = Data(base64Encoded: v), Array(signature) == expected else {
            throw ScramError("the server's signature does not match: it does not know the password")
        }
        state = .done
    }

    /// RFC 5802 Hi(): PBKDF2 with HMAC-H and one output block.
    static func hi(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var u = Array(HMAC<H>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = u
        if iterations > 1 {
            for _ in 2...iterations {
                u = Array(HMAC<H>.authenticationCode(for: u, using: key))
                for i in 0..<result.count { result[i] ^= u[i] }
            }
        }
        return result
    }

    /// RFC 5802 saslname: ',' and '=' escaped.
    static func saslName(_ s: String) -> String {
        s.replacingOccurrences(of: "=", with: "=3D").replacingOccurrences(of: ",", with: "=2C")
    }

    static func attributes(_ message: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in message.split(separator: ",", omittingEmptySubsequences: true) {
            guard let eq = part.firstIndex(of: "="), eq != part.startIndex else { continue }
            let k = String(part[part.startIndex..<eq])
            if out[k] == nil { out[k] = String(part[part.index(after: eq)...]) }
        }
        return out
    }
}

/// SCRAM's salted passwords by hash, salt and iteration count, for one client (one password).
final class SaltedPasswords: Sendable {
    struct Key: Hashable, Sendable {
        var hash: String
        var salt: [UInt8]
        var iterations: Int
    }
    private let values = Mutex<[Key: [UInt8]]>([:])

    func value(for key: Key, _ compute: () -> [UInt8]) -> [UInt8] {
        if let known = values.withLock({ $0[key] }) { return known }
        let computed = compute()
        values.withLock { $0[key] = computed }
        return computed
    }
}

struct ScramError: Error, Sendable, Equatable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
