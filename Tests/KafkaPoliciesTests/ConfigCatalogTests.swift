import Foundation
import Testing

@testable import KafkaPolicies

@Suite struct KafkaVersionTests {
    @Test func parsesMajorMinorAndPatchForms() {
        #expect(KafkaVersion("4.1") == KafkaVersion(major: 4, minor: 1))
        #expect(KafkaVersion("4.1.0") == KafkaVersion(major: 4, minor: 1, patch: 0))
        #expect(KafkaVersion("3.9.1") == KafkaVersion(major: 3, minor: 9, patch: 1))
        #expect(KafkaVersion(" 3.7.2-SNAPSHOT ") == KafkaVersion(major: 3, minor: 7, patch: 2))
        #expect(KafkaVersion("3.9.1").map(String.init(describing:)) == "3.9.1")
    }

    @Test func rejectsMalformedVersions() {
        for bad in ["", "4", "four.one", "4.1.x", "4..1", "4.1.0.0", "v4.1", "4.1abc"] {
            #expect(KafkaVersion(bad) == nil, "\(bad) should not parse")
        }
    }

    @Test func knownVersionsResolveExactlyWithoutWarning() {
        let r = KafkaVersion("3.9.1")!.resolved()
        #expect(r.isExact)
        #expect(r.version == KafkaVersion(major: 3, minor: 9))
        #expect(r.warning == nil)
        #expect(KafkaVersion.known.map(\.description) == ["3.6", "3.7", "3.8", "3.9", "4.0", "4.1"])
    }

    @Test func unknownVersionsResolveToTheNearestKnownWithAWarning() {
        let newer = KafkaVersion("4.2.0")!.resolved()
        #expect(!newer.isExact)
        #expect(newer.version == KafkaVersion(major: 4, minor: 1))
        #expect(newer.warning?.contains("4.2.0") == true)
        #expect(KafkaVersion("3.5")!.resolved().version == KafkaVersion(major: 3, minor: 6))
        #expect(KafkaVersion("5.0")!.resolved().version == KafkaVersion(major: 4, minor: 1))
        #expect(KafkaVersion("3.10")!.resolved().version == KafkaVersion(major: 3, minor: 9))
    }
}

@Suite struct ConfigCatalogTests {
    /// The "Counts per mode" table of kafka-config-facts/SOURCES.md.
    static let expectedCounts:
        [(version: String, total: Int, readOnly: Int, perBroker: Int, clusterWide: Int, topic: Int)] = [
            ("3.6", 270, 188, 37, 45, 31),
            ("3.7", 285, 202, 37, 46, 31),
            ("3.8", 299, 210, 37, 52, 34),
            ("3.9", 314, 225, 37, 52, 36),
            ("4.0", 289, 199, 36, 54, 33),
            ("4.1", 316, 226, 36, 54, 33),
        ]

    @Test(arguments: expectedCounts.map(\.version))
    func countsPerModeMatchTheFacts(version: String) throws {
        let e = try #require(Self.expectedCounts.first { $0.version == version })
        let broker = ConfigCatalog.broker(version: KafkaVersion(version)!)
        #expect(broker.resolution.isExact)
        #expect(broker.count == e.total)
        #expect(broker.definitions(withMode: .readOnly).count == e.readOnly)
        #expect(broker.definitions(withMode: .perBroker).count == e.perBroker)
        #expect(broker.definitions(withMode: .clusterWide).count == e.clusterWide)
        #expect(ConfigCatalog.topic(version: KafkaVersion(version)!).count == e.topic)
    }

    @Test func knownBrokerKeysHaveTheirModes() throws {
        let c = ConfigCatalog.broker(version: KafkaVersion("4.1")!)
        #expect(c["log.retention.ms"]?.updateMode == .clusterWide)
        #expect(c["ssl.keystore.location"]?.updateMode == .perBroker)
        #expect(c["node.id"]?.updateMode == .readOnly)
        #expect(c["message.max.bytes"]?.updateMode == .clusterWide)
        #expect(c["log.retention.hours"]?.updateMode == .readOnly)
        #expect(c["no.such.key"] == nil)

        let nodeID = try #require(c["node.id"])
        #expect(nodeID.type == .int)
        #expect(nodeID.defaultValue == .required)
        #expect(nodeID.validValues == "[0,...]")
        #expect(nodeID.importance == .high)

        let retention = try #require(c["log.retention.hours"])
        #expect(retention.defaultValue == .value("168"))
        #expect(c["log.retention.ms"]?.defaultValue == .null)
        #expect(c["controller.quorum.bootstrap.servers"]?.defaultValue == .value(""))
        #expect(c["ssl.keystore.password"]?.isSensitive == true)
    }

    @Test func modesThatChangedBetween3_9And4_0() {
        let v39 = ConfigCatalog.broker(version: KafkaVersion("3.9")!)
        let v40 = ConfigCatalog.broker(version: KafkaVersion("4.0")!)
        #expect(v39["advertised.listeners"]?.updateMode == .perBroker)
        #expect(v40["advertised.listeners"]?.updateMode == .readOnly)
        #expect(v39["remote.log.reader.threads"]?.updateMode == .readOnly)
        #expect(v40["remote.log.reader.threads"]?.updateMode == .clusterWide)
        #expect(v39["log.message.downconversion.enable"]?.updateMode == .clusterWide)
        #expect(v40["log.message.downconversion.enable"] == nil)
    }

    @Test func topicConfigsCarryTheirServerDefaultProperty() throws {
        let t = ConfigCatalog.topic(version: KafkaVersion("4.1")!)
        let retention = try #require(t["retention.ms"])
        #expect(retention.serverDefaultProperty == "log.retention.ms")
        #expect(retention.updateMode == nil)
        #expect(t["cleanup.policy"]?.serverDefaultProperty == "log.cleanup.policy")
    }

    @Test func unknownVersionUsesTheNearestTableAndSaysSo() {
        let c = ConfigCatalog.broker(version: KafkaVersion("4.2")!)
        #expect(c.version == KafkaVersion(major: 4, minor: 1))
        #expect(c.resolution.warning != nil)
        #expect(c.count == 316)
    }
}

@Suite struct PolicyGeneratorTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func runGenerator(outDir: URL) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", repoRoot.appending(path: "Scripts/generate-policies.py").path, "--out-dir", outDir.path,
        ]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    static func files(under root: URL) -> [String: Data] {
        var out: [String: Data] = [:]
        for sub in ["policies/kafka-config-modes", "Sources/KafkaPolicies/Generated"] {
            let dir = root.appending(path: sub)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for name in names {
                out["\(sub)/\(name)"] = FileManager.default.contents(atPath: dir.appending(path: name).path)
            }
        }
        return out
    }

    /// The shared facts the generator reads: beside the repo, or beside the main checkout of a linked worktree.
    /// CI machines may not have them; then there is nothing to regenerate from and the test is skipped.
    static var factsAvailable: Bool {
        var candidates = [repoRoot.appending(path: "../shared/kafka-config-facts")]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["git", "-C", repoRoot.path, "rev-parse", "--path-format=absolute", "--git-common-dir"]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        if (try? p.run()) != nil {
            p.waitUntilExit()
            let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let common = out.trimmingCharacters(in: .whitespacesAndNewlines)
            if !common.isEmpty {
                candidates.append(
                    URL(fileURLWithPath: common).deletingLastPathComponent().appending(
                        path: "../shared/kafka-config-facts"))
            }
        }
        return candidates.contains { FileManager.default.fileExists(atPath: $0.appending(path: "SOURCES.md").path) }
    }

    @Test(.enabled(if: factsAvailable, "needs ../shared/kafka-config-facts"))
    func generatorIsDeterministicAndMatchesTheCommittedFiles() throws {
        let tmp = FileManager.default.temporaryDirectory.appending(path: "ballast-policies-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tmp) }
        #expect(try Self.runGenerator(outDir: tmp.appending(path: "a")) == 0)
        #expect(try Self.runGenerator(outDir: tmp.appending(path: "b")) == 0)
        let a = Self.files(under: tmp.appending(path: "a"))
        let b = Self.files(under: tmp.appending(path: "b"))
        #expect(a.count == 13)
        #expect(a == b)
        #expect(a == Self.files(under: Self.repoRoot))
    }

    @Test func committedJSONAgreesWithTheCompiledTables() throws {
        for version in KafkaVersion.known {
            let url = Self.repoRoot.appending(path: "policies/kafka-config-modes/\(version).json")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
            let broker = try #require(json?["broker"] as? [[String: Any]])
            let catalog = ConfigCatalog.broker(version: version)
            #expect(broker.map { $0["name"] as? String } == catalog.names)
            #expect(broker.map { $0["updateMode"] as? String } == catalog.definitions.map { $0.updateMode?.rawValue })
        }
    }
}
