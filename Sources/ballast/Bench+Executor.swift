import ArgumentParser
import Foundation
import KafkaAdmin
import KafkaModel
import KafkaSim
import Logging
import Operations
import Planner
import Rebalancer

/// `ballast bench executor`: the executor's own bookkeeping over a large proposal, and the wall time of an executed
/// rebalance in the simulator against its physical limit.
struct ExecutorBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract:
            "Times the executor's decisions over a 100k-move proposal (target ≤ 1 s) and an executed add-brokers "
            + "rebalance in the simulator against its physical limit (target ≤ 1.2×).")

    @Option(help: "Moves in the bookkeeping run.") var moves = 100_000
    @Option(help: "Brokers in the bookkeeping run (a third of them new).") var brokers = 300
    @Option(help: "Partitions in the simulator run (on brokers 1-3, moving to 4-6).") var simPartitions = 24
    @Option(help: "MiB per partition in the simulator run.") var simPartitionMiB = 4.0
    @Option(help: "Throttle in bytes per cluster second in the simulator run.") var simThrottle: Int64 = 1_048_576
    @Option(help: "Simulator time scale (cluster seconds per real second).") var timeScale = 20.0
    @Flag(help: "Only the bookkeeping run.") var noSim = false

    func run() async throws {
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(PlannerBench.cpuModel())")
        try bookkeeping()
        if !noSim { try await simulatorRun() }
    }

    // MARK: Bookkeeping

    /// Every move of a `moves`-partition proposal carried out against an in-memory cluster that completes each
    /// reassignment by the next poll; only the state machine's own calls are timed.
    func bookkeeping() throws {
        let clock = ContinuousClock()
        let newBrokers = max(1, brokers / 3)
        let old = Int32(brokers - newBrokers)
        var cluster = BenchCluster(moves: moves, oldBrokers: old, newBrokers: Int32(newBrokers))
        var options = RebalanceOptions()
        options.throttleBytesPerSecond = 10_000_000
        // Wall time of the decisions and their CPU time on this thread (on a loaded machine the wall time also
        // counts waiting for a core; the CPU time is the work).
        var spent = Duration.zero
        var spentCPU = 0.0
        let cpu0 = PlannerBench.cpuSeconds()
        func timed<T>(_ body: () -> T) -> T {
            let (t, c) = (clock.now, Self.threadCPUSeconds())
            let value = body()
            spent += clock.now - t
            spentCPU += Self.threadCPUSeconds() - c
            return value
        }
        var machine = RebalanceStateMachine(moves: cluster.planned, options: options)
        var step = timed { machine.start(now: 0) }
        var polls = 0
        var now = 0.0
        loop: while true {
            let action = step.action
            switch action {
            case .finished(let report):
                print(
                    "bookkeeping: \(moves) moves over \(brokers) brokers, \(polls) polls; decisions took "
                        + String(format: "%.3f s CPU (%.3f s wall)", spentCPU, spent.seconds)
                        + " (CPU of the whole run incl. the in-memory cluster: "
                        + String(format: "%.3f s", PlannerBench.cpuSeconds() - cpu0) + "); "
                        + "done \(report.done), clean \(report.isClean)")
                print(spentCPU <= 1 ? "PASS: bookkeeping ≤ 1 s of CPU" : "FAIL: bookkeeping > 1 s of CPU")
                break loop
            case .read(let request):
                polls += 1
                let observation = cluster.observation(request)
                step = timed { machine.observed(observation, now: now) }
            case .alterThrottles(let changes):
                cluster.alter(changes)
                step = timed { machine.throttlesAltered(failures: [:], now: now) }
            case .startMoves(let list):
                cluster.start(list, machine.moves)
                step = timed { machine.movesStarted(refused: [:], unknown: [], now: now) }
            case .cancelMoves:
                step = timed { machine.movesCancelled(failures: [:], now: now) }
            case .electLeaders(let tps):
                cluster.elect(tps)
                step = timed { machine.leadersElected(tps, failures: [:], now: now) }
            case .wait(let seconds):
                now += seconds
                cluster.completeAll()
                step = timed { machine.waited(now: now) }
            }
        }
    }

    /// CPU time of the calling thread.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    // MARK: Simulator

    /// Brokers 1-6 in racks a/b/c, every partition on 1-3; plan add-brokers 4,5,6 and execute it over the wire at
    /// the throttle. The physical limit is the busiest broker's bytes ÷ throttle (`ExecutionCost`).
    func simulatorRun() async throws {
        var topology = SimTopology()
        topology.model = Self.addBrokersModel(partitions: simPartitions, mib: simPartitionMiB)
        var settings = SimSettings()
        settings.startupDelayMs = 1000
        let sim = try await EmbeddedSimulator.start(try topology.build(settings: settings), timeScale: timeScale)
        defer { sim.cancel() }
        let admin = try KafkaAdmin(configuration: KafkaAdminConfiguration(bootstrap: sim.bootstrap))
        let model = try await ClusterModel.read(from: admin, rackCluster: [:])
        var request = PlanRequest()
        request.mode = .addBrokers
        request.brokers = [4, 5, 6]
        let proposal = try await Planner.plan(model, request).proposal
        let planned = proposal.plannedMoves
        var options = RebalanceOptions()
        options.throttleBytesPerSecond = simThrottle
        options.timeouts.pollSeconds = 0.1
        let cost = ExecutionCost(moves: planned, throttleBytesPerSecond: simThrottle)
        let executor = RebalanceExecutor(
            operationId: "bench", moves: planned, hash: proposal.canonicalHash, options: options,
            cluster: KafkaAdminRebalanceCluster(admin: admin), store: nil, logger: Logger(label: "bench"))
        let start = sim.simulator.clusterNow()
        let simulator = sim.simulator
        let report = try await executor.run { event in
            switch event {
            case .progress: break
            default: print(String(format: "%7.1f", Double(simulator.clusterNow() - start) / 1000), event)
            }
        }
        let seconds = Double(sim.simulator.clusterNow() - start) / 1000
        await admin.shutdown()
        let limit = cost.secondsAtThrottle ?? 0
        print(
            "simulator: add-brokers 4,5,6, \(planned.filter(\.copiesData).count) replica moves, "
                + "\(mib(cost.bytesToCopy)) copied, busiest broker \(cost.busiestBroker ?? -1) carries "
                + "\(mib(cost.busiestBrokerBytes)) at \(simThrottle) bytes/s: physical limit "
                + String(format: "%.1f s", limit) + ", executed in " + String(format: "%.1f s", seconds)
                + " of cluster time (ratio " + String(format: "%.3f", limit > 0 ? seconds / limit : 0)
                + "), clean \(report.isClean)")
        print(limit > 0 && seconds <= 1.2 * limit ? "PASS: wall ≤ 1.2 × physical limit" : "FAIL: wall > 1.2 × limit")
    }

    static func addBrokersModel(partitions: Int, mib: Double) -> ClusterModelFile {
        let racks = ["rack-a", "rack-b", "rack-c"]
        let brokers = (1...6).map { id in
            ClusterModelFile.Broker(
                id: Int32(id), rack: racks[(id - 1) % 3], cluster: nil, state: .alive,
                capacity: .init(disk: 100_000))
        }
        let sets: [[Int32]] = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
        let topic = ClusterModelFile.Topic(
            name: "load", minInSyncReplicas: 2,
            partitions: (0..<partitions).map {
                ClusterModelFile.Partition(id: Int32($0), replicas: sets[$0 % 3], load: .init(disk: mib))
            })
        return ClusterModelFile(brokers: brokers, topics: [topic])
    }
}

/// The in-memory cluster of the bookkeeping run: `moves` partitions of RF 3 on the old brokers, each moving one
/// replica to a new broker; a reassignment completes at the next poll.
struct BenchCluster {
    var snapshot: ClusterSnapshot
    var planned: [PlannedMove] = []
    var location: [TopicPartition: (Int, Int)] = [:]
    var inFlight: [TopicPartition: PartitionReassignment] = [:]
    var configs: [ThrottleKey: String] = [:]

    init(moves: Int, oldBrokers: Int32, newBrokers: Int32) {
        let perTopic = 100
        var topics: [TopicInfo] = []
        var rng = SplitMix64(seed: 1)
        for t in 0..<(moves + perTopic - 1) / perTopic {
            var partitions: [PartitionInfo] = []
            for p in 0..<min(perTopic, moves - t * perTopic) {
                let a = Int32(rng.next() % UInt64(oldBrokers)) + 1
                let replicas = [a, a % oldBrokers + 1, (a + 1) % oldBrokers + 1]
                partitions.append(
                    PartitionInfo(
                        topic: "topic-\(t)", partition: Int32(p), leader: a, replicas: replicas, isr: replicas))
                let target = oldBrokers + Int32(rng.next() % UInt64(newBrokers)) + 1
                planned.append(
                    PlannedMove(
                        topicPartition: TopicPartition("topic-\(t)", Int32(p)), oldReplicas: replicas,
                        newReplicas: [target, replicas[1], replicas[2]], oldLeader: a,
                        bytes: Int64(rng.next() % 1_000_000_000), crossCluster: rng.next() % 3 == 0))
                location[TopicPartition("topic-\(t)", Int32(p))] = (topics.count, partitions.count - 1)
            }
            topics.append(TopicInfo(name: "topic-\(t)", minInSyncReplicas: 2, partitions: partitions))
        }
        snapshot = ClusterSnapshot(
            brokers: (1...(oldBrokers + newBrokers)).map { BrokerInfo(id: $0, host: "h", port: 9092) }, topics: topics)
    }

    func observation(_ request: RebalanceStateMachine.ReadRequest) -> RebalanceStateMachine.Observation {
        let reads = request.configs.map { r in
            ThrottleRead(resource: r, values: ThrottleConfig.keys(of: r).map { configs[ThrottleKey(r, $0)] })
        }
        return .init(snapshot: snapshot, reassignments: Array(inFlight.values), throttles: reads)
    }

    mutating func alter(_ changes: [ThrottleChange]) { for c in changes { configs[c.key] = c.value } }

    mutating func start(_ list: [Int], _ moves: [PlannedMove]) {
        for m in list {
            let move = moves[m]
            let (t, p) = location[move.topicPartition]!
            snapshot.topics[t].partitions[p].replicas = move.newReplicas + move.removed
            inFlight[move.topicPartition] = PartitionReassignment(
                topic: move.topicPartition.topic, partition: move.topicPartition.partition,
                replicas: move.newReplicas + move.removed, addingReplicas: move.added, removingReplicas: move.removed)
        }
    }

    mutating func completeAll() {
        for (tp, r) in inFlight {
            let (t, p) = location[tp]!
            let target = r.targetReplicas
            snapshot.topics[t].partitions[p].replicas = target
            snapshot.topics[t].partitions[p].isr = target
            if !target.contains(snapshot.topics[t].partitions[p].leader) {
                snapshot.topics[t].partitions[p].leader = target[0]
            }
        }
        inFlight = [:]
    }

    mutating func elect(_ tps: [TopicPartition]) {
        for tp in tps {
            let (t, p) = location[tp]!
            snapshot.topics[t].partitions[p].leader = snapshot.topics[t].partitions[p].replicas[0]
        }
    }
}
