public import AgentContract
public import KafkaModel
public import Planner

/// What one agent answered to `GET /v1/nodes` (with its token from the configuration).
public struct AgentReport: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case nodes([AgentNode])
        /// 401 or 403: the token is wrong.
        case unauthorized(String)
        case unreachable(String)
        case failed(String)
    }

    /// The agent's name, which is its Kubernetes cluster's.
    public var name: String
    public var url: String
    public var outcome: Outcome

    public init(name: String, url: String, outcome: Outcome) {
        self.name = name
        self.url = url
        self.outcome = outcome
    }
}

/// The verdict of `ballast topology check`: every check with its problems, the partitions that break the placement
/// rule, and the `ballast plan` command that fixes them.
public struct TopologyReport: Sendable, Hashable, Codable {
    public struct Check: Sendable, Hashable, Codable {
        /// `agents`, `nodes`, `racks`, `controllers`, `placement`.
        public var name: String
        public var ok: Bool
        /// One line: what was checked and found.
        public var summary: String
        /// One sentence per problem, naming the node, agent, rack or partition.
        public var problems: [String]
        /// Things worth knowing that do not fail the check.
        public var notes: [String]
    }

    public var cluster: String
    /// Every check passed.
    public var ok: Bool
    public var checks: [Check]
    public var violations: [ClusterLossViolation]
    /// Set when `violations` is not empty.
    public var fix: String?
    /// Whether a rebalance plan (default goals) satisfies the placement rule: nil when not planned.
    public var fixSatisfiesPlacement: Bool?
    public var fixMoves: Int?

}

/// Checks a Kafka cluster stretched over Kubernetes clusters against the configuration, from what the cluster and
/// the agents answered (no I/O here; `TopologyProbe` gathers the inputs):
///
/// - agents: every agent answers and takes its token;
/// - nodes: every node in the cluster's metadata (brokers and KRaft voters) is claimed by exactly one agent;
/// - racks: every broker's rack is in the configuration's rack map, in the Kubernetes cluster of its agent (without a
///   rack map: each rack lies within one Kubernetes cluster, as the agents report it);
/// - controllers: the KRaft voters are spread over at least 3 Kubernetes clusters and losing any one cluster leaves a
///   majority;
/// - placement: no Kubernetes cluster holds more than RF − min ISR replicas of a partition (the planner's
///   ClusterLossSurvivable, judged by the planner itself), listing the partitions that break it and the `ballast
///   plan` that fixes them.
public enum TopologyCheck {
    /// - Parameters:
    ///   - racks: the configuration's rack → Kubernetes cluster map (empty: not given).
    ///   - planCommand: the `ballast plan` command line for a rack map (what the report offers as the fix).
    ///   - plan: whether to run the planner to say whether that plan fixes the placement (and with how many moves).
    public static func check(
        cluster name: String, snapshot: ClusterSnapshot, agents: [AgentReport], racks configured: [String: String],
        planCommand: ([String: String]) -> String, plan: Bool = true
    ) -> TopologyReport {
        var checks: [TopologyReport.Check] = []

        // Agents.
        var answered: [String: [AgentNode]] = [:]
        var agentProblems: [String] = []
        for a in agents {
            switch a.outcome {
            case .nodes(let nodes): answered[a.name] = nodes
            case .unauthorized(let why):
                agentProblems.append("agent \(a.name) at \(a.url) refused its token: \(why)")
            case .unreachable(let why): agentProblems.append("agent \(a.name) at \(a.url) is unreachable: \(why)")
            case .failed(let why): agentProblems.append("agent \(a.name) at \(a.url) failed: \(why)")
            }
        }
        if agents.isEmpty { agentProblems.append("the configuration lists no agent for cluster \(name)") }
        checks.append(
            .init(
                name: "agents", ok: agentProblems.isEmpty,
                summary: "\(answered.count) of \(agents.count) agent(s) answered and took their token",
                problems: agentProblems, notes: []))

        // Nodes: each claimed by exactly one agent.
        var claims: [Int32: [String]] = [:]
        var nodeInfo: [Int32: AgentNode] = [:]
        for (agent, nodes) in answered.sorted(by: { $0.key < $1.key }) {
            for n in nodes {
                claims[n.id, default: []].append(agent)
                nodeInfo[n.id] = n
            }
        }
        let voters = Set(snapshot.quorum?.voters.map(\.replicaId) ?? [])
        let inMetadata = Set(snapshot.brokers.map(\.id)).union(voters)
        var nodeProblems: [String] = []
        var nodeNotes: [String] = []
        for id in inMetadata.sorted() {
            let by = claims[id] ?? []
            if by.isEmpty && agentProblems.isEmpty {
                nodeProblems.append("node \(id) (in the cluster's metadata) is claimed by no agent")
            } else if by.count > 1 {
                nodeProblems.append("node \(id) is claimed by agents \(by.joined(separator: " and "))")
            }
        }
        for id in claims.keys.sorted() where !inMetadata.contains(id) {
            nodeNotes.append(
                "node \(id) (agent \(claims[id]!.joined(separator: ", "))) is not in the cluster's metadata: it is down "
                    + "or not part of this Kafka cluster")
        }
        checks.append(
            .init(
                name: "nodes", ok: nodeProblems.isEmpty,
                summary: "\(inMetadata.count) node(s) in the metadata, \(claims.count) claimed by the agents",
                problems: nodeProblems, notes: nodeNotes))
        let clusterOfNode = claims.compactMapValues { $0.count == 1 ? $0[0] : nil }

        // Racks → Kubernetes clusters.
        var rackProblems: [String] = []
        var rackMap = configured
        var derived: [String: Set<String>] = [:]
        for b in snapshot.brokers {
            guard let rack = b.rack else {
                rackProblems.append("broker \(b.id) has no rack (broker.rack): placement cannot be checked per cluster")
                continue
            }
            let agent = clusterOfNode[b.id]
            if !configured.isEmpty {
                guard let mapped = configured[rack] else {
                    rackProblems.append("rack \(rack) of broker \(b.id) is not in the configuration's racks")
                    continue
                }
                if let agent, agent != mapped {
                    rackProblems.append(
                        "broker \(b.id) is in rack \(rack), which the configuration puts in Kubernetes cluster "
                            + "\(mapped), but agent \(agent) runs it")
                }
            } else if let agent {
                derived[rack, default: []].insert(agent)
            }
        }
        if configured.isEmpty {
            for (rack, clusters) in derived.sorted(by: { $0.key < $1.key }) {
                if clusters.count > 1 {
                    rackProblems.append(
                        "rack \(rack) spans Kubernetes clusters \(clusters.sorted().joined(separator: " and ")): "
                            + "a rack must lie within one")
                } else {
                    rackMap[rack] = clusters.first!
                }
            }
        }
        checks.append(
            .init(
                name: "racks", ok: rackProblems.isEmpty,
                summary: configured.isEmpty
                    ? "no rack map in the configuration; from the agents: "
                        + rackMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                    : "\(configured.count) rack(s) mapped to Kubernetes clusters",
                problems: rackProblems, notes: []))

        // Controllers spread.
        var controllerIds = voters
        if controllerIds.isEmpty {
            controllerIds = Set(nodeInfo.values.filter { $0.roles.contains(.controller) }.map(\.id))
        }
        var byCluster: [String: [Int32]] = [:]
        var controllerProblems: [String] = []
        for id in controllerIds.sorted() {
            if let c = clusterOfNode[id] {
                byCluster[c, default: []].append(id)
            } else {
                controllerProblems.append("controller \(id) runs in no known Kubernetes cluster (no agent claims it)")
            }
        }
        let majority = controllerIds.count / 2 + 1
        let spread = byCluster.sorted { $0.key < $1.key }.map {
            "\($0.key): \($0.value.map(String.init).joined(separator: ","))"
        }
        .joined(separator: "; ")
        if controllerIds.isEmpty {
            controllerProblems.append("the cluster reports no KRaft controller and no agent runs one")
        } else if byCluster.count < 3 {
            controllerProblems.append(
                "the \(controllerIds.count) controller(s) run in \(byCluster.count) Kubernetes cluster(s) (\(spread)); "
                    + "spread them over at least 3 so a quorum survives the loss of any one")
        }
        for (c, ids) in byCluster.sorted(by: { $0.key < $1.key }) where controllerIds.count - ids.count < majority {
            controllerProblems.append(
                "losing Kubernetes cluster \(c) loses \(ids.count) of \(controllerIds.count) controllers "
                    + "(\(ids.map(String.init).joined(separator: ","))): the rest are not a majority (\(majority))")
        }
        checks.append(
            .init(
                name: "controllers", ok: controllerProblems.isEmpty,
                summary: "\(controllerIds.count) controller(s), majority \(majority): \(spread)",
                problems: controllerProblems, notes: []))

        // Placement: ClusterLossSurvivable.
        var placementProblems: [String] = []
        var violations: [ClusterLossViolation] = []
        var fix: String?
        var fixOK: Bool?
        var fixMoves: Int?
        let model = ClusterModel(snapshot: snapshot, logDirs: [], rackCluster: rackMap)
        do {
            violations = try Planner.clusterLossViolations(model)
        } catch {
            placementProblems.append("the placement could not be judged: \(error)")
        }
        for v in violations.prefix(20) {
            let worst = v.perCluster.max { ($0.value, $1.key) < ($1.value, $0.key) }!
            placementProblems.append(
                "\(v.topic)-\(v.partition): \(worst.value) of its replicas (\(v.replicas.map(String.init).joined(separator: ","))) "
                    + "are in Kubernetes cluster \(worst.key); at most \(v.allowed) may be"
                    + (v.survivable
                        ? "" : " (the clusters cannot give RF − min ISR per cluster: spread evenly instead)"))
        }
        if violations.count > 20 { placementProblems.append("… and \(violations.count - 20) more partition(s)") }
        if !violations.isEmpty {
            fix = planCommand(rackMap)
            if plan, let result = try? Planner.plan(model, PlanRequest()) {
                fixOK = result.proposal.goals.first { $0.name == Goal.clusterLossSurvivable.rawValue }?.satisfiedAfter
                fixMoves = result.proposal.summary.replicaMoves
            }
        }
        checks.append(
            .init(
                name: "placement", ok: violations.isEmpty && placementProblems.isEmpty,
                summary:
                    "\(model.partitionCount) partition(s); \(violations.count) with more replicas in one Kubernetes "
                    + "cluster than RF − min ISR (the planner's ClusterLossSurvivable)",
                problems: placementProblems, notes: []))
        return TopologyReport(
            cluster: name, ok: checks.allSatisfy(\.ok), checks: checks, violations: violations, fix: fix,
            fixSatisfiesPlacement: fixOK,
            fixMoves: fixMoves)
    }
}
