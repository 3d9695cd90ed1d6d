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
        // Errors (SASL and TLS failures among them, with their reasons) become events on the main queue, which
        // each call drains (`errorEvents()`) to explain a failure.
        rd_kafka_conf_set_events(conf, Int32(RD_KAFKA_EVENT_ERROR))
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

    /// Runs a blocking librdkafka call off the cooperative pool. A failure is explained by the error events
    /// librdkafka raised meanwhile (a refused login, a refused certificate), and a TLS failure by a probe of the
    /// broker's certificate, so it reports the same kinds as the native connection.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaAdminError) -> T)
        async throws(KafkaAdminError) -> T
    {
        let result: Result<T, KafkaAdminError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive { () -> Result<T, KafkaAdminError> in
                let outcome: Result<T, KafkaAdminError>
                do throws(KafkaAdminError) { outcome = .success(try body()) } catch { outcome = .failure(error) }
                let events = self.errorEvents()
                return outcome.mapError { self.explain($0, events: events) }
            }
        } catch {
            throw KafkaAdminError(.unsupported, "The blocking thread pool is not running: \(error).")
        }
        switch result {
        case .success(let value): return value
        case .failure(let error):
            guard error.code == .tls, let tls = configuration.security.tls else { throw error }
            let address =
                error.brokerAddress.flatMap(BrokerAddress.init) ?? BrokerAddress(configuration.bootstrapServers[0])
            guard let address else { throw error }
            throw await TLSProbe.explain(error, address: address, tls: tls, configuration: configuration)
        }
    }

    /// librdkafka's error events since the last call: code and reason (which names the broker). With `end`, waits
    /// until then for the first event (blocking; on the thread pool only).
    func errorEvents(waitingUntil end: ContinuousClock.Instant? = nil, _ clock: ContinuousClock = ContinuousClock())
        -> [RdKafkaErrorEvent]
    {
        let rk = handle.pointer
        guard let queue = rd_kafka_queue_get_main(rk) else { return [] }
        defer { rd_kafka_queue_destroy(queue) }
        var events: [RdKafkaErrorEvent] = []
        var wait = end.map { Self.milliseconds(until: $0, clock) } ?? 0
        while let event = rd_kafka_queue_poll(queue, wait) {
            wait = 0
            if rd_kafka_event_type(event) == Int32(RD_KAFKA_EVENT_ERROR) {
                events.append(
                    RdKafkaErrorEvent(
                        code: rd_kafka_event_error(event),
                        reason: rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""))
            }
            rd_kafka_event_destroy(event)
        }
        return events
    }

    /// Milliseconds from now to `end`, at least 0.
    static func milliseconds(until end: ContinuousClock.Instant, _ clock: ContinuousClock) -> Int32 {
        Int32(clamping: max(0, clock.now.duration(to: end).milliseconds))
    }

    /// A transport failure explained by the events that caused it: a refused login becomes `.authentication`
    /// naming the mechanism, the user and the broker; a TLS failure `.tls` naming the broker (refined by
    /// `TLSProbe`). Anything else is left as it is.
    func explain(_ error: KafkaAdminError, events: [RdKafkaErrorEvent]) -> KafkaAdminError {
        guard error.code == .unreachable || error.code == .authentication || error.code == .tls else { return error }
        if let e = events.first(where: { $0.code == RD_KAFKA_RESP_ERR__AUTHENTICATION }) {
            let sasl = configuration.security.sasl
            let who =
                sasl.map { "SASL \($0.mechanism.rawValue) authentication of user '\($0.username)'" } ?? "Authentication"
            return KafkaAdminError(
                .authentication,
                "\(who) to broker \(e.broker ?? configuration.bootstrapString) failed: "
                    + sentence(e.text.dropPrefix("SASL authentication error: ")),
                kafkaErrorName: Self.errName(e.code), brokerAddress: e.broker)
        }
        // A refused certificate is __SSL during the handshake; an alert the broker sends after it (TLS 1.3: a client
        // certificate demanded or refused) is a __TRANSPORT "Receive failed: …SSL routines…".
        if configuration.security.tls != nil,
            let e = events.first(where: {
                $0.code == RD_KAFKA_RESP_ERR__SSL
                    || ($0.code == RD_KAFKA_RESP_ERR__TRANSPORT && $0.reason.contains("SSL"))
            })
        {
            return KafkaAdminError(
                .tls, "TLS with broker \(e.broker ?? configuration.bootstrapString) failed: " + sentence(e.text),
                kafkaErrorName: Self.errName(e.code), brokerAddress: e.broker)
        }
        // Nothing reachable: librdkafka's own reason ("Connect to ipv4#127.0.0.1:9 failed: Connection refused").
        if error.code == .unreachable, let e = events.first(where: { $0.code == RD_KAFKA_RESP_ERR__TRANSPORT }),
            e.broker != nil
        {
            var better = error
            better.message = "No Kafka broker at \(configuration.bootstrapString) could be reached (\(e.text))."
            return better
        }
        return error
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
            let who =
                configuration.security.sasl.map {
                    "SASL \($0.mechanism.rawValue) authentication of user '\($0.username)'"
                } ?? "Authentication"
            return KafkaAdminError(
                .authentication, "\(who) to \(bootstrap) failed during \(api): \(sentence(text))",
                kafkaErrorName: name)
        case RD_KAFKA_RESP_ERR__SSL:
            return KafkaAdminError(
                .tls, "TLS with \(bootstrap) failed during \(api): \(sentence(text))", kafkaErrorName: name)
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

    /// Metadata for all topics.
    func metadata() async throws(KafkaAdminError) -> ClusterMetadata {
        let handle = self.handle
        let timeout = timeoutMs
        return try await blocking { () throws(KafkaAdminError) -> ClusterMetadata in
            let rk = handle.pointer
            var md: UnsafePointer<rd_kafka_metadata>?
            // After a refused login or certificate librdkafka keeps reconnecting and the call waits out the whole
            // timeout (or answers "transport failure" at once, before the error event that says why). So wait in
            // growing slices (250 ms, 500 ms, ...), collect the error events in between, and stop at the first
            // refusal, or once every broker is down: a wrong password is reported in well under a second, not
            // after --timeout. A slow cluster costs at most a few repeated Metadata requests.
            let clock = ContinuousClock()
            let deadline = clock.now + .milliseconds(Int64(timeout))
            var events: [RdKafkaErrorEvent] = []
            var slice: Int64 = 250
            var err: rd_kafka_resp_err_t
            while true {
                let sliceEnd = min(clock.now + .milliseconds(slice), deadline)
                err = rd_kafka_metadata(rk, 1, nil, &md, Self.milliseconds(until: sliceEnd, clock))
                guard err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT, clock.now < deadline
                else { break }
                // "No usable broker yet" returns early: wait out the slice for the event that tells why.
                events += self.errorEvents(waitingUntil: sliceEnd, clock)
                let explained = self.explain(self.error(err, api: "Metadata"), events: events)
                if explained.isSecurityFailure { throw explained }
                if events.contains(where: { $0.code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN }) { break }
                // Capped: error events can end a slice early, and a loop of early ends must not double it into an
                // overflow (it trapped a loaded test run).
                slice = min(slice * 2, 4_000)
            }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md else {
                throw self.explain(self.error(err, api: "Metadata"), events: events + self.errorEvents())
            }
            defer { rd_kafka_metadata_destroy(md) }
            var result = ClusterMetadata(
                originatingBrokerId: md.pointee.orig_broker_id, brokers: [], topics: [], clusterId: nil,
                controllerId: -1)
            for i in 0..<Int(md.pointee.broker_cnt) {
                let b = ballast_rd_kafka_metadata_broker(md, Int32(i))!.pointee
                result.brokers.append(ClusterMetadata.Broker(id: b.id, host: String(cString: b.host), port: b.port))
            }
            for i in 0..<Int(md.pointee.topic_cnt) {
                let t = ballast_rd_kafka_metadata_topic(md, Int32(i))!
                var topic = ClusterMetadata.Topic(
                    name: String(cString: t.pointee.topic),
                    errorName: t.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : Self.errName(t.pointee.err),
                    partitions: [])
                for j in 0..<Int(t.pointee.partition_cnt) {
                    let p = ballast_rd_kafka_metadata_partition(t, Int32(j))!.pointee
                    let replicas = (0..<Int(p.replica_cnt)).map { p.replicas[$0] }
                    let isr = (0..<Int(p.isr_cnt)).map { p.isrs[$0] }
                    topic.partitions.append(
                        ClusterMetadata.Partition(
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
