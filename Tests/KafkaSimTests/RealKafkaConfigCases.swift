// Generated from Tests/Fixtures/real-kafka-4.1/config-cases.json (kafka-configs.sh against a real Kafka 4.1.0 cluster,
// realkafka branch docs/real-kafka-4.1.md section 3). Regenerate with the snippet in docs/simulator.md.

/// One row: level ("broker" or "default"), broker id, op, key, value, accepted, error (exception: message).
let realKafkaConfigCases: [RealConfigCase] = [
    .init(
        level: "broker", broker: 1, op: "set", key: "log.dirs", value: "/tmp/elsewhere", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(log.dirs)",
        note: "read-only"),
    .init(
        level: "default", broker: nil, op: "set", key: "log.dirs", value: "/tmp/elsewhere", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(log.dirs)",
        note: "read-only"),
    .init(
        level: "broker", broker: 1, op: "set", key: "node.id", value: "7", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(node.id)",
        note: "read-only"),
    .init(
        level: "default", broker: nil, op: "set", key: "node.id", value: "7", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(node.id)",
        note: "read-only"),
    .init(
        level: "broker", broker: 1, op: "set", key: "broker.rack", value: "rack-z", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(broker.rack)",
        note: "read-only"),
    .init(
        level: "default", broker: nil, op: "set", key: "broker.rack", value: "rack-z", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(broker.rack)",
        note: "read-only"),
    .init(
        level: "broker", broker: 1, op: "set", key: "process.roles", value: "broker", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(process.roles)",
        note: "read-only"),
    .init(
        level: "broker", broker: 1, op: "set", key: "num.partitions", value: "3", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(num.partitions)",
        note: "read-only (not in DynamicBrokerConfig)"),
    .init(
        level: "default", broker: nil, op: "set", key: "ssl.keystore.location", value: "/tmp/ks.jks", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: These security configs can be dynamically updated only per-listener using the listener prefix: HashSet(ssl.keystore.location)",
        note: "per-broker"),
    .init(
        level: "broker", broker: 1, op: "set", key: "ssl.keystore.location", value: "/tmp/ks.jks", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: These security configs can be dynamically updated only per-listener using the listener prefix: HashSet(ssl.keystore.location)",
        note: "per-broker"),
    .init(
        level: "default", broker: nil, op: "set", key: "listener.name.plaintext.ssl.keystore.location",
        value: "/tmp/ks.jks", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs at default cluster level, broker id must be specified: Set(listener.name.plaintext.ssl.keystore.location)",
        note: "per-broker"),
    .init(
        level: "broker", broker: 1, op: "set", key: "listener.name.plaintext.ssl.keystore.location",
        value: "/tmp/ks.jks", accepted: true, error: nil, note: "per-broker"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "listener.name.plaintext.ssl.keystore.location", value: nil,
        accepted: true, error: nil, note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "advertised.listeners",
        value: "[PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19192]", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(advertised.listeners)",
        note: "per-broker"),
    .init(
        level: "broker", broker: 1, op: "set", key: "advertised.listeners",
        value: "[PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19192]", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(advertised.listeners)",
        note: "per-broker (same value as static)"),
    .init(
        level: "broker", broker: 1, op: "set", key: "log.retention.ms", value: "604800000", accepted: true, error: nil,
        note: "cluster-wide"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "log.retention.ms", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "log.retention.ms", value: "604800000", accepted: true,
        error: nil, note: "cluster-wide"),
    .init(
        level: "default", broker: nil, op: "delete", key: "log.retention.ms", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "log.retention.hours", value: "100", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(log.retention.hours)",
        note: "cluster-wide synonym of log.retention.ms"),
    .init(
        level: "default", broker: nil, op: "set", key: "log.retention.hours", value: "100", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(log.retention.hours)",
        note: "cluster-wide synonym of log.retention.ms"),
    .init(
        level: "broker", broker: 1, op: "set", key: "log.roll.hours", value: "24", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(log.roll.hours)",
        note: "cluster-wide"),
    .init(
        level: "default", broker: nil, op: "set", key: "log.roll.hours", value: "24", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(log.roll.hours)",
        note: "cluster-wide"),
    .init(
        level: "broker", broker: 1, op: "set", key: "message.max.bytes", value: "2000000", accepted: true, error: nil,
        note: "cluster-wide"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "message.max.bytes", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "message.max.bytes", value: "2000000", accepted: true,
        error: nil, note: "cluster-wide"),
    .init(
        level: "default", broker: nil, op: "delete", key: "message.max.bytes", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "log.cleaner.threads", value: "2", accepted: true, error: nil,
        note: "cluster-wide"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "log.cleaner.threads", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "log.cleaner.threads", value: "2", accepted: true, error: nil,
        note: "cluster-wide"),
    .init(
        level: "default", broker: nil, op: "delete", key: "log.cleaner.threads", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "num.io.threads", value: "8", accepted: true, error: nil,
        note: "cluster-wide, static 4: double = upper bound"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "num.io.threads", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "num.io.threads", value: "9", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value org.apache.kafka.common.config.ConfigException: Dynamic thread count update validation failed for num.io.threads=9, value should not be greater than double the current value 4 for configuration Invalid dynamic configuration",
        note: "cluster-wide, static 4: above double"),
    .init(
        level: "broker", broker: 1, op: "set", key: "num.io.threads", value: "2", accepted: true, error: nil,
        note: "cluster-wide, static 4: half = lower bound"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "num.io.threads", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "num.io.threads", value: "1", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value org.apache.kafka.common.config.ConfigException: Dynamic thread count update validation failed for num.io.threads=1, value should be at least half the current value 4 for configuration Invalid dynamic configuration",
        note: "cluster-wide, static 4: below half"),
    .init(
        level: "default", broker: nil, op: "set", key: "num.io.threads", value: "6", accepted: true, error: nil,
        note: "cluster-wide, within bounds"),
    .init(
        level: "default", broker: nil, op: "delete", key: "num.io.threads", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "num.io.threads", value: "20", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value org.apache.kafka.common.config.ConfigException: Dynamic thread count update validation failed for num.io.threads=20, value should not be greater than double the current value 4 for configuration Invalid dynamic configuration",
        note: "cluster-wide, above double"),
    .init(
        level: "broker", broker: 4, op: "set", key: "num.io.threads", value: "9", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value org.apache.kafka.common.config.ConfigException: Dynamic thread count update validation failed for num.io.threads=9, value should not be greater than double the current value 4 for configuration Invalid dynamic configuration",
        note: "cluster-wide, broker-only node, above double"),
    .init(
        level: "broker", broker: 1, op: "set", key: "num.network.threads", value: "7", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value org.apache.kafka.common.config.ConfigException: Dynamic thread count update validation failed for num.network.threads=7, value should not be greater than double the current value 3 for configuration Invalid dynamic configuration",
        note: "cluster-wide, static 3: above double"),
    .init(
        level: "broker", broker: 1, op: "set", key: "background.threads", value: "20", accepted: true, error: nil,
        note: "cluster-wide, default 10: double"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "background.threads", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "background.threads", value: "4", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value org.apache.kafka.common.config.ConfigException: Dynamic thread count update validation failed for background.threads=4, value should be at least half the current value 10 for configuration Invalid dynamic configuration",
        note: "cluster-wide, default 10: below half"),
    .init(
        level: "default", broker: nil, op: "set", key: "background.threads", value: "5", accepted: true, error: nil,
        note: "cluster-wide, default 10: half"),
    .init(
        level: "default", broker: nil, op: "delete", key: "background.threads", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "max.connections", value: "1000", accepted: true, error: nil,
        note: "cluster-wide"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "max.connections", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "max.connections", value: "1000", accepted: true, error: nil,
        note: "cluster-wide"),
    .init(
        level: "default", broker: nil, op: "delete", key: "max.connections", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "listener.name.plaintext.max.connections", value: "500",
        accepted: true, error: nil, note: "per-listener"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "listener.name.plaintext.max.connections", value: nil,
        accepted: true, error: nil, note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "listener.name.plaintext.max.connections", value: "500",
        accepted: true, error: nil, note: "per-listener"),
    .init(
        level: "default", broker: nil, op: "delete", key: "listener.name.plaintext.max.connections", value: nil,
        accepted: true, error: nil, note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "min.insync.replicas", value: "2", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidConfigurationException: Broker-level min.insync.replicas cannot be altered while ELR is enabled.",
        note: "cluster-wide (ELR enabled)"),
    .init(
        level: "default", broker: nil, op: "set", key: "min.insync.replicas", value: "2", accepted: true, error: nil,
        note: "cluster-wide (ELR enabled); reverted to 1"),
    .init(
        level: "default", broker: nil, op: "set", key: "min.insync.replicas", value: "1", accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "unclean.leader.election.enable", value: "true", accepted: true,
        error: nil, note: "cluster-wide"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "unclean.leader.election.enable", value: nil, accepted: true,
        error: nil, note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "unclean.leader.election.enable", value: "true", accepted: true,
        error: nil, note: "cluster-wide"),
    .init(
        level: "default", broker: nil, op: "delete", key: "unclean.leader.election.enable", value: nil, accepted: true,
        error: nil, note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "log.segment.bytes", value: "33554432", accepted: true, error: nil,
        note: "cluster-wide"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "log.segment.bytes", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "compression.type", value: "zstd", accepted: true, error: nil,
        note: "cluster-wide"),
    .init(
        level: "default", broker: nil, op: "delete", key: "compression.type", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "log.retention.ms", value: "-5", accepted: true, error: nil,
        note: "invalid: negative (only -1 means unlimited)"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "log.retention.ms", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "log.retention.ms", value: "abc", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value abc for configuration log.retention.ms: Not a number of type LONG",
        note: "invalid: non-numeric"),
    .init(
        level: "broker", broker: 1, op: "set", key: "num.io.threads", value: "-1", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value -1 for configuration num.io.threads: Value must be at least 1",
        note: "invalid: negative"),
    .init(
        level: "broker", broker: 1, op: "set", key: "message.max.bytes", value: "abc", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value abc for configuration message.max.bytes: Not a number of type INT",
        note: "invalid: non-numeric"),
    .init(
        level: "default", broker: nil, op: "set", key: "log.cleaner.threads", value: "0", accepted: false,
        error: "org.apache.kafka.common.errors.InvalidRequestException: / by zero", note: "invalid: below minimum 1?"),
    .init(
        level: "default", broker: nil, op: "set", key: "unclean.leader.election.enable", value: "maybe",
        accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value maybe for configuration unclean.leader.election.enable: Expected value to be either true or false",
        note: "invalid: non-boolean"),
    .init(
        level: "default", broker: nil, op: "set", key: "compression.type", value: "brotli", accepted: false,
        error:
            "org.apache.kafka.common.errors.InvalidRequestException: Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer",
        note: "invalid: not in enum"),
    .init(
        level: "broker", broker: 1, op: "set", key: "no.such.config", value: "1", accepted: true, error: nil,
        note: "unknown key"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "no.such.config", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "set", key: "no.such.config", value: "1", accepted: true, error: nil,
        note: "unknown key"),
    .init(
        level: "default", broker: nil, op: "delete", key: "no.such.config", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "broker", broker: 1, op: "set", key: "retention.ms", value: "1000", accepted: true, error: nil,
        note: "topic-level name at broker level"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "retention.ms", value: nil, accepted: true, error: nil,
        note: "revert of the case above"),
    .init(
        level: "default", broker: nil, op: "delete", key: "log.retention.ms", value: nil, accepted: false,
        error: "Invalid config(s): log.retention.ms", note: "delete a key that is not set"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "no.such.config", value: nil, accepted: false,
        error: "Invalid config(s): no.such.config", note: "delete an unknown key"),
    .init(
        level: "broker", broker: 1, op: "delete", key: "log.dirs", value: nil, accepted: false,
        error: "Invalid config(s): log.dirs", note: "delete a read-only key"),
]
