import BallastTestSupport
import CRdKafka
import KafkaModel
import KafkaSim
import Logging
import NIOSSL
import Testing

@testable import KafkaAdmin

/// KafkaAdmin against the simulator's secured listeners over loopback TCP (TLS, mutual TLS, SASL PLAIN and SCRAM
/// with Kafka 4's strict nonce check), through both read paths: every protocol and mechanism, right and wrong
/// credentials, a wrong CA, an expired or not yet valid certificate, a wrong host, a missing client certificate.
/// Serialized: each case runs a simulator, TLS handshakes and SCRAM logins, and 40 of them at once would starve the
/// rest of the test run on a 2-core machine.
@Suite(.serialized) struct SecuredSimTests {
    static let user = "ballast"
    static let password = "s3cret-Pa55word"

    /// A 3-broker simulator whose listeners use `tls` (a server certificate, optionally requiring client
    /// certificates from `clientCA`) and SASL with `user`/`password`.
    static func withSim<T: Sendable>(
        _ pki: TestPKI, server: TestPKI.Pair? = nil, clientCA: String? = nil, sasl: [String]? = nil,
        _ body: (EmbeddedSimulator) async throws -> T
    ) async throws -> T {
        var topo = SimTopology()
        topo.brokers = 3
        topo.topics = 2
        topo.partitions = 3
        var security = SimListenerSecurity()
        if let server {
            security.tls = try SimListenerSecurity.tlsContext(
                certificateFile: server.certificate, keyFile: server.key, clientCAFile: clientCA)
        }
        if let sasl { security.sasl = SimSaslUsers(passwords: [user: password], mechanisms: sasl) }
        let sim = try await EmbeddedSimulator.start(try topo.build(), timeScale: 10, security: security)
        defer { sim.cancel() }
        return try await body(sim)
    }

    static func configuration(
        _ bootstrap: String, tls: KafkaSecurity.TLS? = nil, sasl: KafkaSecurity.SASL.Mechanism? = nil,
        password: String = SecuredSimTests.password, readPath: ReadPath? = nil
    ) -> KafkaAdminConfiguration {
        var c = KafkaAdminConfiguration(
            bootstrap: bootstrap,
            security: KafkaSecurity(
                tls: tls, sasl: sasl.map { .init(mechanism: $0, username: user, password: password) }))
        // Generous: a loaded 2-core CI machine must not turn a slow answer into a wrong error kind.
        c.requestTimeout = .seconds(10)
        c.connectTimeout = .seconds(5)
        c.readPath = readPath
        return c
    }

    /// The snapshot's failure, or nil.
    static func snapshotError(_ c: KafkaAdminConfiguration, logger: Logger = Logger(label: "test"))
        async throws -> KafkaAdminError?
    {
        let admin = try KafkaAdmin(configuration: c, logger: logger)
        var failure: KafkaAdminError?
        do { _ = try await admin.snapshot() } catch { failure = error }
        await admin.shutdown()
        return failure
    }

    static var librdkafkaFailsScram: Bool {
        ReadPath.linkedLibrdkafkaVersion < ReadPath.firstLibrdkafkaWithStrictScram
    }

    // MARK: Every protocol and mechanism

    struct Case: Sendable, CustomTestStringConvertible {
        var tls: Bool
        var clientCertificate: Bool
        var sasl: KafkaSecurity.SASL.Mechanism?
        var testDescription: String {
            let p = tls ? (sasl == nil ? "SSL" : "SASL_SSL") : (sasl == nil ? "PLAINTEXT" : "SASL_PLAINTEXT")
            return p + (clientCertificate ? " with a client certificate" : "") + (sasl.map { " \($0.rawValue)" } ?? "")
        }
    }

    static let cases: [Case] =
        [
            Case(tls: false, clientCertificate: false, sasl: nil), Case(tls: true, clientCertificate: false, sasl: nil),
            Case(tls: true, clientCertificate: true, sasl: nil),
        ]
        + KafkaSecurity.SASL.Mechanism.allCases.flatMap { m in
            [Case(tls: false, clientCertificate: false, sasl: m), Case(tls: true, clientCertificate: false, sasl: m)]
        }

    @Test(arguments: cases)
    func theSnapshotIsReadOverEveryProtocolAndMechanism(_ c: Case) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withSim(
            pki, server: c.tls ? pki.server : nil, clientCA: c.clientCertificate ? pki.caFile : nil,
            sasl: c.sasl.map { _ in SimSaslUsers.allMechanisms }
        ) { sim in
            let tls =
                c.tls
                ? KafkaSecurity.TLS(
                    caFile: pki.caFile, certificateFile: c.clientCertificate ? pki.client.certificate : nil,
                    keyFile: c.clientCertificate ? pki.client.key : nil) : nil
            let admin = try KafkaAdmin(configuration: Self.configuration(sim.bootstrap, tls: tls, sasl: c.sasl))
            let snapshot = try await admin.snapshot()
            #expect(snapshot.brokers.count == 3)
            #expect(snapshot.topics.filter { !$0.isInternal }.allSatisfy { $0.minInSyncReplicas == 2 })
            // SCRAM reads natively where librdkafka cannot log in; everything else through librdkafka.
            let scram = c.sasl != nil && c.sasl != .plain
            #expect(admin.readPath == (scram && Self.librdkafkaFailsScram ? .native : .librdkafka))
            // The admin calls that always go native work too.
            #expect(try await admin.describeConfigs([.clusterDefault]).count == 1)
            await admin.shutdown()
        }
    }

    @Test(arguments: [nil, KafkaSecurity.SASL.Mechanism.plain])
    func bothReadPathsReadTheSameSnapshot(_ sasl: KafkaSecurity.SASL.Mechanism?) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withSim(pki, server: pki.server, sasl: sasl.map { _ in ["PLAIN"] }) { sim in
            let tls = KafkaSecurity.TLS(caFile: pki.caFile)
            var snapshots: [ClusterSnapshot] = []
            for path in ReadPath.allCases {
                let admin = try KafkaAdmin(
                    configuration: Self.configuration(sim.bootstrap, tls: tls, sasl: sasl, readPath: path))
                #expect(admin.readPath == path)
                snapshots.append(try await admin.snapshot())
                await admin.shutdown()
            }
            #expect(snapshots[0].brokers == snapshots[1].brokers)
            #expect(snapshots[0].topics == snapshots[1].topics)
            #expect(snapshots[0].clusterId == snapshots[1].clusterId)
        }
    }

    @Test func createTopicsWorksOnTheNativeReadPath() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withSim(pki, sasl: ["SCRAM-SHA-512"]) { sim in
            let admin = try KafkaAdmin(
                configuration: Self.configuration(sim.bootstrap, sasl: .scramSha512, readPath: .native))
            try await admin.createTopics([NewTopic(name: "created", partitions: 2, replicationFactor: 3)])
            let topic = try #require(try await admin.snapshot().topics.first { $0.name == "created" })
            #expect(topic.partitions.count == 2)
            await #expect {
                try await admin.createTopics([NewTopic(name: "created", partitions: 2, replicationFactor: 3)])
            } throws: { ($0 as? KafkaAdminError)?.kafkaErrorName == "TOPIC_ALREADY_EXISTS" }
            await admin.shutdown()
        }
    }

    // MARK: SCRAM and librdkafka before 2.6.1

    @Test(arguments: [KafkaSecurity.SASL.Mechanism.scramSha256, .scramSha512])
    func librdkafkaScramIsRefusedByTheStrictNonceCheckAndTheNativePathLogsIn(_ m: KafkaSecurity.SASL.Mechanism)
        async throws
    {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withSim(pki, server: pki.server, sasl: [m.rawValue]) { sim in
            let tls = KafkaSecurity.TLS(caFile: pki.caFile)
            let refused = try await Self.snapshotError(
                Self.configuration(sim.bootstrap, tls: tls, sasl: m, readPath: .librdkafka))
            if Self.librdkafkaFailsScram {
                // The right password, refused: the client nonce is sent twice (confluentinc/librdkafka#4895).
                let e = try #require(refused)
                #expect(e.code == .authentication)
                #expect(e.message.contains("invalid credentials with SASL mechanism \(m.rawValue)"))
                #expect(e.message.contains("user '\(Self.user)'"))
            } else {
                #expect(refused == nil)
            }
            // The automatic choice reads over the native connection, and logs in.
            let automatic = try await Self.snapshotError(Self.configuration(sim.bootstrap, tls: tls, sasl: m))
            #expect(automatic == nil, "\(automatic?.message ?? "")")
        }
    }

    @Test func theNativeReadPathIsNamedOnceInTheLogWithItsReason() async throws {
        let recorder = LogRecorder()
        let admin = try KafkaAdmin(
            configuration: Self.configuration("127.0.0.1:9", sasl: .scramSha512), logger: recorder.logger())
        await admin.shutdown()
        if Self.librdkafkaFailsScram {
            #expect(recorder.text.components(separatedBy: "librdkafka#4895").count == 2)
            #expect(recorder.text.contains("kafka.read.path=native"))
        } else {
            #expect(!recorder.text.contains("librdkafka#4895"))
        }
    }

    @Test func theReadPathIsLibrdkafkaExceptScramBefore261() {
        let scram = KafkaSecurity(sasl: .init(mechanism: .scramSha512, username: "u", password: "p"))
        let plain = KafkaSecurity(sasl: .init(mechanism: .plain, username: "u", password: "p"))
        #expect(ReadPath.automatic(for: scram, librdkafkaVersion: 0x0200_02ff, versionString: "2.0.2").path == .native)
        #expect(ReadPath.automatic(for: scram, librdkafkaVersion: 0x0206_00ff, versionString: "2.6.0").path == .native)
        #expect(
            ReadPath.automatic(for: scram, librdkafkaVersion: 0x0206_01ff, versionString: "2.6.1").path == .librdkafka)
        #expect(
            ReadPath.automatic(for: plain, librdkafkaVersion: 0x0200_02ff, versionString: "2.0.2").path == .librdkafka)
        #expect(
            ReadPath.automatic(for: .plaintext, librdkafkaVersion: 0x0200_02ff, versionString: "2.0.2").reason == nil)
    }

    // MARK: Wrong credentials

    struct Login: Sendable, CustomTestStringConvertible {
        var mechanism: KafkaSecurity.SASL.Mechanism
        var path: ReadPath
        var testDescription: String { "\(mechanism.rawValue) via \(path)" }
    }

    static let logins: [Login] = KafkaSecurity.SASL.Mechanism.allCases.flatMap { m in
        ReadPath.allCases.map { Login(mechanism: m, path: $0) }
    }

    @Test(arguments: logins)
    func aWrongPasswordIsAnAuthenticationErrorNamingMechanismUserAndBrokerNeverThePassword(_ login: Login)
        async throws
    {
        let pki = try TestPKI()
        defer { pki.remove() }
        let wrong = "wr0ng-Pa55word"
        let recorder = LogRecorder()
        try await Self.withSim(pki, server: pki.server, sasl: SimSaslUsers.allMechanisms) { sim in
            let e = try #require(
                try await Self.snapshotError(
                    Self.configuration(
                        sim.bootstrap, tls: .init(caFile: pki.caFile), sasl: login.mechanism, password: wrong,
                        readPath: login.path), logger: recorder.logger()))
            #expect(e.code == .authentication, "\(e.message)")
            #expect(e.message.contains(login.mechanism.rawValue))
            #expect(e.message.contains("user '\(Self.user)'"))
            #expect(e.message.contains("broker 127.0.0.1:"))
            #expect(e.message.split(separator: "\n").count == 1)
            for text in [e.message, recorder.text] {
                #expect(!text.contains(wrong))
                #expect(!text.contains(Self.password))
            }
        }
    }

    @Test func aMechanismTheListenerDoesNotEnableIsNamedWithTheOnesItDoes() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withSim(pki, sasl: ["SCRAM-SHA-512"]) { sim in
            let e = try #require(
                try await Self.snapshotError(Self.configuration(sim.bootstrap, sasl: .scramSha256)))
            #expect(e.code == .authentication)
            #expect(e.message.contains("SCRAM-SHA-256 is not enabled on broker 127.0.0.1:"))
            #expect(e.message.contains("it offers SCRAM-SHA-512"))
        }
    }

    // MARK: Certificates

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var problem: CertificateProblem
        var path: ReadPath
        var testDescription: String { "\(name) via \(path)" }
    }

    static let refusals: [Refusal] = [
        ("a CA that did not sign it", CertificateProblem.unknownAuthority),
        ("an expired certificate", .expired), ("a certificate not valid yet", .notYetValid),
        ("a certificate for another host", .hostnameMismatch),
    ].flatMap { name, problem in ReadPath.allCases.map { Refusal(name: name, problem: problem, path: $0) } }

    @Test(arguments: refusals)
    func aRefusedBrokerCertificateSaysWhichCertificateAndWhy(_ r: Refusal) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let server: TestPKI.Pair =
            switch r.problem {
            case .unknownAuthority: pki.server
            case .expired: pki.expiredServer
            case .notYetValid: pki.notYetValidServer
            case .hostnameMismatch: pki.wrongHostServer
            }
        let ca = r.problem == .unknownAuthority ? pki.otherCAFile : pki.caFile
        try await Self.withSim(pki, server: server, sasl: ["PLAIN"]) { sim in
            let e = try #require(
                try await Self.snapshotError(
                    Self.configuration(sim.bootstrap, tls: .init(caFile: ca), sasl: .plain, readPath: r.path)))
            #expect(e.code == .tlsVerification, "\(e.message)")
            #expect(e.certificateProblem == r.problem, "\(e.message)")
            #expect(e.message.hasPrefix("TLS verification of broker 127.0.0.1:"), "\(e.message)")
            let why =
                switch r.problem {
                case .unknownAuthority: "was issued by CN=Ballast Test CA, which is not a CA in the CA file \(ca)"
                case .expired: "expired on "
                case .notYetValid: "is not valid before "
                case .hostnameMismatch: "names DNS:kafka.example.com, not 127.0.0.1"
                }
            #expect(e.message.contains(why), "\(e.message)")
        }
    }

    @Test func withoutTheHostnameCheckACertificateForAnotherHostIsAccepted() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withSim(pki, server: pki.wrongHostServer) { sim in
            for path in ReadPath.allCases {
                let tls = KafkaSecurity.TLS(caFile: pki.caFile, verifyHostname: false)
                let e = try await Self.snapshotError(Self.configuration(sim.bootstrap, tls: tls, readPath: path))
                #expect(e == nil, "\(path): \(e?.message ?? "")")
            }
        }
    }

    @Test(arguments: ReadPath.allCases)
    func aBrokerThatDemandsAClientCertificateSaysSo(_ path: ReadPath) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withSim(pki, server: pki.server, clientCA: pki.caFile) { sim in
            let e = try #require(
                try await Self.snapshotError(
                    Self.configuration(sim.bootstrap, tls: .init(caFile: pki.caFile), readPath: path)))
            #expect(e.code == .clientCertificateRequired, "\(e.message)")
            #expect(e.message.hasPrefix("Broker 127.0.0.1:"), "\(e.message)")
            #expect(e.message.contains("demanded a client certificate and none is configured"), "\(e.message)")
        }
    }

    @Test(arguments: ReadPath.allCases)
    func aClientCertificateFromAnotherCAIsRefusedNamingTheFile(_ path: ReadPath) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withSim(pki, server: pki.server, clientCA: pki.caFile) { sim in
            let tls = KafkaSecurity.TLS(
                caFile: pki.caFile, certificateFile: pki.otherCAClient.certificate, keyFile: pki.otherCAClient.key)
            let e = try #require(
                try await Self.snapshotError(Self.configuration(sim.bootstrap, tls: tls, readPath: path)))
            #expect(e.code == .tls, "\(e.message)")
            #expect(e.message.contains("refused Ballast's client certificate \(pki.otherCAClient.certificate)"))
        }
    }

    @Test(arguments: ReadPath.allCases)
    func nothingListeningIsUnreachable(_ path: ReadPath) async throws {
        // Port 9 (discard) on loopback: nothing listens there.
        let e = try #require(
            try await Self.snapshotError(Self.configuration("127.0.0.1:9", sasl: .plain, readPath: path)))
        #expect(e.code == .unreachable, "\(e.message)")
        #expect(e.message.contains("127.0.0.1:9"))
    }

    // MARK: librdkafka's error events

    @Test func librdkafkaErrorEventsNameTheBrokerAndLoseTheirDecorations() {
        let e = RdKafkaErrorEvent(
            code: RD_KAFKA_RESP_ERR__AUTHENTICATION,
            reason: "sasl_ssl://127.0.0.1:19292/bootstrap: SASL authentication error: Authentication failed during "
                + "authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 312ms in state "
                + "AUTH_REQ, 1 identical error(s) suppressed)")
        #expect(e.broker == "127.0.0.1:19292")
        #expect(
            e.text
                == "SASL authentication error: Authentication failed during authentication due to invalid credentials "
                + "with SASL mechanism SCRAM-SHA-512")
        let plaintext = RdKafkaErrorEvent(
            code: RD_KAFKA_RESP_ERR__TRANSPORT,
            reason: "127.0.0.1:9/bootstrap: Connect to ipv4#127.0.0.1:9 failed: Connection refused (after 0ms in state "
                + "CONNECT)")
        #expect(plaintext.broker == "127.0.0.1:9")
        #expect(plaintext.text == "Connect to ipv4#127.0.0.1:9 failed: Connection refused")
        let bare = RdKafkaErrorEvent(code: RD_KAFKA_RESP_ERR__TRANSPORT, reason: "1/1 brokers are down")
        #expect(bare.broker == nil)
        #expect(bare.text == "1/1 brokers are down")
    }
}
