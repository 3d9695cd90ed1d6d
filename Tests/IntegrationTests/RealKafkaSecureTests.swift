import BallastTestSupport
import Foundation
import KafkaAdmin
import KafkaModel
import Testing

/// Against the real Kafka 4.1 harness started with `RK_SECURE=1` (`../shared/tools/realkafka/`): skipped unless
/// KAFKA_SASL_SSL_BOOTSTRAP (`cluster.sh bootstrap sasl_ssl`) and KAFKA_SSL_BOOTSTRAP (`cluster.sh bootstrap ssl`)
/// are set. The CA and client certificate come from KAFKA_TLS_DIR (default `$TMPDIR/realkafka/tls`), the user
/// from KAFKA_SASL_USER / KAFKA_SASL_PASSWORD (default ballast / ballast-secret, as cluster.sh makes them).
enum RealSecureKafka {
    static let env = ProcessInfo.processInfo.environment
    static let saslSSL = env["KAFKA_SASL_SSL_BOOTSTRAP"]
    static let ssl = env["KAFKA_SSL_BOOTSTRAP"]
    static let enabled = saslSSL != nil && ssl != nil
    static let tlsDir = env["KAFKA_TLS_DIR"] ?? ((env["TMPDIR"] ?? "/tmp") + "/realkafka/tls")
    static let user = env["KAFKA_SASL_USER"] ?? "ballast"
    static let password = env["KAFKA_SASL_PASSWORD"] ?? "ballast-secret"
    static var ca: String { tlsDir + "/ca.crt" }

    static func configuration(
        _ bootstrap: String, tls: KafkaSecurity.TLS, sasl: KafkaSecurity.SASL.Mechanism? = nil,
        password: String = RealSecureKafka.password, readPath: ReadPath? = nil
    ) -> KafkaAdminConfiguration {
        var c = KafkaAdminConfiguration(
            bootstrap: bootstrap,
            security: KafkaSecurity(
                tls: tls, sasl: sasl.map { .init(mechanism: $0, username: user, password: password) }))
        c.requestTimeout = .seconds(15)
        c.readPath = readPath
        return c
    }

    static func snapshot(_ c: KafkaAdminConfiguration) async -> (ReadPath, Result<ClusterSnapshot, KafkaAdminError>) {
        do {
            let admin = try KafkaAdmin(configuration: c)
            let result: Result<ClusterSnapshot, KafkaAdminError>
            do { result = .success(try await admin.snapshot()) } catch { result = .failure(error) }
            await admin.shutdown()
            return (admin.readPath, result)
        } catch {
            return (c.readPath ?? .librdkafka, .failure(error))
        }
    }
}

@Suite(
    .serialized,
    .enabled(if: RealSecureKafka.enabled, "set KAFKA_SASL_SSL_BOOTSTRAP and KAFKA_SSL_BOOTSTRAP (RK_SECURE=1 harness)"))
struct RealKafkaSecureTests {
    /// The issue's table: describe over SASL_SSL with PLAIN, SCRAM-SHA-512 and SCRAM-SHA-256, and over SSL with a
    /// client certificate, all reading the same brokers and partitions.
    @Test func theSnapshotIsReadOverSaslSslWithEveryMechanismAndOverSslWithAClientCertificate() async throws {
        let tls = KafkaSecurity.TLS(caFile: RealSecureKafka.ca)
        var snapshots: [String: ClusterSnapshot] = [:]
        for m in KafkaSecurity.SASL.Mechanism.allCases {
            let (path, result) = await RealSecureKafka.snapshot(
                RealSecureKafka.configuration(RealSecureKafka.saslSSL!, tls: tls, sasl: m))
            snapshots[m.rawValue] = try result.get()
            let scramOnOldLibrdkafka =
                m != .plain && ReadPath.linkedLibrdkafkaVersion < ReadPath.firstLibrdkafkaWithStrictScram
            #expect(path == (scramOnOldLibrdkafka ? .native : .librdkafka))
        }
        let mtls = KafkaSecurity.TLS(
            caFile: RealSecureKafka.ca, certificateFile: RealSecureKafka.tlsDir + "/client.crt",
            keyFile: RealSecureKafka.tlsDir + "/client.key")
        for path in ReadPath.allCases {
            let (_, result) = await RealSecureKafka.snapshot(
                RealSecureKafka.configuration(RealSecureKafka.ssl!, tls: mtls, readPath: path))
            snapshots["SSL \(path)"] = try result.get()
        }
        let reference = try #require(snapshots["PLAIN"])
        #expect(!reference.brokers.isEmpty)
        for (name, s) in snapshots {
            #expect(s.brokers.map(\.id) == reference.brokers.map(\.id), "\(name)")
            #expect(s.brokers.map(\.rack) == reference.brokers.map(\.rack), "\(name)")
            #expect(s.topics.map(\.name) == reference.topics.map(\.name), "\(name)")
            #expect(s.allPartitions.count == reference.allPartitions.count, "\(name)")
        }
    }

    @Test(arguments: [KafkaSecurity.SASL.Mechanism.scramSha512, .scramSha256])
    func kafka4RefusesLibrdkafkaScramWithTheRightPasswordAndTheNativePathLogsIn(_ m: KafkaSecurity.SASL.Mechanism)
        async throws
    {
        let tls = KafkaSecurity.TLS(caFile: RealSecureKafka.ca)
        let (_, forced) = await RealSecureKafka.snapshot(
            RealSecureKafka.configuration(RealSecureKafka.saslSSL!, tls: tls, sasl: m, readPath: .librdkafka))
        if ReadPath.linkedLibrdkafkaVersion < ReadPath.firstLibrdkafkaWithStrictScram {
            guard case .failure(let e) = forced else {
                Issue.record("librdkafka \(ReadPath.linkedLibrdkafkaVersionString) logged in with \(m.rawValue)")
                return
            }
            #expect(e.code == .authentication, "\(e.message)")
            #expect(e.message.contains("invalid credentials with SASL mechanism \(m.rawValue)"), "\(e.message)")
        }
        let (path, automatic) = await RealSecureKafka.snapshot(
            RealSecureKafka.configuration(RealSecureKafka.saslSSL!, tls: tls, sasl: m))
        #expect(throws: Never.self) { try automatic.get() }
        #expect(path == .native || ReadPath.linkedLibrdkafkaVersion >= ReadPath.firstLibrdkafkaWithStrictScram)
    }

    @Test(arguments: [KafkaSecurity.SASL.Mechanism.plain, .scramSha512, .scramSha256])
    func aWrongPasswordIsAnAuthenticationErrorNamingMechanismUserAndBroker(_ m: KafkaSecurity.SASL.Mechanism)
        async throws
    {
        let wrong = "not-ballast-secret"
        let (_, result) = await RealSecureKafka.snapshot(
            RealSecureKafka.configuration(
                RealSecureKafka.saslSSL!, tls: .init(caFile: RealSecureKafka.ca), sasl: m, password: wrong))
        guard case .failure(let e) = result else {
            Issue.record("a wrong password was accepted")
            return
        }
        #expect(e.code == .authentication, "\(e.message)")
        #expect(
            e.message.hasPrefix(
                "SASL \(m.rawValue) authentication of user '\(RealSecureKafka.user)' to broker 127.0.0.1:"),
            "\(e.message)")
        #expect(!e.message.contains(wrong) && !e.message.contains(RealSecureKafka.password))
    }

    @Test(arguments: ReadPath.allCases)
    func aCAThatDidNotSignTheBrokersCertificateIsATLSVerificationError(_ path: ReadPath) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let (_, result) = await RealSecureKafka.snapshot(
            RealSecureKafka.configuration(
                RealSecureKafka.saslSSL!, tls: .init(caFile: pki.otherCAFile), sasl: .plain, readPath: path))
        guard case .failure(let e) = result else {
            Issue.record("a broker certificate from an untrusted CA was accepted")
            return
        }
        #expect(e.code == .tlsVerification, "\(e.message)")
        #expect(e.certificateProblem == .unknownAuthority, "\(e.message)")
        #expect(e.message.contains("was issued by CN=realkafka-ca, which is not a CA in the CA file"), "\(e.message)")
    }

    @Test(arguments: ReadPath.allCases)
    func theMutualTLSListenerDemandsAClientCertificate(_ path: ReadPath) async throws {
        let (_, result) = await RealSecureKafka.snapshot(
            RealSecureKafka.configuration(RealSecureKafka.ssl!, tls: .init(caFile: RealSecureKafka.ca), readPath: path))
        guard case .failure(let e) = result else {
            Issue.record("the SSL listener answered without a client certificate")
            return
        }
        #expect(e.code == .clientCertificateRequired, "\(e.message)")
    }

    /// The commands over SASL_SSL with SCRAM-SHA-512, as a user runs them.
    @Test func describeConfigPlanAndRollDryRunWorkOverScramSha512() async throws {
        _ = try #require(ballastBinary)
        let desired = NSTemporaryDirectory() + "ballast-secure-\(UUID().uuidString).properties"
        try Data("log.cleaner.threads=2\n".utf8).write(to: URL(fileURLWithPath: desired))
        defer { try? FileManager.default.removeItem(atPath: desired) }
        let flags = [
            "--bootstrap", RealSecureKafka.saslSSL!, "--security-protocol", "SASL_SSL", "--ssl-ca", RealSecureKafka.ca,
            "--sasl-mechanism", "SCRAM-SHA-512", "--sasl-username", RealSecureKafka.user, "--timeout", "15",
        ]
        let env = ["BALLAST_SASL_PASSWORD": RealSecureKafka.password]
        for command in [["describe"], ["config", "plan", "--desired", desired], ["roll", "--dry-run"]] {
            let r = try await SecurityCLITests.ballast(command + flags, environment: env)
            #expect(r.status == 0, "\(command): \(r.stderr)")
            #expect(!(r.stdout + r.stderr).contains(RealSecureKafka.password))
        }
    }
}
