import ArgumentParser
import Foundation
import KafkaAdmin
import KafkaModel
import ServiceContract

/// `ballast describe`: the cluster snapshot, readable or as JSON.
struct DescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Show brokers by rack, the controller, topic and partition counts, and the partitions at risk.")

    @OptionGroup var connection: ConnectionOptions

    @Flag(help: "Print the full snapshot as JSON.")
    var json = false

    func run() async throws {
        try connection.check(requireBootstrap: true)
        let configuration = try connection.adminConfiguration()
        let snapshot: ClusterSnapshot
        do {
            let admin = try connection.makeAdmin(configuration)
            let result: Result<ClusterSnapshot, KafkaAdminError>
            do { result = .success(try await admin.snapshot()) } catch { result = .failure(error) }
            await admin.shutdown()
            snapshot = try result.get()
        } catch {
            let code = error.code == .invalidArgument ? BallastExit.badInput : BallastExit.failed
            FileHandle.standardError.write(Data((error.message + "\n").utf8))
            throw code
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(ClusterHealth(snapshot))
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(DescribeText.render(snapshot), terminator: "")
        }
    }
}

/// The readable summary.
enum DescribeText {
    static func render(_ s: ClusterSnapshot) -> String {
        var out = ""
        let racks = Dictionary(grouping: s.brokers, by: { $0.rack ?? "(no rack)" })
        out += "Cluster \(s.clusterId ?? "(unknown id)")\n"
        out += "Controller \(s.controllerId >= 0 ? String(s.controllerId) : "unknown")"
        if let q = s.quorum {
            out += " (KRaft quorum leader \(q.leaderId), epoch \(q.leaderEpoch); voters "
            out += q.voters.map { String($0.replicaId) }.joined(separator: ",")
            if !q.observers.isEmpty {
                out += "; observers " + q.observers.map { String($0.replicaId) }.joined(separator: ",")
            }
            out += ")"
        }
        out += "\n"
        out += "Brokers \(s.brokers.count) in \(racks.count) rack\(racks.count == 1 ? "" : "s")\n"
        for rack in racks.keys.sorted() {
            let list = racks[rack]!.sorted { $0.id < $1.id }.map { "\($0.id) \($0.host):\($0.port)" }
            out += "  \(rack): " + list.joined(separator: ", ") + "\n"
        }
        let partitions = s.allPartitions
        let internalTopics = s.topics.filter(\.isInternal)
        out += "Topics \(s.topics.count) (\(internalTopics.count) internal), partitions \(partitions.count)\n"
        let offline = s.offlinePartitions
        let under = s.underReplicatedPartitions
        let underMin = s.underMinIsrPartitions
        let atMin = s.atMinIsrPartitions
        out += "Offline \(offline.count), under-replicated \(under.count), under min ISR \(underMin.count), "
        out += "at min ISR \(atMin.count)\n"
        let minIsr = Dictionary(s.topics.map { ($0.name, $0.minInSyncReplicas) }, uniquingKeysWith: { a, _ in a })
        var atRisk: [(PartitionInfo, String)] = []
        var seen = Set<String>()
        for (list, why) in [
            (offline, "offline"), (underMin, "under min ISR"), (atMin, "at min ISR"), (under, "under-replicated"),
        ] {
            for p in list where seen.insert("\(p.topic)-\(p.partition)").inserted { atRisk.append((p, why)) }
        }
        if atRisk.isEmpty {
            out += "No partition at risk.\n"
        } else {
            out += "At risk\n"
            for (p, why) in atRisk {
                let ids = { (a: [Int32]) in a.map(String.init).joined(separator: ",") }
                out += "  \(p.topic)-\(p.partition)  \(why)  leader \(p.leader)  replicas [\(ids(p.replicas))]  "
                out += "isr [\(ids(p.isr))]  min.insync.replicas \(minIsr[p.topic] ?? 0)"
                if !p.offlineReplicas.isEmpty { out += "  offline [\(ids(p.offlineReplicas))]" }
                out += "\n"
            }
        }
        return out
    }
}
