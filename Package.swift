// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "Ballast",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ballast", targets: ["ballast"]),
        .library(name: "KafkaModel", targets: ["KafkaModel"]),
        .library(name: "KafkaWire", targets: ["KafkaWire"]),
        .library(name: "KafkaAdmin", targets: ["KafkaAdmin"]),
        .library(name: "KafkaPolicies", targets: ["KafkaPolicies"]),
        .library(name: "Planner", targets: ["Planner"]),
        .library(name: "Roller", targets: ["Roller"]),
        .library(name: "Rebalancer", targets: ["Rebalancer"]),
        .library(name: "ConfigPlanning", targets: ["ConfigPlanning"]),
        .library(name: "AgentContract", targets: ["AgentContract"]),
        .library(name: "BallastStore", targets: ["BallastStore"]),
        .library(name: "Operations", targets: ["Operations"]),
        .library(name: "KafkaSim", targets: ["KafkaSim"]),
        .library(name: "Agent", targets: ["Agent"]),
        .library(name: "KubernetesAPI", targets: ["KubernetesAPI"]),
        .library(name: "KubernetesSim", targets: ["KubernetesSim"]),
        .library(name: "DashboardModel", targets: ["DashboardModel"]),
        .library(name: "Dashboard", targets: ["Dashboard"]),
        .library(name: "ServiceContract", targets: ["ServiceContract"]),
        .library(name: "Server", targets: ["Server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // 1.16: LogHandler.log(event:) (the test LogRecorder implements it; the older entry point is deprecated).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.10.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    // The module graph and what each target may import: docs/architecture.md. Scripts/check-architecture.py (run
    // by Scripts/test.sh) fails when a pure target gains an I/O dependency.
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),

        // MARK: Pure: no I/O, no clock of their own (Foundation at most).

        // The Kafka protocol. Sources/KafkaWire/Generated is written by Scripts/generate-kafkawire.py.
        .target(name: "KafkaWire", swiftSettings: strict),
        // The shared vocabulary: cluster snapshot, topic-partition, node roles, config types, the model file.
        .target(name: "KafkaModel", swiftSettings: strict),
        // Kafka's config update modes per version, generated from shared facts by Scripts/generate-policies.py.
        .target(name: "KafkaPolicies", dependencies: ["KafkaModel"], swiftSettings: strict),
        // Deciders.
        .target(name: "Planner", dependencies: ["KafkaModel"], swiftSettings: strict),
        .target(name: "Roller", dependencies: ["KafkaModel", "Rebalancer"], swiftSettings: strict),
        .target(name: "Rebalancer", dependencies: ["KafkaModel"], swiftSettings: strict),
        .target(name: "ConfigPlanning", dependencies: ["KafkaModel", "KafkaPolicies"], swiftSettings: strict),
        // The agent HTTP API's types, shared by the agent server and its clients.
        .target(name: "AgentContract", dependencies: ["KafkaModel"], swiftSettings: strict),
        // The Kubernetes objects, selectors, RBAC rules and kubeconfig the kubernetes driver reads and the simulated
        // Kubernetes API serves.
        .target(name: "KubernetesAPI", swiftSettings: strict),
        // What the dashboard shows (`DashboardView`) and the builder that makes it from a snapshot, the agents'
        // nodes and the operations' journals; the applications' stats.
        .target(name: "DashboardModel", dependencies: ["KafkaModel"], swiftSettings: strict),
        // The `ballast serve` HTTP API's types (openapi.yaml), shared by the server and its CLI clients.
        .target(name: "ServiceContract", dependencies: ["KafkaModel", "Planner"], swiftSettings: strict),

        // MARK: I/O

        // Kafka framing over SwiftNIO, shared by the admin client and the simulator.
        .target(
            name: "KafkaWireNIO", dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict),
        .target(
            name: "KafkaAdmin",
            dependencies: [
                "KafkaModel", "KafkaWire", "KafkaWireNIO", "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Reads a refused broker certificate to say why it was refused (TLSProbe).
                .product(name: "X509", package: "swift-certificates"),
            ],
            swiftSettings: strict
        ),
        // The one operations store, in SQLite (GRDB) or PostgreSQL (postgres-nio, for engines sharing a database):
        // journals of rolls and rebalances, cluster locks, leadership leases.
        .target(
            name: "BallastStore",
            dependencies: [
                "KafkaModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // The service configuration (DESIGN.md's YAML), read by `ballast topology check` and later `ballast serve`.
        .target(
            name: "ServiceConfig", dependencies: [.product(name: "Yams", package: "Yams")], swiftSettings: strict),
        // The I/O that drives the deciders: roll runner, config applier, agent client, admin adapters.
        .target(
            name: "Operations",
            dependencies: [
                "KafkaModel", "KafkaAdmin", "KafkaPolicies", "Planner", "Roller", "Rebalancer", "ConfigPlanning",
                "AgentContract", "BallastStore", "ServiceConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // The agent client's CA and client certificate.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KafkaSim",
            dependencies: [
                "KafkaModel", "KafkaWire", "KafkaWireNIO", "KafkaPolicies",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // Secured listeners: TLS and the server side of SASL PLAIN/SCRAM.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // The simulated Kubernetes API (`ballast sim --kubernetes-port`): pods backed by KafkaSim's brokers.
        .target(
            name: "KubernetesSim",
            dependencies: [
                "KafkaSim", "KafkaModel", "KubernetesAPI",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // The per-Kubernetes-cluster agent: HTTP server and restart operations; each driver in its own target.
        .target(
            name: "Agent",
            dependencies: [
                "AgentContract", "BallastStore", "KafkaModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // HTTPS and mutual TLS on the agent listener.
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "AgentProcessDriver",
            dependencies: [
                "Agent", "AgentContract", "KafkaModel",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "AgentSimDriver",
            dependencies: [
                "Agent", "AgentContract", "KafkaModel",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "AgentKubernetesDriver",
            dependencies: [
                "Agent", "AgentContract", "KafkaModel", "KubernetesAPI",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict
        ),
        // The dashboard (page, assets, JSON and live stream) on Hummingbird, and its live source.
        .target(
            name: "Dashboard",
            dependencies: [
                "DashboardModel", "KafkaModel", "KafkaAdmin", "BallastStore", "Operations",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        // `ballast demo`'s producer and consumer applications: librdkafka clients over TCP.
        .target(
            name: "DemoApplications", dependencies: ["DashboardModel", "CRdKafka"], swiftSettings: strict),
        // `ballast demo`: the simulated stretch cluster, agents, applications, dashboard and scenario in one process.
        .target(
            name: "Demo",
            dependencies: [
                "Dashboard", "DashboardModel", "DemoApplications", "Operations", "BallastStore", "KafkaAdmin",
                "KafkaModel", "KafkaSim", "KubernetesSim", "Agent", "AgentContract", "AgentKubernetesDriver", "Roller",
                "Server", "ServiceConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Parses, wires, prints.
        // `ballast serve`: the engine as a service (operations, alerts, rebalance, scale flows) and its HTTP API.
        .target(
            name: "Server",
            dependencies: [
                "ServiceContract", "ServiceConfig", "Operations", "BallastStore", "KafkaAdmin", "KafkaModel", "Planner",
                "Rebalancer", "Roller", "AgentContract", "ConfigPlanning", "KafkaPolicies",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ballast",
            dependencies: [
                "KafkaModel", "KafkaWire", "KafkaAdmin", "KafkaPolicies", "Planner", "Roller", "Rebalancer",
                "ConfigPlanning", "AgentContract", "BallastStore", "Operations", "KafkaSim", "Agent",
                "AgentProcessDriver", "AgentSimDriver", "AgentKubernetesDriver", "KubernetesAPI", "KubernetesSim",
                "ServiceConfig", "ServiceContract", "Server", "Demo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),

        // MARK: Tests

        // What the test targets share: fake agent and cluster, test clocks, simulator harness, fixtures.
        .target(
            name: "BallastTestSupport",
            dependencies: [
                "KafkaModel", "KafkaAdmin", "Roller", "ConfigPlanning", "AgentContract", "Operations", "KafkaSim",
                "Agent", "KubernetesSim", "AgentKubernetesDriver",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // TestPKI: a test CA and certificates (expired, wrong host, other CA) made in-process.
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/BallastTestSupport",
            swiftSettings: strict
        ),
        .testTarget(
            name: "KafkaWireTests", dependencies: ["KafkaWire"], resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "KafkaModelTests", dependencies: ["KafkaModel"], swiftSettings: strict),
        .testTarget(
            name: "DashboardTests",
            dependencies: [
                "DashboardModel", "Dashboard", "KafkaModel",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "KafkaAdminTests",
            dependencies: ["KafkaAdmin", "KafkaModel", "KafkaWireNIO", "KafkaSim", "BallastTestSupport"],
            swiftSettings: strict),
        .testTarget(name: "KafkaPoliciesTests", dependencies: ["KafkaPolicies", "KafkaModel"], swiftSettings: strict),
        .testTarget(name: "PlannerTests", dependencies: ["Planner", "KafkaModel"], swiftSettings: strict),
        .testTarget(
            name: "RollerTests", dependencies: ["Roller", "Rebalancer", "KafkaModel", "BallastTestSupport"],
            swiftSettings: strict),
        .testTarget(name: "RebalancerTests", dependencies: ["Rebalancer", "KafkaModel"], swiftSettings: strict),
        .testTarget(
            name: "ConfigPlanningTests",
            dependencies: ["ConfigPlanning", "KafkaModel", "KafkaPolicies", "BallastTestSupport"],
            swiftSettings: strict),
        // Both stores, the PostgreSQL one against a real server (BallastTestSupport's TestPostgres).
        .testTarget(
            name: "BallastStoreTests", dependencies: ["BallastStore", "BallastTestSupport", "KafkaModel"],
            swiftSettings: strict),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "Operations", "Roller", "Rebalancer", "Planner", "ConfigPlanning", "KafkaModel", "KafkaPolicies",
                "KafkaAdmin", "AgentContract", "BallastStore", "KafkaSim", "Agent", "AgentProcessDriver",
                "AgentSimDriver", "BallastTestSupport", "AgentKubernetesDriver", "KubernetesAPI", "KubernetesSim",
                "ServiceConfig",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "ServerTests",
            dependencies: [
                "Server", "ServiceContract", "ServiceConfig", "BallastStore", "KafkaSim", "KafkaModel", "Agent",
                "AgentContract", "AgentSimDriver", "BallastTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "KafkaSimTests", dependencies: ["KafkaSim", "KafkaWire", "KafkaModel", "BallastTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "AgentTests",
            dependencies: [
                "Agent", "AgentContract", "AgentProcessDriver", "AgentSimDriver", "BallastStore", "KafkaModel",
                "BallastTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strict),
        // The simulated Kubernetes API and the kubernetes driver against it over TCP, the deploy manifests' Role.
        .testTarget(
            name: "KubernetesTests",
            dependencies: [
                "KubernetesAPI", "KubernetesSim", "AgentKubernetesDriver", "Agent", "AgentContract", "KafkaSim",
                "KafkaModel", "BallastTestSupport",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: strict),
        // End-to-end: runs the built `ballast` binary and real clients (kcat, confluent-kafka) over TCP.
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "KafkaSim", "KafkaAdmin", "KafkaModel", "BallastTestSupport", "ServiceContract", "Agent",
                "AgentSimDriver",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),
    ]
)
