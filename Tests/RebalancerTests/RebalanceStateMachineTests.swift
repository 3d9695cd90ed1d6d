import Foundation
import KafkaModel
import Testing

@testable import Rebalancer

/// The executor's decisions, transition by transition, against a fake cluster the tests move forward by hand.
@Suite struct RebalanceStateMachineTests {
    static func options(throttle: Int64? = 1000, perBroker: Int = 5, maxMoves: Int = 1250) -> RebalanceOptions {
        var o = RebalanceOptions()
        o.throttleBytesPerSecond = throttle
        o.movesPerBroker = perBroker
        o.maxMoves = maxMoves
        o.timeouts.pollSeconds = 5
        return o
    }

    static func startedMoves(_ actions: [RebalanceStateMachine.Action]) -> [Int] {
        actions.flatMap { action -> [Int] in
            if case .startMoves(let m) = action { return m }
            return []
        }
    }

    // MARK: Throttles

    @Test func throttlesAreSetWithTheirPriorValuesJournaledBeforeTheFirstMoveStarts() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        cluster.configs[ThrottleKey(.broker(1), ThrottleConfig.leaderRate)] = "5000"
        cluster.configs[ThrottleKey(.topic("t"), ThrottleConfig.followerReplicas)] = "0:9"
        var d = Drive(
            RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: Self.options()), cluster)
        d.poll()

        let alterAt = try #require(d.steps.firstIndex { if case .alterThrottles = $0.action { true } else { false } })
        let startAt = try #require(d.steps.firstIndex { if case .startMoves = $0.action { true } else { false } })
        #expect(alterAt < startAt)
        // The prior values go to the journal with the step that changes them.
        let priors = Dictionary(uniqueKeysWithValues: d.steps[alterAt].priors.map { ($0.key, $0.value) })
        #expect(priors[ThrottleKey(.broker(1), ThrottleConfig.leaderRate)] == .some("5000"))
        #expect(priors[ThrottleKey(.topic("t"), ThrottleConfig.followerReplicas)] == .some("0:9"))
        #expect(priors[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] == .some(nil))
        #expect(d.steps[startAt].journal.contains { $0.index == 0 && $0.status == .requested })

        // Rates on every broker taking part; Ballast's entries added after the topic's own.
        for b: Int32 in 1...4 {
            #expect(d.cluster.configs[ThrottleKey(.broker(b), ThrottleConfig.leaderRate)] == "1000")
            #expect(d.cluster.configs[ThrottleKey(.broker(b), ThrottleConfig.followerRate)] == "1000")
        }
        #expect(d.cluster.configs[ThrottleKey(.topic("t"), ThrottleConfig.leaderReplicas)] == "0:1,0:2,0:3")
        #expect(d.cluster.configs[ThrottleKey(.topic("t"), ThrottleConfig.followerReplicas)] == "0:9,0:4")
        #expect(d.journal.contains { $0.index == 0 && $0.status == .inFlight })
    }

    @Test func everyThrottleIsRestoredExactlyAtTheEnd() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        cluster.configs[ThrottleKey(.broker(1), ThrottleConfig.leaderRate)] = "5000"
        cluster.configs[ThrottleKey(.topic("t"), ThrottleConfig.followerReplicas)] = "0:9"
        let before = cluster.configs
        var d = Drive(
            RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: Self.options()), cluster)
        let ended = d.runToEnd()
        let report = try #require(ended)
        #expect(report.isClean, "\(report.summary)")
        #expect(d.cluster.configs == before)
        #expect(d.cluster.partitions[TopicPartition("t", 0)]?.replicas == [4, 2, 3])
        #expect(d.events.contains { if case .throttlesRestored = $0 { true } else { false } })
    }

    @Test func aTopicThrottledForEveryReplicaIsLeftAsItIs() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        cluster.configs[ThrottleKey(.topic("t"), ThrottleConfig.leaderReplicas)] = "*"
        var d = Drive(
            RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: Self.options()), cluster)
        let ended = d.runToEnd()
        let report = try #require(ended)
        #expect(report.isClean)
        #expect(d.cluster.configs[ThrottleKey(.topic("t"), ThrottleConfig.leaderReplicas)] == "*")
        #expect(!d.priors.contains { $0.key == ThrottleKey(.topic("t"), ThrottleConfig.leaderReplicas) })
    }

    @Test func aBrokersRateGoesOnlyWhenNoMoveOnItIsInFlight() throws {
        var cluster = FakeCluster(brokers: 1...5)
        cluster.topic("t", [[1, 2, 3], [1, 2, 3]])
        var d = Drive(
            RebalanceStateMachine(
                moves: [move("t", 0, [1, 2, 3], [4, 2, 3]), move("t", 1, [1, 2, 3], [5, 2, 3])],
                options: Self.options()), cluster)
        d.poll()
        #expect(d.cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] == "1000")
        #expect(d.cluster.configs[ThrottleKey(.broker(5), ThrottleConfig.followerRate)] == "1000")
        d.cluster.complete(.tp("t", 0))
        d.poll()
        #expect(d.cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] == nil)
        #expect(d.cluster.configs[ThrottleKey(.broker(5), ThrottleConfig.followerRate)] == "1000")
        #expect(d.cluster.configs[ThrottleKey(.broker(1), ThrottleConfig.leaderRate)] == "1000")
        #expect(d.cluster.configs[ThrottleKey(.topic("t"), ThrottleConfig.followerReplicas)] == "1:5")
    }

    /// 5000 moves from 200 brokers to 100 new ones: brokers lose their rate between their moves and need it
    /// again later. Each read used to replace the last, so a batch needing brokers read in an earlier poll waited
    /// on reads that never covered them all at once, and the execution never ended (found by `bench executor`).
    @Test func manyMovesWhoseBrokersLoseAndRegainTheirRateAllFinish() throws {
        var cluster = FakeCluster(brokers: 1...300)
        var moves: [PlannedMove] = []
        var rng = SplitMix64(seed: 1)
        for t in 0..<50 {
            var replicas: [[Int32]] = []
            for p in 0..<100 {
                let a = Int32(rng.next() % 200) + 1
                let old = [a, a % 200 + 1, (a + 1) % 200 + 1]
                replicas.append(old)
                let target = 200 + Int32(rng.next() % 100) + 1
                moves.append(
                    move(
                        "t\(t)", Int32(p), old, [target, old[1], old[2]], bytes: Int64(rng.next() % 1_000_000_000),
                        cross: rng.next() % 3 == 0))
            }
            cluster.topic("t\(t)", replicas)
        }
        var options = Self.options(throttle: 10_000_000)
        options.timeouts.stuckFloorSeconds = 1_000_000
        var d = Drive(RebalanceStateMachine(moves: moves, options: options), cluster)
        let ended = d.runToEnd(limit: 100)
        let report = try #require(ended, "the execution did not end within 100 polls")
        #expect(report.done == 5000)
        #expect(report.isClean, "\(report.summary)")
    }

    @Test func aThrottleThatCannotBeRestoredIsReportedAfterBoundedAttempts() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        var options = Self.options()
        options.timeouts.cleanupAttempts = 3
        var d = Drive(RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: options), cluster)
        d.poll()
        d.cluster.completeAll()
        d.cluster.failAlters[.broker(4)] = "POLICY_VIOLATION"
        let ended = d.runToEnd(limit: 20)
        let report = try #require(ended)
        #expect(!report.isClean)
        #expect(report.throttlesNotRestored.map(\.key.resource) == [.broker(4), .broker(4)])
        #expect(report.throttlesNotRestored.allSatisfy { $0.reason.contains("POLICY_VIOLATION") })
        #expect(report.done == 1)
    }

    @Test func noMoveStartsWhileItsThrottleCannotBeSet() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        cluster.failAlters[.topic("t")] = "INVALID_CONFIG"
        var options = Self.options()
        options.timeouts.cleanupAttempts = 2
        var d = Drive(RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: options), cluster)
        let ended = d.runToEnd(limit: 20)
        let report = try #require(ended)
        #expect(d.cluster.requests.isEmpty)
        #expect(report.outcome == .failed)
        #expect(report.failure?.contains("topic 't'") == true)
        #expect(report.dropped == 1)
        // What it did set on the brokers is put back.
        #expect(d.cluster.configs.isEmpty)
    }

    // MARK: Batches

    @Test func batchesRespectTheMovesPerBrokerAndTheClusterBound() throws {
        var cluster = FakeCluster(brokers: 1...10)
        cluster.topic("t", (0..<12).map { _ in [1, 2, 3] })
        let moves = (0..<12).map { move("t", Int32($0), [1, 2, 3], [Int32(4 + $0 % 6), 2, 3]) }
        var d = Drive(RebalanceStateMachine(moves: moves, options: Self.options(perBroker: 3)), cluster)
        // Broker 1 leads every partition: 3 at a time.
        #expect(Self.startedMoves(d.poll()).count == 3)
        var e = Drive(RebalanceStateMachine(moves: moves, options: Self.options(perBroker: 50, maxMoves: 4)), cluster)
        #expect(Self.startedMoves(e.poll()).count == 4)
        let ended = e.runToEnd()
        let report = try #require(ended)
        #expect(report.done == 12)
    }

    @Test func theBusiestBrokerIsServedFirst() throws {
        var cluster = FakeCluster(brokers: 1...9)
        cluster.topic("t", [[1, 2, 3], [2, 3, 1], [3, 1, 2]])
        let moves = [
            move("t", 2, [3, 1, 2], [5, 1, 2], bytes: 10),
            move("t", 0, [1, 2, 3], [4, 2, 3], bytes: 5000),
            move("t", 1, [2, 3, 1], [4, 3, 1], bytes: 5000),
        ]
        var d = Drive(RebalanceStateMachine(moves: moves, options: Self.options(maxMoves: 1)), cluster)
        let first = Self.startedMoves(d.poll())
        #expect(first.count == 1)
        #expect(moves[first[0]].added == [4])
    }

    @Test func bigAndCrossClusterMovesAreSpreadThroughTheOrder() {
        #expect(MoveSchedule.spread([1, 2, 3, 4, 5]) == [1, 5, 2, 4, 3])
        let order = MoveSchedule.interleave([100, 101], [1, 2, 3, 4, 5, 6])
        #expect(order.count == 8)
        let positions = [100, 101].map { order.firstIndex(of: $0)! }
        #expect(positions[0] >= 1 && positions[1] >= 5 && positions[1] - positions[0] >= 3, "\(order)")
    }

    // MARK: Safety

    @Test func aStaleProposalIsRefusedMoveByMoveWithReasons() throws {
        var cluster = FakeCluster(brokers: 1...6)
        cluster.topic("t", [[1, 2, 5], [1, 2, 3], [1, 2, 3], [1, 2, 3]])
        cluster.start(.tp("t", 1), [6, 2, 3])  // a reassignment Ballast did not start
        cluster.requests = []
        let moves = [
            move("t", 0, [1, 2, 3], [4, 2, 3]),
            move("t", 1, [1, 2, 3], [4, 2, 3]),
            move("t", 2, [1, 2, 3], [4]),
            move("t", 3, [1, 2, 3], [4, 2, 3]),
        ]
        var d = Drive(RebalanceStateMachine(moves: moves, options: Self.options()), cluster)
        let ended = d.runToEnd(completing: [.tp("t", 3)])
        let report = try #require(ended)
        let reasons = Dictionary(uniqueKeysWithValues: report.skipped.map { ($0.topicPartition.partition, $0.reason) })
        #expect(reasons[0]?.contains("stale: its replicas are [1, 2, 5]") == true)
        #expect(reasons[1]?.contains("did not start") == true)
        #expect(reasons[2]?.contains("unsafe") == true)
        #expect(report.done == 1)
        #expect(report.outcome == .incomplete)
        // The other reassignment is never touched.
        #expect(!d.cluster.requests.contains { $0.0 == .tp("t", 1) })
        #expect(d.cluster.reassignments[.tp("t", 1)] != nil)
    }

    @Test func anOfflinePartitionOutsideTheMovesHoldsNewMovesThenTheExecutionEndsFailed() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        cluster.topic("u", [[2, 3, 1]])
        cluster.partitions[TopicPartition("u", 0)]!.leader = -1
        var options = Self.options()
        options.timeouts.gateSeconds = 12
        var d = Drive(RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: options), cluster)
        #expect(Self.startedMoves(d.poll()).isEmpty)
        #expect(d.events.contains { if case .waiting(let r) = $0 { r.contains("u-0 is offline") } else { false } })
        let ended = d.runToEnd(limit: 10)
        let report = try #require(ended)
        #expect(report.outcome == .failed)
        #expect(report.failure?.contains("u-0 is offline") == true)
        #expect(report.dropped == 1)
        #expect(d.cluster.requests.isEmpty)
    }

    @Test func aPartitionUnderMinIsrThatTheProposalMovesDoesNotHoldTheExecution() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 9]])
        cluster.partitions[TopicPartition("t", 0)]!.isr = [1]  // 9 is dead, 2 fell behind: fix-offline's case
        var d = Drive(
            RebalanceStateMachine(moves: [move("t", 0, [1, 2, 9], [1, 2, 4])], options: Self.options()), cluster)
        #expect(Self.startedMoves(d.poll()) == [0])
        // The dead broker is not throttled (it cannot be reached); the live ones are.
        #expect(d.cluster.configs[ThrottleKey(.broker(9), ThrottleConfig.leaderRate)] == nil)
        #expect(d.cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] == "1000")
    }

    @Test func kafkaRefusingAMoveSkipsItWithKafkasReason() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        cluster.refuse[.tp("t", 0)] = "INVALID_REPLICA_ASSIGNMENT: broker 4 is fenced"
        var d = Drive(
            RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: Self.options()), cluster)
        let ended = d.runToEnd()
        let report = try #require(ended)
        #expect(report.skipped.first?.reason.contains("INVALID_REPLICA_ASSIGNMENT") == true)
        #expect(d.cluster.configs.isEmpty)
    }

    // MARK: Stuck moves and dead destinations

    @Test func aStuckMoveIsReportedThenCancelledWhileTheRestFinish() throws {
        var cluster = FakeCluster(brokers: 1...5)
        cluster.topic("t", [[1, 2, 3], [2, 3, 1]])
        var options = Self.options()
        options.timeouts.stuckFloorSeconds = 10
        options.timeouts.stuckFactor = 1
        var d = Drive(
            RebalanceStateMachine(
                moves: [move("t", 0, [1, 2, 3], [4, 2, 3]), move("t", 1, [2, 3, 1], [5, 3, 1])], options: options),
            cluster)
        d.poll()  // t = 0: both start
        d.cluster.complete(.tp("t", 1))
        d.poll()  // t = 5
        d.poll()  // t = 10: past the first deadline
        #expect(d.events.contains { if case .moveStuck(let tp, _) = $0 { tp == .tp("t", 0) } else { false } })
        #expect(d.cluster.reassignments[.tp("t", 0)] != nil)
        d.poll()  // t = 15
        d.poll()  // t = 20: past the second: cancelled
        #expect(d.cluster.reassignments[.tp("t", 0)] == nil)
        #expect(d.cluster.partitions[TopicPartition("t", 0)]?.replicas == [1, 2, 3])
        let ended = d.runToEnd(complete: false)
        let report = try #require(ended)
        #expect(report.cancelled.map(\.topicPartition) == [.tp("t", 0)])
        #expect(report.cancelled[0].reason.contains("stuck"))
        #expect(report.done == 1)
        #expect(report.outcome == .incomplete)
        #expect(d.cluster.configs.isEmpty)
    }

    @Test func aDestinationThatDiesCancelsOnlyTheMovesThatNeedIt() throws {
        var cluster = FakeCluster(brokers: 1...5)
        cluster.topic("t", [[1, 2, 3], [2, 3, 1]])
        var options = Self.options()
        options.timeouts.deadBrokerSeconds = 10
        var d = Drive(
            RebalanceStateMachine(
                moves: [move("t", 0, [1, 2, 3], [4, 2, 3]), move("t", 1, [2, 3, 1], [5, 3, 1])], options: options),
            cluster)
        d.poll()
        d.cluster.brokers.remove(5)
        d.poll()  // missing since t = 5
        d.poll()  // t = 10
        #expect(d.cluster.reassignments[.tp("t", 1)] != nil)
        d.poll()  // t = 15: missing for 10 s
        #expect(d.cluster.reassignments[.tp("t", 1)] == nil)
        #expect(d.cluster.reassignments[.tp("t", 0)] != nil)
        let ended = d.runToEnd()
        let report = try #require(ended)
        #expect(report.cancelled.map(\.topicPartition) == [.tp("t", 1)])
        #expect(report.cancelled[0].reason.contains("destination broker 5 left the cluster"))
        #expect(report.done == 1)
        // Broker 5's rate could not be removed while it is gone: reported, not hung on.
        #expect(report.throttlesNotRestored.allSatisfy { $0.key.resource == .broker(5) })
    }

    @Test func aMoveWhoseCancellationWouldGoBelowMinIsrIsLeftToFinish() throws {
        var cluster = FakeCluster(brokers: 1...6)
        cluster.topic("t", [[1, 2, 3]])
        var d = Drive(
            RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 5, 6])], options: Self.options()), cluster)
        d.poll()
        // 4 and 5 caught up; 2 and 3 fell out: reverting would leave only 1 in sync.
        d.cluster.partitions[TopicPartition("t", 0)]!.isr = [1, 4, 5]
        d.machine.requestStop()
        d.poll()
        #expect(d.cluster.reassignments[.tp("t", 0)] != nil)
        #expect(d.events.contains { if case .warning(let w) = $0 { w.contains("left to finish") } else { false } })
        let ended = d.runToEnd()
        let report = try #require(ended)
        #expect(report.outcome == .stopped)
        #expect(d.cluster.partitions[TopicPartition("t", 0)]?.replicas == [4, 5, 6])
        #expect(report.leftInFlight.isEmpty && report.throttlesNotRestored.isEmpty)
    }

    // MARK: Stop and resume

    @Test func stopCancelsTheMovesInFlightKeepsTheDoneOnesAndRestoresThrottles() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3], [1, 2, 3], [1, 2, 3]])
        cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] = "777"
        let before = cluster.configs
        let moves = (0..<3).map { move("t", Int32($0), [1, 2, 3], [4, 2, 3]) }
        var d = Drive(RebalanceStateMachine(moves: moves, options: Self.options(perBroker: 1)), cluster)
        d.poll()
        d.cluster.completeAll()
        d.poll()  // the first is done, the second starts
        d.machine.requestStop()
        let ended = d.runToEnd(complete: false)
        let report = try #require(ended)
        #expect(report.outcome == .stopped)
        #expect(report.done == 1)
        #expect(report.cancelled.count == 1 && report.cancelled[0].reason == "stopped by request")
        #expect(report.dropped == 1)
        #expect(d.cluster.reassignments.isEmpty)
        #expect(d.cluster.partitions[TopicPartition("t", 0)]?.replicas == [4, 2, 3])
        #expect(d.cluster.partitions[TopicPartition("t", 1)]?.replicas == [1, 2, 3])
        #expect(d.cluster.configs == before)
    }

    @Test func aResumedExecutionAdoptsMovesInFlightAndRestoresThePriorThrottles() throws {
        var cluster = FakeCluster(brokers: 1...5)
        cluster.topic("t", [[1, 2, 3], [1, 2, 3], [1, 2, 3]])
        // As the crashed run left it: t-0 moving, t-1 requested but never sent, throttles set over a prior 777.
        cluster.start(.tp("t", 0), [4, 2, 3])
        cluster.requests = []
        let priors = [
            ThrottlePrior(key: ThrottleKey(.broker(4), ThrottleConfig.followerRate), value: "777"),
            ThrottlePrior(key: ThrottleKey(.broker(4), ThrottleConfig.leaderRate), value: nil),
        ]
        cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] = "1000"
        cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.leaderRate)] = "1000"
        let moves = [
            move("t", 0, [1, 2, 3], [4, 2, 3]), move("t", 1, [1, 2, 3], [5, 2, 3]),
            move("t", 2, [1, 2, 3], [4, 2, 5]),
        ]
        var machine = RebalanceStateMachine(
            moves: moves, options: Self.options(), journal: [0: (.inFlight, ""), 1: (.requested, "")], priors: priors)
        var d = Drive(machine, cluster)
        d.poll()
        #expect(d.events.contains { if case .moveAdopted(let tp) = $0 { tp == .tp("t", 0) } else { false } })
        #expect(!d.cluster.requests.contains { $0.0 == .tp("t", 0) })
        // t-1 is started only once Kafka's answer has been the same for a few reads (metadata can lag).
        #expect(!d.cluster.requests.contains { $0.0 == .tp("t", 1) })
        let ended = d.runToEnd()
        #expect(d.cluster.requests.filter { $0.0 == .tp("t", 1) }.count == 1)
        let report = try #require(ended)
        #expect(report.isClean, "\(report.summary)")
        #expect(d.cluster.requests.filter { $0.0 == .tp("t", 0) }.isEmpty)
        #expect(d.cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.followerRate)] == "777")
        #expect(d.cluster.configs[ThrottleKey(.broker(4), ThrottleConfig.leaderRate)] == nil)
        machine = d.machine
        #expect(machine.status.allSatisfy { $0 == .done })
    }

    @Test func aStartWithoutAnAnswerIsReadBackNotSentAgain() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        var machine = RebalanceStateMachine(
            moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: Self.options(throttle: nil))
        var step = machine.start(now: 0)
        step = machine.observed(cluster.observation(try #require(Self.read(step))), now: 0)
        guard case .startMoves(let batch) = step.action else { Issue.record("\(step.action)"); return }
        // Kafka applied it, but the answer was lost.
        cluster.start(.tp("t", 0), [4, 2, 3])
        step = machine.movesStarted(refused: [:], unknown: Set(batch), now: 0)
        #expect(machine.status[0] == .requested)
        step = machine.waited(now: 5)
        step = machine.observed(cluster.observation(try #require(Self.read(step))), now: 5)
        #expect(machine.status[0] == .inFlight)
        if case .startMoves = step.action { Issue.record("started twice") }
        #expect(cluster.requests.count == 1)
    }

    /// The request was lost before Kafka got it: the moves stay `requested` until the reads agree they did not
    /// start, then start again. Meanwhile the heads of their brokers' queues passed them (a head skips what is not
    /// pending): they were never looked at again and the execution never ended.
    @Test func aStartWithoutAnAnswerThatNeverArrivedStartsAgainOnceTheReadsAgree() throws {
        var cluster = FakeCluster(brokers: 1...6)
        cluster.topic("t", (0..<4).map { _ in [1, 2, 3] })
        let moves = (0..<4).map { move("t", Int32($0), [1, 2, 3], [4, 5, 6]) }
        var d = Drive(RebalanceStateMachine(moves: moves, options: Self.options(maxMoves: 2)), cluster)
        while true {
            if case .startMoves = d.step.action { break }
            d.step = d.cluster.perform(d.step, on: &d.machine, now: d.now)
        }
        guard case .startMoves(let lost) = d.step.action else { return }
        #expect(lost.count == 2)
        d.step = d.machine.movesStarted(refused: [:], unknown: Set(lost), now: d.now)
        let ended = d.runToEnd(limit: 30)
        let pending = d.machine.status.indices.filter { d.machine.status[$0] == .pending }
        let report = try #require(ended, "pending: \(pending)")
        #expect(report.isClean, "\(report.summary)")
        #expect(report.done == 4)
        for m in moves { #expect(d.cluster.requests.filter { $0.0 == m.topicPartition }.count == 1) }
        #expect(d.cluster.configs.isEmpty)
    }

    @Test func aMoveMissingFromKafkasListIsNotJudgedWhileTheMetadataLagsBehind() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        var d = Drive(
            RebalanceStateMachine(moves: [move("t", 0, [1, 2, 3], [4, 2, 3])], options: Self.options()), cluster)
        d.poll()
        // The controller finished it; the broker answering Metadata has not heard yet.
        d.cluster.reassignments = [:]
        d.poll()
        d.poll()
        #expect(d.machine.status[0] == .inFlight)
        #expect(!d.events.contains { if case .moveCancelled = $0 { true } else { false } })
        d.cluster.partitions[TopicPartition("t", 0)]!.replicas = [4, 2, 3]
        d.cluster.partitions[TopicPartition("t", 0)]!.isr = [4, 2, 3]
        d.cluster.partitions[TopicPartition("t", 0)]!.leader = 4
        let ended = d.runToEnd()
        let report = try #require(ended)
        #expect(report.isClean, "\(report.summary)")
    }

    static func read(_ step: RebalanceStateMachine.Step) -> RebalanceStateMachine.ReadRequest? {
        if case .read(let r) = step.action { r } else { nil }
    }

    // MARK: Leadership

    @Test func leadershipMovesToTheProposedLeaderAfterTheReplicas() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3], [1, 2, 3], [1, 2, 3]])
        cluster.partitions[TopicPartition("t", 2)]!.leader = 2
        let moves = [
            move("t", 0, [1, 2, 3], [2, 4, 3]),  // new replica, leader 2
            move("t", 1, [1, 2, 3], [3, 1, 2]),  // reorder only
            PlannedMove(
                topicPartition: .tp("t", 2), oldReplicas: [1, 2, 3], newReplicas: [1, 2, 3], oldLeader: 2, bytes: 0,
                crossCluster: false),  // leadership only
        ]
        var options = Self.options()
        options.leaderMoves = 2
        var d = Drive(RebalanceStateMachine(moves: moves, options: options), cluster)
        let ended = d.runToEnd()
        let report = try #require(ended)
        #expect(report.isClean, "\(report.summary)")
        #expect(d.cluster.partitions[TopicPartition("t", 0)]?.leader == 2)
        #expect(d.cluster.partitions[TopicPartition("t", 1)]?.leader == 3)
        #expect(d.cluster.partitions[TopicPartition("t", 2)]?.leader == 1)
        #expect(d.cluster.partitions[TopicPartition("t", 1)]?.replicas == [3, 1, 2])
        // Moves that copy nothing are not throttled: the topic lists name only t-0's replicas.
        #expect(
            d.steps.flatMap { s -> [ThrottleChange] in if case .alterThrottles(let c) = s.action { c } else { [] } }
                .filter { $0.key.key == ThrottleConfig.leaderReplicas }.first?.value == "0:1,0:2,0:3")
    }

    @Test func aLeaderThatCannotBeElectedIsReportedAfterTheElectionTimeout() throws {
        var cluster = FakeCluster(brokers: 1...4)
        cluster.topic("t", [[1, 2, 3]])
        cluster.partitions[TopicPartition("t", 0)]!.leader = 2
        cluster.partitions[TopicPartition("t", 0)]!.isr = [2, 3]
        var options = Self.options()
        options.timeouts.electSeconds = 12
        let moves = [
            PlannedMove(
                topicPartition: .tp("t", 0), oldReplicas: [1, 2, 3], newReplicas: [1, 2, 3], oldLeader: 2, bytes: 0,
                crossCluster: false)
        ]
        var d = Drive(RebalanceStateMachine(moves: moves, options: options), cluster)
        let ended = d.runToEnd(limit: 20)
        let report = try #require(ended)
        #expect(report.leadersNotMoved.map(\.topicPartition) == [.tp("t", 0)])
        #expect(report.outcome == .incomplete)
    }

    // MARK: Reports and cost

    @Test func theCostsTimeIsTheBusiestBrokersBytesOverTheThrottle() {
        // 1,2,3 -> 4,5,6, one partition of 60 MB: the leader sends 3 copies (real Kafka: 183.9 s at 1 MB/s).
        let cost = ExecutionCost(
            moves: [move("t", 0, [1, 2, 3], [4, 5, 6], bytes: 60_600_000)], throttleBytesPerSecond: 1_000_000)
        #expect(cost.busiestBroker == 1)
        #expect(cost.busiestBrokerBytes == 181_800_000)
        #expect(cost.secondsAtThrottle == 181.8)
        #expect(cost.bytesToCopy == 181_800_000)
    }

    @Test func mergingKeepsTheTopicsOwnEntriesFirstAndNeverRepeatsOne() {
        #expect(ThrottledReplicas.merge(prior: nil, ours: ["0:1"]) == "0:1")
        #expect(ThrottledReplicas.merge(prior: "0:9, 1:2", ours: ["1:2", "0:1"]) == "0:9,1:2,0:1")
        #expect(ThrottledReplicas.merge(prior: "*", ours: ["0:1"]) == "*")
        #expect(ThrottledReplicas.merge(prior: "0:9", ours: []) == "0:9")
    }

    /// A topic's value is written from its moves' numbers straight into one string: Kafka's order (partition, then
    /// broker, numerically), each entry once (a partition named twice), numbers of any width.
    @Test func aTopicsEntriesAreWrittenInKafkasOrderEachOnce() {
        let moves = [
            PlannedMove(
                topicPartition: .tp("t", 10), oldReplicas: [3, 1, 2], newReplicas: [7, 1, 2], oldLeader: 3, bytes: 1,
                crossCluster: false),
            PlannedMove(
                topicPartition: .tp("t", 2), oldReplicas: [2_147_483_647, 5, 1], newReplicas: [9, 5, 1],
                oldLeader: 5, bytes: 1, crossCluster: false),
            PlannedMove(
                topicPartition: .tp("t", 2), oldReplicas: [5, 1, 4], newReplicas: [8, 1, 4], oldLeader: 5, bytes: 1,
                crossCluster: false),
        ]
        let machine = RebalanceStateMachine(moves: moves, options: RebalanceOptions())
        var text: [UInt8] = []
        var scratch: [Int32] = []
        let inOrder = [1, 2, 0][...]
        let leaders = machine.topicEntries(
            inOrder, machine.oldReplicas, base: nil, text: &text, partitionBrokers: &scratch)
        #expect(leaders == "2:1,2:4,2:5,2:2147483647,10:1,10:2,10:3")
        let followers = machine.topicEntries(
            inOrder, machine.addedBrokers, base: nil, text: &text, partitionBrokers: &scratch)
        #expect(followers == "2:8,2:9,10:7")
        #expect(
            machine.topicEntries(inOrder, machine.addedBrokers, base: "0:9", text: &text, partitionBrokers: &scratch)
                == "0:9,2:8,2:9,10:7")
        for x: Int32 in [0, 9, 10, 99, 100, -1, -10, .max, .min] {
            var out = [UInt8](repeating: 0, count: 11)
            let end = out.withUnsafeMutableBufferPointer { RebalanceStateMachine.writeDecimal(x, into: $0, at: 0) }
            #expect(String(decoding: out[..<end], as: UTF8.self) == String(x))
        }
    }

    @Test func everyEventIsOneJSONLineWithItsName() throws {
        let events: [RebalanceEvent] = [
            .started(operationId: "r", moves: 2, hash: "sha256:x", resumed: false),
            .moveSkipped(.tp("t", 0), reason: "stale"),
            .progress(.init(done: 1, inFlight: 1, pending: 0, notDone: 0, bytesDone: 1, bytesTotal: 2)),
            .finished(RebalanceReport(outcome: .stopped, done: 1)),
        ]
        for e in events {
            let line = e.jsonLine(at: Date(timeIntervalSince1970: 0))
            #expect(!line.contains("\n"))
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(o["event"] is String)
        }
    }
}
