import KafkaModel
import KafkaSim
import KubernetesAPI
import Testing

@testable import KubernetesSim

/// The simulated Kubernetes cluster as a value, driven step by step: what a pod does as its broker changes, and
/// what the cluster asks of the brokers.
@Suite struct KubeClusterTests {
    /// Brokers 1 (combined), 2, 3 in racks a, b, c of one Kubernetes cluster, all running.
    static func brokers(_ states: [Int32: NodeState] = [:]) -> [Int32: BrokerView] {
        var out: [Int32: BrokerView] = [:]
        for (i, rack) in ["rack-a", "rack-b", "rack-c"].enumerated() {
            let id = Int32(i + 1)
            out[id] = BrokerView(
                id: id, state: states[id] ?? .running, removed: false, rack: rack,
                roles: id == 1 ? [.broker, .controller] : [.broker])
        }
        return out
    }

    static func world() -> KubeCluster {
        KubeCluster(name: "k8s-1", index: 0, brokers: Array(brokers().values), epochSeconds: 1_767_225_600)
    }

    @Test func podsMirrorTheBrokersWithTheDriversDefaultLabels() {
        let w = Self.world()
        #expect(w.pods.keys.sorted() == ["kafka-0", "kafka-1", "kafka-2"])
        let pod = w.pods["kafka-0"]!.object
        #expect(pod.metadata.labels?[KafkaPodLabels.nameKey] == "kafka")
        #expect(pod.metadata.labels?[KafkaPodLabels.nodeId] == "1")
        #expect(pod.metadata.labels?[KafkaPodLabels.controllerRole] == "true")
        #expect(pod.metadata.labels?[KafkaPodLabels.zone] == "rack-a")
        #expect(pod.spec?.nodeName == "k8s-1-rack-a")
        #expect(pod.isReady)
        #expect(pod.metadata.creationTimestamp == "2026-01-01T00:00:00Z")
        #expect(w.statefulSets["kafka"]?.object.status?.readyReplicas == 3)
        #expect(w.budgets["kafka"]?.status?.disruptionsAllowed == 1)
    }

    @Test func aDeletedPodStopsItsBrokerAndIsReplacedWithANewUidOnceTheBrokerIsDown() throws {
        var w = Self.world()
        let uid = w.pods["kafka-1"]!.uid
        let (pod, effects) = try w.deletePod(
            "kafka-1", options: DeleteOptions(preconditions: .init(uid: uid)), brokers: Self.brokers(), now: 1000
        ).get()
        #expect(effects == [.stop(2)])
        #expect(pod.isTerminating)
        // Still stopping: the pod stays, terminating.
        #expect(w.reconcile(brokers: Self.brokers([2: .stopping]), now: 2000).isEmpty)
        #expect(w.pods["kafka-1"]!.uid == uid)
        // Stopped: the pod goes and its replacement starts the broker.
        #expect(w.reconcile(brokers: Self.brokers([2: .stopped]), now: 3000) == [])
        let replacement = try #require(w.pods["kafka-1"])
        #expect(replacement.uid != uid && !replacement.object.isReady)
        #expect(w.reconcile(brokers: Self.brokers([2: .stopped]), now: 3100) == [.start(2)])
        _ = w.reconcile(brokers: Self.brokers([2: .starting]), now: 4000)
        #expect(!w.pods["kafka-1"]!.object.isReady)
        _ = w.reconcile(brokers: Self.brokers(), now: 9000)
        #expect(w.pods["kafka-1"]!.object.isReady)
        #expect(w.deletions[2] == 1 && w.creations[2] == 2)
        let kinds = w.events.filter { $0.object.metadata.name == "kafka-1" }.map(\.kind)
        #expect(kinds.contains(.deleted) && kinds.contains(.added))
    }

    @Test func aStalePreconditionIsAConflictAndDeletesNothing() {
        var w = Self.world()
        let result = w.deletePod(
            "kafka-1", options: DeleteOptions(preconditions: .init(uid: "not-the-uid")), brokers: Self.brokers(),
            now: 0)
        guard case .failure(let status) = result else {
            Issue.record("expected a conflict")
            return
        }
        #expect(status.code == 409 && status.reason == "Conflict")
        #expect(status.message?.contains("Precondition failed: UID in precondition: not-the-uid") == true)
        #expect(!w.pods["kafka-1"]!.isTerminating)
    }

    @Test(arguments: PodFault.allCases)
    func aFaultHoldsTheReplacementPodWithItsReasonAndClearingItLetsItStart(_ fault: PodFault) throws {
        var w = Self.world()
        w.setFault(fault, broker: 3)
        _ = try w.deletePod("kafka-2", options: nil, brokers: Self.brokers(), now: 0).get()
        _ = w.reconcile(brokers: Self.brokers([3: .stopped]), now: 1000)
        #expect(w.reconcile(brokers: Self.brokers([3: .stopped]), now: 1100).isEmpty)
        let pod = w.pods["kafka-2"]!.object
        switch fault {
        case .unschedulable:
            #expect(pod.status?.phase == "Pending")
            #expect(pod.status?.conditions?.first { $0.type == "PodScheduled" }?.reason == "Unschedulable")
        case .imagePullBackOff, .crashLoopBackOff:
            #expect(pod.status?.containerStatuses?.first?.state?.waiting?.reason == fault.rawValue)
        }
        w.setFault(nil, broker: 3)
        #expect(w.reconcile(brokers: Self.brokers([3: .stopped]), now: 1200) == [.start(3)])
    }

    @Test func aBrokerThatKeepsExitingIsRestartedAtOnceThenBacksOffInCrashLoopBackOff() {
        var w = Self.world()
        #expect(w.reconcile(brokers: Self.brokers([2: .stopped]), now: 1000) == [.start(2)])
        _ = w.reconcile(brokers: Self.brokers([2: .starting]), now: 1500)
        // It dies again during start-up: 10 s back-off.
        #expect(w.reconcile(brokers: Self.brokers([2: .stopped]), now: 2000).isEmpty)
        #expect(
            w.pods["kafka-1"]!.object.status?.containerStatuses?.first?.state?.waiting?.reason == "CrashLoopBackOff")
        #expect(w.pods["kafka-1"]!.restarts == 2)
        #expect(w.reconcile(brokers: Self.brokers([2: .stopped]), now: 11_000).isEmpty)
        #expect(w.reconcile(brokers: Self.brokers([2: .stopped]), now: 12_000) == [.start(2)])
    }

    @Test func anEvictionIsRefusedWhileTheBudgetAllowsNoDisruptionAndAcceptedOnceItDoes() throws {
        var w = Self.world()
        _ = w.reconcile(brokers: Self.brokers([1: .starting]), now: 0)
        #expect(w.budgets["kafka"]?.status?.disruptionsAllowed == 0)
        let eviction = Eviction(metadata: ObjectMeta(name: "kafka-1"), deleteOptions: nil)
        guard
            case .failure(let status) = w.evictPod(
                "kafka-1", eviction: eviction, brokers: Self.brokers([1: .starting]), now: 10)
        else {
            Issue.record("expected 429")
            return
        }
        #expect(status.code == 429 && status.reason == "TooManyRequests")
        #expect(status.details?.causes?.first?.reason == "DisruptionBudget")
        // An unready pod may always go.
        #expect(
            (try? w.evictPod("kafka-0", eviction: eviction, brokers: Self.brokers([1: .starting]), now: 10).get()) == [
                .stop(1)
            ])
        var healthy = Self.world()
        #expect(
            (try? healthy.evictPod("kafka-1", eviction: eviction, brokers: Self.brokers(), now: 0).get()) == [.stop(2)])
    }

    @Test func scalingUpAsksForBrokersAndScalingDownDeletesTheHighestPodsThenRemovesTheirBrokers() throws {
        var w = Self.world()
        let scale = try w.scale("kafka", replicas: 5, resourceVersion: nil, now: 0).get()
        #expect(scale.spec.replicas == 5)
        #expect(scale.status?.selector == "app.kubernetes.io/instance=kafka,app.kubernetes.io/name=kafka")
        let effects = w.reconcile(brokers: Self.brokers(), now: 10)
        #expect(
            effects == [
                .addBroker(set: "kafka", ordinal: 3, rack: "rack-a", roles: [.broker]),
                .addBroker(set: "kafka", ordinal: 4, rack: "rack-a", roles: [.broker]),
            ])
        // Asked once, not at every reconcile.
        #expect(w.reconcile(brokers: Self.brokers(), now: 20).isEmpty)
        var brokers = Self.brokers()
        brokers[4] = BrokerView(id: 4, state: .stopped, removed: false, rack: "rack-a", roles: [.broker])
        w.attach(broker: 4, set: "kafka", ordinal: 3, brokers: brokers, now: 30)
        #expect(w.pods["kafka-3"]?.object.metadata.labels?[KafkaPodLabels.nodeId] == "4")
        #expect(w.reconcile(brokers: brokers, now: 40) == [.start(4)])

        _ = try w.scale("kafka", replicas: 3, resourceVersion: nil, now: 50).get()
        brokers[4]?.state = .running
        #expect(w.reconcile(brokers: brokers, now: 60) == [.stop(4)])
        brokers[4]?.state = .stopped
        #expect(w.reconcile(brokers: brokers, now: 70) == [.removeBroker(4)])
        #expect(w.pods["kafka-3"] == nil)
        // A PUT with a stale resource version conflicts.
        guard case .failure(let status) = w.scale("kafka", replicas: 4, resourceVersion: "1", now: 80) else {
            Issue.record("expected 409")
            return
        }
        #expect(status.code == 409)
    }

    @Test func timestampsAreRFC3339AndParseBack() {
        #expect(RFC3339.format(epochSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(epochSeconds: 1_767_225_600 + 86_400 * 59 + 3723) == "2026-03-01T01:02:03Z")
        let parsed = RFC3339.parse("2026-03-01T01:02:03Z")
        #expect(parsed == 1_772_326_923.0)
        #expect(KubeTable.humanDuration(45) == "45s")
        #expect(KubeTable.humanDuration(190) == "3m10s")
        #expect(KubeTable.humanDuration(3 * 3600 + 120) == "3h2m")
    }
}
