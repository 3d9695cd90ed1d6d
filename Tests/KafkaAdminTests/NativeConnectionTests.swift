import KafkaModel
import KafkaWire
import Logging
import Testing

@testable import KafkaAdmin

/// The native connection against an in-process Kafka-speaking server over loopback TCP.
@Suite struct NativeConnectionTests {
    /// A generous request timeout: SCRAM in a debug build on a loaded 2-core machine takes seconds (2 s failed).
    static func client(_ bootstrap: String, sasl: KafkaSecurity.SASL? = nil, timeout: Duration = .seconds(60)) throws
        -> NativeClient
    {
        var c = KafkaAdminConfiguration(bootstrap: bootstrap, security: KafkaSecurity(sasl: sasl))
        c.requestTimeout = timeout
        return try NativeClient(configuration: c, logger: Logger(label: "test"))
    }

    @Test(arguments: KafkaSecurity.SASL.Mechanism.allCases)
    func saslWithTheRightPasswordAuthenticatesAndRequestsFlow(_ mechanism: KafkaSecurity.SASL.Mechanism) async throws {
        let server = try await FakeKafkaServer(.init(mechanisms: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]))
        let native = try Self.client(
            server.bootstrap, sasl: .init(mechanism: mechanism, username: "admin", password: "secret"))
        let info = try await native.refreshCluster()
        #expect(info.brokers.first?.rack == "az-a")
        await native.shutdown()
        await server.close()
    }

    @Test(arguments: KafkaSecurity.SASL.Mechanism.allCases)
    func aWrongPasswordFailsNamingTheMechanismAndTheBroker(_ mechanism: KafkaSecurity.SASL.Mechanism) async throws {
        let server = try await FakeKafkaServer(.init(mechanisms: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]))
        let native = try Self.client(
            server.bootstrap, sasl: .init(mechanism: mechanism, username: "admin", password: "wrong"))
        await #expect {
            try await native.refreshCluster()
        } throws: { error in
            let e = error as? KafkaAdminError
            return e?.code == .authentication && e!.message.contains(mechanism.rawValue)
                && e!.message.contains(server.bootstrap) && e!.kafkaErrorName == "SASL_AUTHENTICATION_FAILED"
        }
        await native.shutdown()
        await server.close()
    }

    @Test func aMechanismTheBrokerLacksIsNamedWithTheOnesItOffers() async throws {
        let server = try await FakeKafkaServer(.init(mechanisms: ["PLAIN"]))
        let native = try Self.client(
            server.bootstrap, sasl: .init(mechanism: .scramSha512, username: "admin", password: "secret"))
        await #expect {
            try await native.refreshCluster()
        } throws: { ($0 as? KafkaAdminError)?.message.contains("SCRAM-SHA-512 is not enabled") == true }
        await native.shutdown()
        await server.close()
    }

    @Test func anOlderApiVersionsIsNegotiatedDownToV0() async throws {
        let server = try await FakeKafkaServer(.init(maxApiVersionsVersion: 2))
        let native = try Self.client(server.bootstrap)
        let c = try await native.connection(for: .any)
        #expect(c.brokerVersions[ApiKey.metadata.rawValue] == 0...12)
        #expect(try c.version(for: MetadataRequest.self) == min(12, MetadataRequest.validVersions.upperBound))
        await native.shutdown()
        await server.close()
    }

    @Test func aSlowAnswerFailsWithinTheRequestTimeoutNamingTheApiAndBroker() async throws {
        // The answer would come after 120 s; without the 300 ms timeout the request would succeed then, so the
        // `.timedOut` error alone shows the timeout ended it (no wall-clock bound a loaded machine could miss).
        let server = try await FakeKafkaServer(.init(metadataDelay: .seconds(120)))
        let native = try Self.client(server.bootstrap, timeout: .milliseconds(300))
        // The ApiVersions handshake is bound by the same 300 ms, which a loaded 2-core machine can miss: connect
        // first, retrying (each attempt a fresh connection), so only the Metadata request meets the timeout.
        var attempts = 0
        while (try? await native.connection(for: .any)) == nil && attempts < 100 { attempts += 1 }
        await #expect {
            try await native.send(MetadataRequest(topics: []))
        } throws: { error in
            let e = error as? KafkaAdminError
            return e?.code == .timedOut && e!.message.contains("Metadata to \(server.bootstrap)")
        }
        await native.shutdown()
        await server.close()
    }

    @Test func pipelinedRequestsOnOneConnectionAllGetTheirOwnAnswers() async throws {
        let server = try await FakeKafkaServer()
        let native = try Self.client(server.bootstrap)
        try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<50 { group.addTask { try await native.send(MetadataRequest(topics: [])).clusterId } }
            for try await id in group { #expect(id == "fake") }
        }
        await native.shutdown()
        await server.close()
    }

    @Test func aClosedPortIsUnreachableNamingTheAddress() async throws {
        let native = try Self.client("127.0.0.1:1")
        await #expect {
            try await native.refreshCluster()
        } throws: { e in
            (e as? KafkaAdminError)?.code == .unreachable
                && (e as? KafkaAdminError)?.message.contains("127.0.0.1:1") == true
        }
        await native.shutdown()
    }
}
