public import Agent
import KafkaModel
public import KubernetesAPI

/// Where a pod's Kafka node id comes from (`--node-id`).
public enum NodeIdSource: Sendable, Hashable, CustomStringConvertible {
    /// The label `ballast.io/node-id`, else the annotation of that name, else for a Strimzi pod (label
    /// `strimzi.io/pool-name`) the number ending its name (`<cluster>-<pool>-<node id>`). A pod with none of these is
    /// an error: a StatefulSet ordinal is not a node id unless the chart says so, so it must be asked for.
    case auto
    /// `label:KEY`
    case label(String)
    /// `annotation:KEY`
    case annotation(String)
    /// `ordinal` or `ordinal+N`: the StatefulSet ordinal (label `apps.kubernetes.io/pod-index`, else the number ending
    /// the pod's name), plus N.
    case ordinal(offset: Int32)

    public init(parsing text: String) throws {
        if text == "auto" {
            self = .auto
        } else if text.hasPrefix("label:"), text.count > 6 {
            self = .label(String(text.dropFirst(6)))
        } else if text.hasPrefix("annotation:"), text.count > 11 {
            self = .annotation(String(text.dropFirst(11)))
        } else if text == "ordinal" {
            self = .ordinal(offset: 0)
        } else if text.hasPrefix("ordinal+"), let n = Int32(text.dropFirst(8)), n >= 0 {
            self = .ordinal(offset: n)
        } else {
            throw AgentError(
                "--node-id \(text) is not one of auto, label:KEY, annotation:KEY, ordinal, ordinal+N")
        }
    }

    public var description: String {
        switch self {
        case .auto: "auto"
        case .label(let k): "label:\(k)"
        case .annotation(let k): "annotation:\(k)"
        case .ordinal(let n): n == 0 ? "ordinal" : "ordinal+\(n)"
        }
    }

    /// The pod's node id, or why it has none.
    public func nodeId(of pod: Pod) -> Result<Int32, AgentError> {
        let labels = pod.metadata.labels ?? [:]
        let annotations = pod.metadata.annotations ?? [:]
        let name = pod.metadata.name ?? "?"
        func number(_ text: String?, _ from: String) -> Result<Int32, AgentError> {
            guard let text else { return .failure(AgentError("pod \(name) has no \(from)")) }
            guard let id = Int32(text), id >= 0 else {
                return .failure(AgentError("pod \(name): \(from) is \"\(text)\", not a node id"))
            }
            return .success(id)
        }
        switch self {
        case .label(let key): return number(labels[key], "label \(key)")
        case .annotation(let key): return number(annotations[key], "annotation \(key)")
        case .ordinal(let offset):
            return number(labels[KafkaPodLabels.podIndex] ?? Self.trailingNumber(name), "StatefulSet ordinal").map {
                $0 + offset
            }
        case .auto:
            if let v = labels[KafkaPodLabels.nodeId] { return number(v, "label \(KafkaPodLabels.nodeId)") }
            if let v = annotations[KafkaPodLabels.nodeId] { return number(v, "annotation \(KafkaPodLabels.nodeId)") }
            if labels[KafkaPodLabels.strimziPoolName] != nil {
                return number(Self.trailingNumber(name), "node id at the end of its Strimzi pod name")
            }
            return .failure(
                AgentError(
                    "pod \(name) has no label or annotation \(KafkaPodLabels.nodeId) and is not a Strimzi pod: "
                        + "label it, or pass --node-id (label:KEY, annotation:KEY, ordinal+N)"))
        }
    }

    static func trailingNumber(_ name: String) -> String? {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let tail = name[name.index(after: dash)...]
        return tail.isEmpty || !tail.allSatisfy(\.isNumber) ? nil : String(tail)
    }
}

extension Pod {
    /// `broker` and `controller` from `ballast.io/*-role` or Strimzi's `strimzi.io/*-role` labels; a broker when
    /// neither says.
    var kafkaRoles: [NodeRole] {
        let labels = metadata.labels ?? [:]
        var roles: [NodeRole] = []
        if labels[KafkaPodLabels.brokerRole] == "true" || labels[KafkaPodLabels.strimziBrokerRole] == "true" {
            roles.append(.broker)
        }
        if labels[KafkaPodLabels.controllerRole] == "true" || labels[KafkaPodLabels.strimziControllerRole] == "true" {
            roles.append(.controller)
        }
        return roles.isEmpty ? [.broker] : roles
    }

    /// The StatefulSet revision or Strimzi revision the pod was made from.
    var revision: String? {
        metadata.labels?[KafkaPodLabels.revisionHash] ?? metadata.annotations?[KafkaPodLabels.strimziRevision]
    }

    /// Why the pod cannot become Ready without help, at once: unschedulable, an image that cannot be pulled, a
    /// container crash-looping or failing to be created, a failed pod. nil while it may still come up.
    var stuckReason: String? {
        if status?.phase == "Failed" {
            return "Failed" + (status?.reason.map { " (\($0))" } ?? "") + (status?.message.map { ": \($0)" } ?? "")
        }
        if let scheduled = status?.conditions?.first(where: { $0.type == "PodScheduled" }), scheduled.status == "False",
            scheduled.reason == "Unschedulable"
        {
            return "Unschedulable" + (scheduled.message.map { ": \($0)" } ?? "")
        }
        for c in status?.containerStatuses ?? [] {
            if let waiting = c.state?.waiting, let reason = waiting.reason, Self.stuckWaitingReasons.contains(reason) {
                return reason + (waiting.message.map { ": \($0)" } ?? "")
            }
        }
        return nil
    }

    static let stuckWaitingReasons: Set<String> = [
        "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError",
        "CreateContainerError", "RunContainerError",
    ]
}
