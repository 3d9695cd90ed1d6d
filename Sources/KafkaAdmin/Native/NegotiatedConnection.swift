import Crypto
import KafkaModel
import KafkaWire
import Logging

/// A connection that is ready for requests: ApiVersions negotiated and, when configured, SASL done.
final class NegotiatedConnection: Sendable {
    let connection: KafkaConnection
    /// apiKey → the versions the broker accepts.
    let brokerVersions: [Int16: ClosedRange<Int16>]
    let clientId: String
    let requestTimeout: Duration

    var peer: String { connection.peer }
    var isActive: Bool { connection.isActive }

    private init(
        connection: KafkaConnection, brokerVersions: [Int16: ClosedRange<Int16>], clientId: String,
        requestTimeout: Duration
    ) {
        self.connection = connection
        self.brokerVersions = brokerVersions
        self.clientId = clientId
        self.requestTimeout = requestTimeout
    }

    /// ApiVersions first (it may precede authentication), then SASL when configured.
    static func setUp(
        _ connection: KafkaConnection, configuration: KafkaAdminConfiguration,
        salts: SaltedPasswords = SaltedPasswords()
    ) async throws(KafkaAdminError) -> NegotiatedConnection {
        do {
            let versions = try await apiVersions(connection, configuration: configuration)
            let c = NegotiatedConnection(
                connection: connection, brokerVersions: versions, clientId: configuration.clientId,
                requestTimeout: configuration.requestTimeout)
            if let sasl = configuration.security.sasl { try await c.authenticate(sasl, salts: salts) }
            return c
        } catch {
            await connection.close()
            throw error
        }
    }

    private static func apiVersions(_ connection: KafkaConnection, configuration: KafkaAdminConfiguration)
        async throws(KafkaAdminError) -> [Int16: ClosedRange<Int16>]
    {
        // v3 first; a broker that does not know it answers UNSUPPORTED_VERSION in v0 format, so ask again in v0.
        for version: Int16 in [3, 0] {
            let request = ApiVersionsRequest(clientSoftwareName: "ballast", clientSoftwareVersion: "1.0")
            let frame: [UInt8]
            do {
                frame = try KafkaFrame.request(
                    request, version: version, correlationId: 0, clientId: configuration.clientId)
            } catch { throw KafkaAdminError(.invalidArgument, "ApiVersions could not be encoded: \(error.message).") }
            let body = try await connection.roundTrip(
                frame: frame, apiName: "ApiVersions", timeout: configuration.requestTimeout)
            guard
                let response = try? KafkaFrame.decodeResponse(ApiVersionsResponse.self, version: version, body: body)
                    .response
            else {
                if version == 3 { continue }
                throw KafkaAdminError(
                    .protocolViolation, "\(connection.peer) sent an ApiVersions answer that is not Kafka's.")
            }
            let code = KafkaErrorCode(response.errorCode)
            if code == .unsupportedVersion && version == 3 { continue }
            guard code == .none else {
                throw KafkaAdminError(
                    .kafka, "ApiVersions to \(connection.peer) failed with \(code.name).", kafkaErrorName: code.name)
            }
            var out: [Int16: ClosedRange<Int16>] = [:]
            for k in response.apiKeys where k.minVersion <= k.maxVersion { out[k.apiKey] = k.minVersion...k.maxVersion }
            return out
        }
        throw KafkaAdminError(.unsupported, "\(connection.peer) answers neither ApiVersions v3 nor v0.")
    }

    /// The highest version both sides speak.
    static func negotiate(ours: ClosedRange<Int16>, theirs: ClosedRange<Int16>?) -> Int16? {
        guard let theirs else { return nil }
        let v = min(ours.upperBound, theirs.upperBound)
        return v >= max(ours.lowerBound, theirs.lowerBound) ? v : nil
    }

    func version<R: KafkaRequest>(for type: R.Type) throws(KafkaAdminError) -> Int16 {
        guard let v = Self.negotiate(ours: R.validVersions, theirs: brokerVersions[R.apiKey.rawValue]) else {
            let theirs = brokerVersions[R.apiKey.rawValue].map { "v\($0.lowerBound)-\($0.upperBound)" } ?? "none"
            throw KafkaAdminError(
                .unsupported,
                "Broker \(peer) does not support \(R.apiKey.name) in a version Ballast speaks (broker: \(theirs), "
                    + "Ballast: v\(R.validVersions.lowerBound)-\(R.validVersions.upperBound)).")
        }
        return v
    }

    func supports<R: KafkaRequest>(_ type: R.Type) -> Bool { (try? version(for: type)) != nil }

    /// Sends one request in the highest common version and decodes its response.
    func send<R: KafkaRequest>(_ request: R, timeout: Duration? = nil) async throws(KafkaAdminError) -> R.Response {
        let version = try version(for: R.self)
        let api = R.apiKey.name
        let frame: [UInt8]
        do {
            frame = try KafkaFrame.request(request, version: version, correlationId: 0, clientId: clientId)
        } catch {
            throw KafkaAdminError(
                .invalidArgument, "\(api) v\(version) to \(peer) could not be encoded: \(error.message).")
        }
        let body = try await connection.roundTrip(frame: frame, apiName: api, timeout: timeout ?? requestTimeout)
        do {
            return try KafkaFrame.decodeResponse(R.Response.self, version: version, body: body).response
        } catch {
            throw KafkaAdminError(
                .protocolViolation, "\(peer) sent a \(api) v\(version) answer that could not be read: \(error.message)."
            )
        }
    }

    // MARK: SASL

    private func authenticate(_ sasl: KafkaSecurity.SASL, salts: SaltedPasswords) async throws(KafkaAdminError) {
        let mech = sasl.mechanism.rawValue
        let handshake = try await send(SaslHandshakeRequest(mechanism: mech))
        let code = KafkaErrorCode(handshake.errorCode)
        if code == .unsupportedSaslMechanism {
            throw KafkaAdminError(
                .authentication,
                "SASL mechanism \(mech) is not enabled on broker \(peer) (it offers "
                    + "\(handshake.mechanisms.isEmpty ? "none" : handshake.mechanisms.joined(separator: ", "))).",
                kafkaErrorName: code.name, brokerAddress: peer)
        }
        guard code == .none else { throw saslError(sasl, code, nil) }
        switch sasl.mechanism {
        case .plain:
            _ = try await saslRound(sasl, SaslPlain(username: sasl.username, password: sasl.password).initialResponse)
        case .scramSha256:
            try await scram(ScramClient<SHA256>.self, sasl, salts)
        case .scramSha512:
            try await scram(ScramClient<SHA512>.self, sasl, salts)
        }
    }

    private func scram<H: HashFunction>(_: ScramClient<H>.Type, _ sasl: KafkaSecurity.SASL, _ salts: SaltedPasswords)
        async throws(KafkaAdminError)
    {
        var client = ScramClient<H>(
            username: sasl.username, password: sasl.password, clientNonce: ScramClient<H>.randomNonce())
        let serverFirst = try await saslRound(sasl, client.clientFirstMessage())
        do {
            let final = try client.clientFinalMessage(serverFirst: serverFirst, salts: salts)
            let serverFinal = try await saslRound(sasl, final)
            try client.verifyServerFinal(serverFinal)
        } catch let e as ScramError {
            throw authenticationFailed(sasl, e.message, kafkaErrorName: nil)
        } catch let e as KafkaAdminError {
            throw e
        } catch {
            throw authenticationFailed(sasl, "\(error)", kafkaErrorName: nil)
        }
    }

    private func saslRound(_ sasl: KafkaSecurity.SASL, _ bytes: [UInt8]) async throws(KafkaAdminError) -> [UInt8] {
        let response = try await send(SaslAuthenticateRequest(authBytes: bytes))
        let code = KafkaErrorCode(response.errorCode)
        guard code == .none else { throw saslError(sasl, code, response.errorMessage) }
        return response.authBytes
    }

    private func saslError(_ sasl: KafkaSecurity.SASL, _ code: KafkaErrorCode, _ message: String?) -> KafkaAdminError {
        authenticationFailed(sasl, "\(message ?? "the broker refused") (\(code.name))", kafkaErrorName: code.name)
    }

    /// One sentence naming the mechanism, the user and the broker; never the password.
    private func authenticationFailed(_ sasl: KafkaSecurity.SASL, _ why: String, kafkaErrorName: String?)
        -> KafkaAdminError
    {
        KafkaAdminError(
            .authentication,
            "SASL \(sasl.mechanism.rawValue) authentication of user '\(sasl.username)' to broker \(peer) failed: "
                + sentence(why),
            kafkaErrorName: kafkaErrorName, brokerAddress: peer)
    }
}
