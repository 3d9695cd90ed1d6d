public import KafkaModel
import KafkaWire
public import Logging

/// The admin client: one configuration, two transports. librdkafka carries the safety read path (Metadata,
/// DescribeConfigs, CreateTopics) where it can log in; native `KafkaWire` connections carry what librdkafka 2.0.2
/// lacks, and the safety read path too when librdkafka cannot authenticate (`ReadPath.automatic`).
///
/// Thread-safe and cheap to share; call `shutdown()` when done to close the native connections.
public final class KafkaAdmin: Sendable {
    public let configuration: KafkaAdminConfiguration
    /// The transport of the safety read path.
    public let readPath: ReadPath
    /// nil when the read path is native: no librdkafka handle is made, so no login it cannot complete is tried.
    let rd: RdKafkaClient?
    let native: NativeClient
    let logger: Logger

    public init(configuration: KafkaAdminConfiguration, logger: Logger = Logger(label: "ballast.kafka-admin"))
        throws(KafkaAdminError)
    {
        guard !configuration.bootstrapServers.isEmpty else {
            throw KafkaAdminError(.invalidArgument, "The bootstrap server list is empty.")
        }
        for server in configuration.bootstrapServers {
            guard BrokerAddress(server) != nil else {
                throw KafkaAdminError(.invalidArgument, "The bootstrap server '\(server)' is not host:port.")
            }
        }
        self.configuration = configuration
        self.logger = logger
        let (automatic, reason) = ReadPath.automatic(
            for: configuration.security, librdkafkaVersion: ReadPath.linkedLibrdkafkaVersion,
            versionString: ReadPath.linkedLibrdkafkaVersionString)
        let path = configuration.readPath ?? automatic
        if configuration.readPath == nil, let reason {
            // Once per client, i.e. once per command.
            logger.info("\(reason)", metadata: [LogKey.readPath: "\(path)"])
        }
        self.readPath = path
        self.native = try NativeClient(configuration: configuration, logger: logger)
        self.rd = try path == .librdkafka ? RdKafkaClient(configuration: configuration) : nil
    }

    /// Closes the native connections. The librdkafka handle is freed with the object.
    public func shutdown() async {
        await native.shutdown()
    }

    // MARK: Configs

    /// DescribeConfigs with source, read-only, sensitive and synonyms (most specific first). Over the native
    /// connection, because librdkafka 2.0.2 drops synonyms and cannot address the cluster-wide default.
    /// A broker's own resource goes to that broker (Kafka answers for itself only); topics and the default
    /// go to any broker. `names` limits the answer to those keys. Answers in the order asked.
    public func describeConfigs(_ resources: [ConfigResource], names: [String]? = nil) async throws(KafkaAdminError)
        -> [ResourceConfigs]
    {
        var byRoute: [Route: [ConfigResource]] = [:]
        for r in resources {
            if r.kind != .topic && !r.name.isEmpty {
                guard let id = Int32(r.name) else {
                    throw KafkaAdminError(.invalidArgument, "Broker resource '\(r.name)' is not a broker id.")
                }
                byRoute[.broker(id), default: []].append(r)
            } else {
                byRoute[.any, default: []].append(r)
            }
        }
        var out: [ResourceConfigs] = []
        for (route, list) in byRoute { out += try await native.describeConfigs(list, names: names, route: route) }
        return resources.compactMap { r in out.first { $0.resource == r } }
    }

    /// CreateTopics on the safety read path's transport.
    public func createTopics(_ topics: [NewTopic], validateOnly: Bool = false) async throws(KafkaAdminError) {
        if let rd {
            try await rd.createTopics(topics, validateOnly: validateOnly)
        } else {
            try await native.createTopics(topics, validateOnly: validateOnly, timeout: configuration.requestTimeout)
        }
    }
}

/// `host:port`, IPv6 as `[::1]:9092`.
struct BrokerAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension NativeClient {
    /// DescribeConfigs over the native connection (for the cluster-wide default, which librdkafka cannot
    /// address).
    func describeConfigs(_ resources: [ConfigResource], names: [String]?, route: Route) async throws(KafkaAdminError)
        -> [ResourceConfigs]
    {
        let request = DescribeConfigsRequest(
            resources: resources.map {
                .init(resourceType: $0.kind.code, resourceName: $0.name, configurationKeys: names)
            }, includeSynonyms: true)
        let r = try await send(request, to: route)
        var out: [ResourceConfigs] = []
        for (resource, result) in zip(resources, r.results) {
            if result.errorCode != 0 {
                throw kafkaError(
                    "DescribeConfigs of \(resource.displayName)", "a broker", .init(rawValue: result.errorCode),
                    result.errorMessage)
            }
            out.append(
                ResourceConfigs(
                    resource: resource,
                    entries: result.configs.map { c in
                        ConfigEntry(
                            name: c.name, value: c.value, source: ConfigSource(code: c.configSource),
                            isReadOnly: c.readOnly, isSensitive: c.isSensitive,
                            isDefault: c.configSource == 5 || c.isDefault,
                            synonyms: c.synonyms.map {
                                ConfigSynonym(name: $0.name, value: $0.value, source: ConfigSource(code: $0.source))
                            })
                    }.sorted { $0.name < $1.name }))
        }
        return out
    }
}
