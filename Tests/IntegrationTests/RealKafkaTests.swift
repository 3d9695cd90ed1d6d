import Foundation
import KafkaAdmin
import KafkaModel
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Against a real Kafka cluster: skipped unless KAFKA_BOOTSTRAP is set. The node-stopping test also needs
/// RK_MIRROR (cluster.sh) and REALKAFKA_STOP_NODE (the broker it may stop, e.g. 6), and restarts it.
/// Kafka's own tools are taken from KAFKA_HOME (default /tmp/realkafka/kafka_2.13-4.1.0).
enum RealKafka {
    static let env = ProcessInfo.processInfo.environment
    static let bootstrap = env["KAFKA_BOOTSTRAP"]
    static let enabled = bootstrap != nil
    static let kafkaHome = env["KAFKA_HOME"] ?? "/tmp/realkafka/kafka_2.13-4.1.0"
    static let clusterScript = env["REALKAFKA_CLUSTER_SH"] ?? "/work/shared/tools/realkafka/cluster.sh"
    static let stopNode = env["REALKAFKA_STOP_NODE"].flatMap { Int32($0) }

    static func admin() throws -> KafkaAdmin {
        var c = KafkaAdminConfiguration(bootstrap: bootstrap!)
        c.requestTimeout = .seconds(30)
        return try KafkaAdmin(configuration: c)
    }

    static func tool(_ name: String, _ args: [String]) async throws -> String {
        let r = try await run("\(kafkaHome)/bin/\(name)", ["--bootstrap-server", bootstrap!] + args)
        guard r.status == 0 else { throw ToolError(message: "\(name) \(args) failed: \(r.stderr)") }
        return r.stdout
    }

    struct ToolError: Error { var message: String }

    /// `kafka-topics.sh --describe` parsed: partition → (leader, replicas, isr); topic → min.insync.replicas override.
    struct TopicsDescribe {
        var partitions: [TopicPartition: (leader: Int32, replicas: [Int32], isr: [Int32])] = [:]
        var minIsr: [String: Int] = [:]
    }

    static func kafkaTopicsDescribe(_ extra: [String] = []) async throws -> TopicsDescribe {
        let out = try await tool("kafka-topics.sh", ["--describe"] + extra)
        var d = TopicsDescribe()
        func field(_ line: Substring, _ name: String) -> String? {
            guard let r = line.range(of: name + ": ") else { return nil }
            let rest = line[r.upperBound...]
            return String(rest.prefix { $0 != "\t" }).trimmingCharacters(in: .whitespaces)
        }
        func ids(_ s: String?) -> [Int32] { (s ?? "").split(separator: ",").compactMap { Int32($0) } }
        for line in out.split(separator: "\n") {
            if line.hasPrefix("Topic:"), let topic = field(line, "Topic"), let configs = field(line, "Configs") {
                for kv in configs.split(separator: ",") where kv.hasPrefix("min.insync.replicas=") {
                    d.minIsr[topic] = Int(kv.dropFirst("min.insync.replicas=".count))
                }
            } else if let topic = field(line, "Topic"), let p = field(line, "Partition").flatMap({ Int32($0) }) {
                d.partitions[TopicPartition(topic, p)] = (
                    Int32(field(line, "Leader") ?? "") ?? -1, ids(field(line, "Replicas")), ids(field(line, "Isr"))
                )
            }
        }
        return d
    }

    /// Runs cluster.sh with posix_spawn + waitpid: Foundation's Process waits for every holder of an fd it
    /// passes to the child, and the Kafka daemon that start-node leaves behind would hold it forever.
    static func cluster(_ args: [String]) throws {
        var env = ProcessInfo.processInfo.environment
        if let m = try? String(contentsOfFile: "/tmp/realkafka.mirror", encoding: .utf8) {
            env["RK_MIRROR"] = m.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        env["RK_BROKERS"] = "3"
        let argv = ([clusterScript] + args).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        guard posix_spawn(&pid, clusterScript, &actions, nil, argv, envp) == 0 else {
            throw ToolError(message: "cluster.sh \(args) could not be started")
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else { throw ToolError(message: "cluster.sh \(args) failed with status \(status)") }
    }

    /// Polls until `condition` holds or `timeout` passes; returns the last snapshot.
    static func waitFor(
        _ admin: KafkaAdmin, timeout: Duration, _ condition: (ClusterSnapshot) -> Bool
    ) async throws -> ClusterSnapshot {
        let deadline = ContinuousClock.now + timeout
        while true {
            // While topics are created or brokers stop, a snapshot may fail for a moment: try again.
            var snapshot: ClusterSnapshot?
            do { snapshot = try await admin.snapshot() } catch {
                if ContinuousClock.now > deadline { throw error }
            }
            if let snapshot, condition(snapshot) || ContinuousClock.now > deadline { return snapshot }
            try await Task.sleep(for: .seconds(1))
        }
    }
}

@Suite(.serialized, .enabled(if: RealKafka.enabled, "set KAFKA_BOOTSTRAP to run against real Kafka"))
struct RealKafkaTests {
    @Test func snapshotAgreesWithKcat() async throws {
        let admin = try RealKafka.admin()
        let s = try await admin.snapshot()
        await admin.shutdown()
        let r = try await run("/usr/bin/kcat", ["-L", "-J", "-b", RealKafka.bootstrap!])
        #expect(r.status == 0)
        let kcat = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let brokers = (kcat["brokers"] as! [[String: Any]]).map { "\($0["id"]!) \($0["name"]!)" }.sorted()
        #expect(brokers == s.brokers.map { "\($0.id) \($0.host):\($0.port)" }.sorted())
        var kcatPartitions: [TopicPartition: String] = [:]
        for t in kcat["topics"] as! [[String: Any]] {
            for p in t["partitions"] as! [[String: Any]] {
                let ids = { (k: String) in (p[k] as! [[String: Any]]).map { "\($0["id"]!)" }.joined(separator: ",") }
                kcatPartitions[TopicPartition(t["topic"] as! String, Int32(p["partition"] as! Int))] =
                    "\(p["leader"]!) [\(ids("replicas"))] [\(ids("isrs"))]"
            }
        }
        let ours = Dictionary(
            uniqueKeysWithValues: s.allPartitions.map {
                (
                    TopicPartition($0.topic, $0.partition),
                    "\($0.leader) [\($0.replicas.map(String.init).joined(separator: ","))] "
                        + "[\($0.isr.map(String.init).joined(separator: ","))]"
                )
            })
        #expect(ours == kcatPartitions)
    }

    @Test func snapshotAgreesWithKafkaTopicsDescribeAndBrokerRackConfigs() async throws {
        let admin = try RealKafka.admin()
        let s = try await admin.snapshot()
        let described = try await RealKafka.kafkaTopicsDescribe()
        // kafka-topics.sh is slow (a JVM); a leader may move meanwhile, so compare to a snapshot taken after it.
        let after = try await admin.snapshot()
        for p in after.allPartitions {
            let d = try #require(described.partitions[TopicPartition(p.topic, p.partition)])
            #expect(d.replicas == p.replicas, "\(p.topic)-\(p.partition) replicas")
            #expect(Set(d.isr) == Set(p.isr), "\(p.topic)-\(p.partition) ISR")
            #expect(d.leader == p.leader, "\(p.topic)-\(p.partition) leader")
        }
        #expect(described.partitions.count == s.allPartitions.count)
        for t in s.topics where described.minIsr[t.name] != nil {
            #expect(described.minIsr[t.name] == t.minInSyncReplicas, "\(t.name) min.insync.replicas")
        }
        // Racks over DescribeCluster agree with each broker's own broker.rack (via librdkafka DescribeConfigs).
        for b in s.brokers {
            let c = try await admin.describeConfigs([.broker(b.id)], names: ["broker.rack"])
            #expect(c.first?["broker.rack"]?.value == b.rack, "broker \(b.id) rack")
            #expect(b.rack != nil)
        }
        await admin.shutdown()
    }

    @Test func describeQuorumAgreesWithKafkaMetadataQuorum() async throws {
        let admin = try RealKafka.admin()
        let q = try await admin.describeQuorum()
        await admin.shutdown()
        let out = try await RealKafka.tool("kafka-metadata-quorum.sh", ["describe", "--status"])
        let leader = out.split(separator: "\n").first { $0.hasPrefix("LeaderId:") }?.split(separator: " ").last
        #expect(leader.map(String.init) == String(q.leaderId))
        #expect(q.voters.count >= 1)
    }

    @Test func configsCreateDescribeAlterValidateOnlyAndDefaults() async throws {
        let admin = try RealKafka.admin()
        let topic = "ballast-admin-it-\(UInt32.random(in: 0...UInt32.max))"
        try await admin.createTopics(
            [NewTopic(name: topic, partitions: 3, replicationFactor: 3)], validateOnly: true)
        #expect(try await admin.snapshot().topics.contains { $0.name == topic } == false)
        try await admin.createTopics(
            [NewTopic(name: topic, partitions: 3, replicationFactor: 3, configs: ["min.insync.replicas": "2"])])
        let s = try await RealKafka.waitFor(admin, timeout: .seconds(30)) { $0.topics.contains { $0.name == topic } }
        #expect(s.topics.first { $0.name == topic }?.minInSyncReplicas == 2)

        // Topic: validate-only changes nothing; a real change shows as a dynamic topic config with synonyms.
        try await admin.incrementalAlterConfigs([.topic(topic): [.set("retention.ms", "3600000")]], validateOnly: true)
        var c = try await admin.describeConfigs([.topic(topic)])
        #expect(c[0]["retention.ms"]?.source == .defaultConfig)
        try await admin.incrementalAlterConfigs([.topic(topic): [.set("retention.ms", "3600000")]])
        // The change travels through the metadata log: every broker applies it shortly after.
        for _ in 0..<20 {
            c = try await admin.describeConfigs([.topic(topic)])
            if c[0]["retention.ms"]?.value == "3600000" { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let retention = try #require(c[0]["retention.ms"])
        #expect(retention.value == "3600000")
        #expect(retention.source == .dynamicTopic)
        #expect(retention.synonyms.first?.source == .dynamicTopic)

        // Broker: read-only and sensitive flags and the per-broker/cluster-default levels.
        let id = try #require(s.brokers.first?.id)
        let b = try await admin.describeConfigs([.broker(id)])
        #expect(b[0]["broker.id"]?.isReadOnly == true)
        #expect(b[0]["ssl.key.password"]?.isSensitive == true)
        try await admin.incrementalAlterConfigs(
            [.clusterDefault: [.set("log.cleaner.threads", "1")]], validateOnly: true)
        try await admin.incrementalAlterConfigs([.broker(id): [.set("log.cleaner.threads", "1")]], validateOnly: true)
        let d = try await admin.describeConfigs([.clusterDefault])
        #expect(d.count == 1)
        // A read-only key is refused, and the error names the resource and Kafka's error.
        await #expect {
            try await admin.incrementalAlterConfigs([.broker(id): [.set("broker.id", "7")]], validateOnly: true)
        } throws: { e in
            let m = (e as? KafkaAdminError)?.message ?? ""
            return m.contains("broker \(id)") && m.contains("INVALID")
        }
        _ = try await RealKafka.tool("kafka-topics.sh", ["--delete", "--topic", topic])
        await admin.shutdown()
    }

    @Test func logDirsCoverEveryReplicaAndUncleanElectionOfAHealthyPartitionIsNotNeeded() async throws {
        let admin = try RealKafka.admin()
        let s = try await admin.snapshot()
        let dirs = try await admin.describeLogDirs()
        #expect(dirs.map(\.brokerId) == s.brokers.map(\.id))
        var held = Set<String>()
        for b in dirs {
            for d in b.logDirs {
                #expect(d.errorName == nil)
                #expect(d.totalBytes > 0)
                for r in d.replicas where !r.isFuture { held.insert("\(b.brokerId):\(r.topic)-\(r.partition)") }
            }
        }
        for p in s.allPartitions {
            for r in p.replicas { #expect(held.contains("\(r):\(p.topic)-\(p.partition)")) }
        }
        let healthy = try #require(s.allPartitions.first { $0.isr.count == $0.replicas.count })
        let results = try await admin.electLeaders(
            .unclean, partitions: [TopicPartition(healthy.topic, healthy.partition)])
        #expect(results.count == 1)
        #expect(results.first?.errorName == "ELECTION_NOT_NEEDED")
        #expect(results.first?.succeeded == true)
        await admin.shutdown()
    }

    /// Stops one broker, sees the ISR shrink (and agree with kafka-topics.sh), runs a reassignment that cannot
    /// finish while the broker is down, lists and cancels it, starts the broker, waits for the ISR to
    /// recover and restores preferred leaders.
    @Test(.enabled(if: RealKafka.stopNode != nil, "set REALKAFKA_STOP_NODE to let the test stop a node"))
    func isrShrinksWhileANodeIsStoppedAndRecoversAfter() async throws {
        let node = RealKafka.stopNode!
        let admin = try RealKafka.admin()
        let suffix = UInt32.random(in: 0...UInt32.max)
        // A topic with replicas on every broker, min ISR 2: stopping one node leaves some partitions at min ISR.
        let isrTopic = "ballast-admin-isr-\(suffix)"
        try await admin.createTopics([
            NewTopic(name: isrTopic, partitions: 6, replicationFactor: 3, configs: ["min.insync.replicas": "2"])
        ])
        let before = try await RealKafka.waitFor(admin, timeout: .seconds(30)) { s in
            s.topics.contains { $0.name == isrTopic } && s.underReplicatedPartitions.isEmpty
        }
        try #require(before.underReplicatedPartitions.isEmpty, "the cluster must be healthy first")
        let hosted = before.allPartitions.filter { $0.replicas.contains(node) }
        try #require(!hosted.isEmpty)
        let topic = "ballast-admin-move-\(suffix)"
        let others = before.brokers.map(\.id).filter { $0 != node }
        try await admin.createTopics([NewTopic(name: topic, replicaAssignment: [Array(others.prefix(2))])])

        try RealKafka.cluster(["stop-node", String(node)])
        do {
            let down = try await RealKafka.waitFor(admin, timeout: .seconds(90)) { s in
                !s.brokers.contains { $0.id == node } && !s.allPartitions.contains { $0.isr.contains(node) }
            }
            #expect(!down.brokers.contains { $0.id == node })
            let under = down.underReplicatedPartitions
            #expect(
                Set(under.map { TopicPartition($0.topic, $0.partition) })
                    == Set(hosted.map { TopicPartition($0.topic, $0.partition) }))
            #expect(under.allSatisfy { $0.replicas.contains(node) && !$0.isr.contains(node) })
            // RF 3 with min ISR 2 and one replica gone: exactly at min ISR, not below it.
            #expect(down.atMinIsrPartitions.contains { $0.topic == isrTopic })
            #expect(!down.underMinIsrPartitions.contains { $0.topic == isrTopic })
            let tool = try await RealKafka.kafkaTopicsDescribe(["--under-replicated-partitions"])
            #expect(Set(tool.partitions.keys) == Set(under.map { TopicPartition($0.topic, $0.partition) }))
            for p in under {
                #expect(tool.partitions[TopicPartition(p.topic, p.partition)].map { Set($0.isr) } == Set(p.isr))
            }
            // A move onto the stopped broker cannot complete: it is listed until cancelled.
            let tp = TopicPartition(topic, 0)
            try await admin.alterPartitionReassignments([tp: [others[0], others[1], node]])
            let listed = try await admin.listPartitionReassignments()
            #expect(listed.first { $0.topic == topic }?.addingReplicas == [node])
            try await admin.cancelPartitionReassignments([tp])
            #expect(try await admin.listPartitionReassignments().contains { $0.topic == topic } == false)
        } catch {
            try? RealKafka.cluster(["start-node", String(node)])
            throw error
        }
        try RealKafka.cluster(["start-node", String(node)])
        let up = try await RealKafka.waitFor(admin, timeout: .seconds(180)) { $0.underReplicatedPartitions.isEmpty }
        #expect(up.underReplicatedPartitions.isEmpty)
        #expect(up.brokers.contains { $0.id == node })
        let results = try await admin.electLeaders(.preferred)
        #expect(results.allSatisfy { $0.succeeded })
        let after = try await RealKafka.waitFor(admin, timeout: .seconds(30)) { s in
            s.allPartitions.allSatisfy { $0.leader == $0.replicas.first }
        }
        #expect(after.allPartitions.allSatisfy { $0.leader == $0.replicas.first })
        _ = try await RealKafka.tool("kafka-topics.sh", ["--delete", "--topic", "ballast-admin-.*-\(suffix)"])
        await admin.shutdown()
    }

    @Test func describeCLIPrintsTheSnapshotAsJSON() async throws {
        let binary = try #require(ballastBinary)
        let r = try await run(binary, ["describe", "--bootstrap", RealKafka.bootstrap!, "--json"])
        #expect(r.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let brokers = json["brokers"] as! [[String: Any]]
        #expect(brokers.count >= 1)
        #expect(brokers.allSatisfy { $0["rack"] is String })
        let text = try await run(binary, ["describe", "--bootstrap", RealKafka.bootstrap!])
        #expect(text.status == 0)
        #expect(text.stdout.contains("Brokers \(brokers.count) in"))
    }
}
