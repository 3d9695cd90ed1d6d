import CRdKafka
import KafkaModel
import KafkaWire
import NIOPosix

/// Owns one librdkafka handle (`rd_kafka_t`) used for the safety read path: Metadata, DescribeConfigs and
/// CreateTopics. Every blocking librdkafka call runs on NIO's blocking thread pool, never on the cooperative
/// pool. librdkafka handles are thread-safe, so concurrent calls are fine.
final class RdKafkaClient: Sendable {
    private let handle: SendableOpaquePointer
    let configuration: KafkaAdminConfiguration

    init(configuration: KafkaAdminConfiguration) throws(KafkaAdminError) {
        self.configuration = configuration
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaAdminError(.invalidArgument, "librdkafka could not allocate a configuration.")
        }
        ballast_rd_kafka_conf_silence(conf)
        do {
            for (key, value) in Self.properties(for: configuration) {
                try Self.set(conf, key, value)
            }
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
        var errstr = [CChar](repeating: 0, count: 512)
        // On success rd_kafka_new takes ownership of conf.
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaAdminError(
                .invalidArgument, "librdkafka rejected the configuration: \(cText(errstr)).")
        }
        self.handle = SendableOpaquePointer(pointer: rk)
    }

    deinit {
        rd_kafka_destroy(handle.pointer)
    }

    /// librdkafka properties for a configuration (pure; tested without a broker).
    static func properties(for c: KafkaAdminConfiguration) -> [(String, String)] {
        var p: [(String, String)] = [
            ("bootstrap.servers", c.bootstrapString),
            ("client.id", c.clientId),
            ("socket.timeout.ms", String(max(10, c.requestTimeout.milliseconds))),
            ("socket.connection.setup.timeout.ms", String(max(1000, c.connectTimeout.milliseconds))),
            ("security.protocol", c.security.protocolName.lowercased()),
            ("reconnect.backoff.ms", "50"),
            ("reconnect.backoff.max.ms", "1000"),
        ]
        if let tls = c.security.tls {
            if let ca = tls.caFile { p.append(("ssl.ca.location", ca)) }
            if let cert = tls.certificateFile { p.append(("ssl.certificate.location", cert)) }
            if let key = tls.keyFile { p.append(("ssl.key.location", key)) }
            if let pw = tls.keyPassword { p.append(("ssl.key.password", pw)) }
            p.append(("ssl.endpoint.identification.algorithm", tls.verifyHostname ? "https" : "none"))
        }
        if let sasl = c.security.sasl {
            p.append(("sasl.mechanisms", sasl.mechanism.rawValue))
            p.append(("sasl.username", sasl.username))
            p.append(("sasl.password", sasl.password))
        }
        return p
    }

    private static func set(_ conf: OpaquePointer, _ key: String, _ value: String) throws(KafkaAdminError) {
        var errstr = [CChar](repeating: 0, count: 512)
        if ballast_rd_kafka_conf_set(conf, key, value, &errstr, errstr.count) != 0 {
            let shown = key.contains("password") ? "(hidden)" : "'\(value)'"
            throw KafkaAdminError(
                .invalidArgument, "librdkafka rejected \(key)=\(shown): \(cText(errstr)).")
        }
    }

    private var timeoutMs: Int32 { Int32(clamping: max(1, configuration.requestTimeout.milliseconds)) }

    /// Runs a blocking librdkafka call off the cooperative pool.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaAdminError) -> T)
        async throws(KafkaAdminError) -> T
    {
        let result: Result<T, KafkaAdminError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive { () -> Result<T, KafkaAdminError> in
                do throws(KafkaAdminError) { return .success(try body()) } catch { return .failure(error) }
            }
        } catch {
            throw KafkaAdminError(.unsupported, "The blocking thread pool is not running: \(error).")
        }
        return try result.get()
    }

    static func errName(_ err: rd_kafka_resp_err_t) -> String { String(cString: rd_kafka_err2name(err)) }
    static func errString(_ err: rd_kafka_resp_err_t) -> String { String(cString: rd_kafka_err2str(err)) }

    /// A librdkafka error as a sentence naming the API and the addresses tried.
    func error(_ err: rd_kafka_resp_err_t, api: String, detail: String? = nil) -> KafkaAdminError {
        let name = Self.errName(err)
        let text = detail ?? Self.errString(err)
        let bootstrap = configuration.bootstrapString
        switch err {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE:
            return KafkaAdminError(
                .unreachable, "No Kafka broker at \(bootstrap) could be reached for \(api) (\(text)).",
                kafkaErrorName: name, isRetriable: true)
        case RD_KAFKA_RESP_ERR__TIMED_OUT:
            return KafkaAdminError(
                .unreachable,
                "No Kafka broker at \(bootstrap) answered \(api) within \(configuration.requestTimeout) (\(text)).",
                kafkaErrorName: name, isRetriable: true)
        case RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
            let mech = configuration.security.sasl?.mechanism.rawValue ?? configuration.security.protocolName
            return KafkaAdminError(
                .authentication, "\(mech) authentication to \(bootstrap) failed during \(api): \(text).",
                kafkaErrorName: name)
        case RD_KAFKA_RESP_ERR__SSL:
            return KafkaAdminError(.tls, "TLS with \(bootstrap) failed during \(api): \(text).", kafkaErrorName: name)
        default:
            return KafkaAdminError(
                .kafka, "\(api) via \(bootstrap) failed with \(name): \(text).", kafkaErrorName: name,
                isRetriable: err == RD_KAFKA_RESP_ERR__TIMED_OUT || Self.retriable(err))
        }
    }

    /// Kafka's own retriability (the generated `KafkaErrorCode`) for the broker error codes librdkafka passes on
    /// (its positive codes are Kafka's); librdkafka's local errors (negative) are not broker answers.
    private static func retriable(_ err: rd_kafka_resp_err_t) -> Bool {
        err.rawValue > 0 && err.rawValue <= Int32(Int16.max)
            && KafkaErrorCode(rawValue: Int16(err.rawValue)).isRetriable
    }

    // MARK: Metadata

    struct Metadata: Sendable {
        struct Broker: Sendable, Hashable {
            var id: Int32
            var host: String
            var port: Int32
        }
        struct Partition: Sendable, Hashable {
            var id: Int32
            var errorName: String?
            var leader: Int32
            var replicas: [Int32]
            var isr: [Int32]
        }
        struct Topic: Sendable, Hashable {
            var name: String
            var errorName: String?
            var partitions: [Partition]
        }
        var originatingBrokerId: Int32
        var brokers: [Broker]
        var topics: [Topic]
        var clusterId: String?
        var controllerId: Int32
    }

    /// Metadata for all topics.
    func metadata() async throws(KafkaAdminError) -> Metadata {
        let handle = self.handle
        let timeout = timeoutMs
        return try await blocking { () throws(KafkaAdminError) -> Metadata in
            let rk = handle.pointer
            var md: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(rk, 1, nil, &md, timeout)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else {
                throw self.error(err, api: "Metadata")
            }
            defer { rd_kafka_metadata_destroy(md) }
            var result = Metadata(
                originatingBrokerId: md.pointee.orig_broker_id, brokers: [], topics: [], clusterId: nil,
                controllerId: -1)
            for i in 0..<Int(md.pointee.broker_cnt) {
                let b = ballast_rd_kafka_metadata_broker(md, Int32(i))!.pointee
                result.brokers.append(Metadata.Broker(id: b.id, host: String(cString: b.host), port: b.port))
            }
            for i in 0..<Int(md.pointee.topic_cnt) {
                let t = ballast_rd_kafka_metadata_topic(md, Int32(i))!
                var topic = Metadata.Topic(
                    name: String(cString: t.pointee.topic),
                    errorName: t.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : Self.errName(t.pointee.err),
                    partitions: [])
                for j in 0..<Int(t.pointee.partition_cnt) {
                    let p = ballast_rd_kafka_metadata_partition(t, Int32(j))!.pointee
                    let replicas = (0..<Int(p.replica_cnt)).map { p.replicas[$0] }
                    let isr = (0..<Int(p.isr_cnt)).map { p.isrs[$0] }
                    topic.partitions.append(
                        Metadata.Partition(
                            id: p.id, errorName: p.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : Self.errName(p.err),
                            leader: p.leader, replicas: replicas, isr: isr))
                }
                topic.partitions.sort { $0.id < $1.id }
                result.topics.append(topic)
            }
            result.topics.sort { $0.name < $1.name }
            result.brokers.sort { $0.id < $1.id }
            // Both read librdkafka's cached metadata, just refreshed above.
            if let cid = rd_kafka_clusterid(rk, timeout) {
                result.clusterId = String(cString: cid)
                rd_kafka_mem_free(rk, cid)
            }
            result.controllerId = rd_kafka_controllerid(rk, timeout)
            return result
        }
    }

    // MARK: Admin operations

    /// Runs one admin operation on a private queue and hands its result event to `read`.
    private func adminCall<T: Sendable>(
        api: String, eventType: Int32, validateOnly: Bool = false,
        start: @escaping @Sendable (OpaquePointer, OpaquePointer?, OpaquePointer) -> Void,
        read: @escaping @Sendable (OpaquePointer) throws(KafkaAdminError) -> T
    ) async throws(KafkaAdminError) -> T {
        let handle = self.handle
        let timeout = timeoutMs
        return try await blocking { () throws(KafkaAdminError) -> T in
            let rk = handle.pointer
            guard let queue = rd_kafka_queue_new(rk) else {
                throw KafkaAdminError(.invalidArgument, "librdkafka could not create a queue for \(api).")
            }
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY)
            defer { if let options { rd_kafka_AdminOptions_destroy(options) } }
            var errstr = [CChar](repeating: 0, count: 512)
            if let options {
                _ = rd_kafka_AdminOptions_set_request_timeout(options, timeout, &errstr, errstr.count)
                _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeout, &errstr, errstr.count)
                if validateOnly {
                    _ = rd_kafka_AdminOptions_set_validate_only(options, 1, &errstr, errstr.count)
                }
            }
            start(rk, options, queue)
            // The request timeout bounds the operation; allow a little more for the result to arrive.
            guard let event = rd_kafka_queue_poll(queue, timeout + 1000) else {
                throw self.error(RD_KAFKA_RESP_ERR__TIMED_OUT, api: api)
            }
            defer { rd_kafka_event_destroy(event) }
            let err = rd_kafka_event_error(event)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                let detail = rd_kafka_event_error_string(event).map { String(cString: $0) }
                throw self.error(err, api: api, detail: detail)
            }
            guard rd_kafka_event_type(event) == eventType else {
                throw KafkaAdminError(.protocolViolation, "librdkafka returned an unexpected event for \(api).")
            }
            return try read(event)
        }
    }

    /// DescribeConfigs for topics and at most one broker (librdkafka sends broker resources to that broker),
    /// with synonyms. `names` limits the answer to those keys.
    func describeConfigs(_ resources: [ConfigResource], names: [String]? = nil) async throws(KafkaAdminError)
        -> [ResourceConfigs]
    {
        if resources.isEmpty { return [] }
        return try await adminCall(
            api: "DescribeConfigs", eventType: RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT,
            start: { rk, options, queue in
                var crs: [OpaquePointer?] = resources.map { r in
                    let c = rd_kafka_ConfigResource_new(Self.rdType(r.kind), r.name)
                    // On a describe, the entries set on a resource are the keys asked for.
                    if let c { names?.forEach { _ = rd_kafka_ConfigResource_set_config(c, $0, nil) } }
                    return c
                }
                crs.withUnsafeMutableBufferPointer { buf in
                    rd_kafka_DescribeConfigs(rk, buf.baseAddress, buf.count, options, queue)
                }
                crs.forEach { if let c = $0 { rd_kafka_ConfigResource_destroy(c) } }
            },
            read: { event throws(KafkaAdminError) in
                let res = rd_kafka_event_DescribeConfigs_result(event)
                var count = 0
                guard let arr = rd_kafka_DescribeConfigs_result_resources(res, &count) else { return [] }
                var out: [ResourceConfigs] = []
                for i in 0..<count {
                    guard let r = arr[i] else { continue }
                    let resource = ConfigResource(
                        kind: Self.kind(rd_kafka_ConfigResource_type(r)),
                        name: String(cString: rd_kafka_ConfigResource_name(r)))
                    let err = rd_kafka_ConfigResource_error(r)
                    if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                        let detail = rd_kafka_ConfigResource_error_string(r).map { String(cString: $0) }
                        throw KafkaAdminError(
                            .kafka,
                            "DescribeConfigs of \(resource.displayName) via \(self.configuration.bootstrapString) "
                                + "failed with \(Self.errName(err)): \(detail ?? Self.errString(err)).",
                            kafkaErrorName: Self.errName(err),
                            isRetriable: Self.retriable(err))
                    }
                    var n = 0
                    var entries: [ConfigEntry] = []
                    if let cs = rd_kafka_ConfigResource_configs(r, &n) {
                        for j in 0..<n { if let e = cs[j] { entries.append(Self.entry(e)) } }
                    }
                    entries.sort { $0.name < $1.name }
                    out.append(ResourceConfigs(resource: resource, entries: entries))
                }
                return out
            })
    }

    private static func entry(_ e: OpaquePointer) -> ConfigEntry {
        var synonyms: [ConfigSynonym] = []
        var n = 0
        if let syn = rd_kafka_ConfigEntry_synonyms(e, &n) {
            for k in 0..<n {
                guard let s = syn[k] else { continue }
                synonyms.append(
                    ConfigSynonym(
                        name: String(cString: rd_kafka_ConfigEntry_name(s)),
                        value: rd_kafka_ConfigEntry_value(s).map { String(cString: $0) },
                        source: source(rd_kafka_ConfigEntry_source(s))))
            }
        }
        return ConfigEntry(
            name: String(cString: rd_kafka_ConfigEntry_name(e)),
            value: rd_kafka_ConfigEntry_value(e).map { String(cString: $0) },
            source: source(rd_kafka_ConfigEntry_source(e)),
            isReadOnly: rd_kafka_ConfigEntry_is_read_only(e) != 0,
            isSensitive: rd_kafka_ConfigEntry_is_sensitive(e) != 0,
            isDefault: rd_kafka_ConfigEntry_is_default(e) != 0,
            synonyms: synonyms)
    }

    private static func source(_ s: rd_kafka_ConfigSource_t) -> ConfigSource {
        ConfigSource(code: Int8(truncatingIfNeeded: Int(s.rawValue)))
    }

    private static func rdType(_ kind: ConfigResource.Kind) -> rd_kafka_ResourceType_t {
        switch kind {
        case .topic: RD_KAFKA_RESOURCE_TOPIC
        case .broker: RD_KAFKA_RESOURCE_BROKER
        case .brokerLogger: RD_KAFKA_RESOURCE_UNKNOWN
        }
    }

    private static func kind(_ t: rd_kafka_ResourceType_t) -> ConfigResource.Kind {
        switch t {
        case RD_KAFKA_RESOURCE_TOPIC: .topic
        default: .broker
        }
    }

    /// CreateTopics; throws on the first topic that failed (naming it and Kafka's error).
    func createTopics(_ topics: [NewTopic], validateOnly: Bool) async throws(KafkaAdminError) {
        if topics.isEmpty { return }
        // Build the C objects up front so a bad argument is reported before anything is sent.
        var newTopics: [OpaquePointer?] = []
        for t in topics {
            var errstr = [CChar](repeating: 0, count: 512)
            let partitions = t.replicaAssignment.map { Int32($0.count) } ?? t.partitions
            let rf = t.replicaAssignment != nil ? -1 : Int32(t.replicationFactor)
            guard let nt = rd_kafka_NewTopic_new(t.name, partitions, rf, &errstr, errstr.count) else {
                newTopics.forEach { if let p = $0 { rd_kafka_NewTopic_destroy(p) } }
                throw KafkaAdminError(.invalidArgument, "Topic '\(t.name)' is invalid: \(cText(errstr)).")
            }
            if let assignment = t.replicaAssignment {
                for (i, replicas) in assignment.enumerated() {
                    var r = replicas
                    _ = rd_kafka_NewTopic_set_replica_assignment(nt, Int32(i), &r, r.count, &errstr, errstr.count)
                }
            }
            for (k, v) in t.configs.sorted(by: { $0.key < $1.key }) { _ = rd_kafka_NewTopic_set_config(nt, k, v) }
            newTopics.append(nt)
        }
        let owned = newTopics.map { SendableOpaquePointer(pointer: $0!) }
        defer { owned.forEach { rd_kafka_NewTopic_destroy($0.pointer) } }
        try await adminCall(
            api: "CreateTopics", eventType: RD_KAFKA_EVENT_CREATETOPICS_RESULT, validateOnly: validateOnly,
            start: { rk, options, queue in
                var arr: [OpaquePointer?] = owned.map { $0.pointer }
                arr.withUnsafeMutableBufferPointer { buf in
                    rd_kafka_CreateTopics(rk, buf.baseAddress, buf.count, options, queue)
                }
            },
            read: { event throws(KafkaAdminError) in
                let res = rd_kafka_event_CreateTopics_result(event)
                var n = 0
                guard let arr = rd_kafka_CreateTopics_result_topics(res, &n) else { return }
                for i in 0..<n {
                    guard let r = arr[i] else { continue }
                    let err = rd_kafka_topic_result_error(r)
                    if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                        let name = String(cString: rd_kafka_topic_result_name(r))
                        let detail = rd_kafka_topic_result_error_string(r).map { String(cString: $0) }
                        throw KafkaAdminError(
                            .kafka,
                            "CreateTopics of '\(name)' via \(self.configuration.bootstrapString) failed with "
                                + "\(Self.errName(err)): \(detail ?? Self.errString(err)).",
                            kafkaErrorName: Self.errName(err))
                    }
                }
            })
    }
}

/// A NUL-terminated C string held in a Swift buffer.
func cText(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
