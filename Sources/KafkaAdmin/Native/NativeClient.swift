import KafkaModel
import KafkaWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Where a request goes.
enum Route: Sendable, Hashable {
    /// Any broker that answers (bootstrap servers first, then known brokers).
    case any
    case broker(Int32)
    /// The broker that Metadata/DescribeCluster name as controller. In KRaft that broker forwards
    /// controller-bound requests (AlterPartitionReassignments, ElectLeaders, DescribeQuorum) to the active
    /// controller.
    case controller
}

/// The native `KafkaWire` side of the admin client: one negotiated connection per broker address, opened on
/// first use and again after it drops; routing to any broker, a given broker or the controller.
actor NativeClient {
    let configuration: KafkaAdminConfiguration
    let logger: Logger
    private let tls: NIOSSLContext?
    private let salts = SaltedPasswords()
    private let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    private var connections: [BrokerAddress: Task<NegotiatedConnection, any Error>] = [:]
    /// From the last DescribeCluster (or Metadata).
    private var brokers: [Int32: BrokerAddress] = [:]
    private var controllerId: Int32?
    private var lastGood: BrokerAddress?
    private var closed = false

    init(configuration: KafkaAdminConfiguration, logger: Logger) throws(KafkaAdminError) {
        self.configuration = configuration
        self.logger = logger
        self.tls = try configuration.security.tls?.makeContext()
    }

    func shutdown() async {
        closed = true
        let all = connections.values
        connections.removeAll()
        for task in all { if let c = try? await task.value { await c.connection.close() } }
    }

    /// A ready connection to `address`, reusing a live one.
    func connection(to address: BrokerAddress) async throws(KafkaAdminError) -> NegotiatedConnection {
        guard !closed else { throw KafkaAdminError(.connectionClosed, "The admin client has been shut down.") }
        if let task = connections[address] {
            if let c = try? await task.value, c.isActive { return c }
            // Dropped or failed: reconnect below (unless someone else already did).
            if connections[address] == task {
                connections[address] = nil
            } else {
                return try await connection(to: address)
            }
        }
        let configuration = self.configuration
        let tls = self.tls
        let group = self.group
        let salts = self.salts
        let task = Task<NegotiatedConnection, any Error> {
            let raw = try await KafkaConnection.open(
                host: address.host, port: address.port, tls: tls,
                verifyHostname: configuration.security.tls?.verifyHostname ?? true,
                connectTimeout: configuration.connectTimeout, group: group)
            return try await NegotiatedConnection.setUp(raw, configuration: configuration, salts: salts)
        }
        connections[address] = task
        do {
            return try await task.value
        } catch {
            if connections[address] == task { connections[address] = nil }
            let failure =
                (error as? KafkaAdminError)
                ?? KafkaAdminError(.unreachable, "Could not connect to Kafka broker \(address): \(error).")
            // A failed handshake says little ("certificate verify failed"); the probe says which check failed.
            guard failure.code == .tls, let tls = configuration.security.tls else { throw failure }
            throw await TLSProbe.explain(failure, address: address, tls: tls, configuration: configuration)
        }
    }

    /// A connection for a route. For `.any`, tries the last good address, the bootstrap servers, then the
    /// brokers learnt from metadata, and reports every address that failed.
    func connection(for route: Route) async throws(KafkaAdminError) -> NegotiatedConnection {
        switch route {
        case .any:
            var candidates: [BrokerAddress] = []
            if let lastGood { candidates.append(lastGood) }
            candidates += configuration.bootstrapServers.compactMap(BrokerAddress.init)
            candidates += brokers.sorted { $0.key < $1.key }.map(\.value)
            var seen = Set<BrokerAddress>()
            var tried: [BrokerAddress] = []
            var failures: [KafkaAdminError] = []
            for address in candidates where seen.insert(address).inserted {
                tried.append(address)
                do {
                    let c = try await connection(to: address)
                    lastGood = address
                    return c
                } catch {
                    // Authentication and TLS failures are not fixed by trying another broker.
                    if error.isSecurityFailure { throw error }
                    failures.append(error)
                }
            }
            // The same words as librdkafka's read path: what was tried, and the first reason.
            let reason = failures.first.map { $0.message.hasSuffix(".") ? String($0.message.dropLast()) : $0.message }
            throw KafkaAdminError(
                .unreachable,
                "No Kafka broker at \(tried.map(\.description).joined(separator: ",")) could be reached "
                    + "(\(reason ?? "no address to try")).",
                isRetriable: true)
        case .broker(let id):
            if brokers[id] == nil { _ = try await refreshCluster() }
            guard let address = brokers[id] else {
                throw KafkaAdminError(.invalidArgument, "Broker \(id) is not in the cluster's metadata.")
            }
            return try await connection(to: address)
        case .controller:
            if controllerId == nil { _ = try await refreshCluster() }
            guard let id = controllerId, id >= 0 else { return try await connection(for: .any) }
            return try await connection(for: .broker(id))
        }
    }

    /// Sends a request along a route. A lost connection is retried once on a fresh one; a NOT_CONTROLLER
    /// answer is the caller's to see (`isRetriable`), after the controller is looked up again.
    func send<R: KafkaRequest>(_ request: R, to route: Route = .any, timeout: Duration? = nil)
        async throws(KafkaAdminError) -> R.Response
    {
        var attempt = 0
        while true {
            attempt += 1
            let c = try await connection(for: route)
            do {
                return try await c.send(request, timeout: timeout)
            } catch {
                if error.code == .connectionClosed && attempt == 1 {
                    logger.debug("reconnecting", metadata: [LogKey.brokerAddress: "\(c.peer)"])
                    continue
                }
                throw error
            }
        }
    }

    func supports<R: KafkaRequest>(_ type: R.Type, route: Route = .any) async throws(KafkaAdminError) -> Bool {
        try await connection(for: route).supports(type)
    }

    /// Forget the controller (after NOT_CONTROLLER) so the next `.controller` send looks it up again.
    func invalidateController() { controllerId = nil }

    // MARK: Cluster

    struct ClusterInfo: Sendable, Hashable {
        var clusterId: String?
        var controllerId: Int32
        var brokers: [BrokerInfo]
    }

    /// Brokers with racks and the controller: DescribeCluster where the broker has it (Kafka 2.8+), else
    /// Metadata without topics (which carries the same since v1).
    @discardableResult
    func refreshCluster() async throws(KafkaAdminError) -> ClusterInfo {
        let c = try await connection(for: .any)
        let info: ClusterInfo
        if c.supports(DescribeClusterRequest.self) {
            let r = try await send(DescribeClusterRequest(), to: .any)
            let code = KafkaErrorCode(r.errorCode)
            guard code == .none else {
                throw kafkaError("DescribeCluster", c.peer, code, r.errorMessage)
            }
            info = ClusterInfo(
                clusterId: r.clusterId, controllerId: r.controllerId,
                brokers: r.brokers.map { BrokerInfo(id: $0.brokerId, host: $0.host, port: $0.port, rack: $0.rack) })
        } else {
            let r = try await send(MetadataRequest(topics: []), to: .any)
            info = ClusterInfo(
                clusterId: r.clusterId, controllerId: r.controllerId,
                brokers: r.brokers.map { BrokerInfo(id: $0.nodeId, host: $0.host, port: $0.port, rack: $0.rack) })
        }
        brokers = Dictionary(
            info.brokers.map { ($0.id, BrokerAddress(host: $0.host, port: Int($0.port))) },
            uniquingKeysWith: { a, _ in a })
        controllerId = info.controllerId
        return ClusterInfo(
            clusterId: info.clusterId, controllerId: info.controllerId, brokers: info.brokers.sorted { $0.id < $1.id })
    }

    func kafkaError(_ api: String, _ peer: String, _ code: KafkaErrorCode, _ message: String?) -> KafkaAdminError {
        KafkaAdminError(
            .kafka, "\(api) via \(peer) failed with \(code.name)\(message.map { ": \($0)" } ?? "").",
            kafkaErrorName: code.name, isRetriable: code.isRetriable)
    }
}
