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
        .library(name: "KafkaWire", targets: ["KafkaWire"]),
        .library(name: "KafkaAdmin", targets: ["KafkaAdmin"]),
        .library(name: "KafkaPolicies", targets: ["KafkaPolicies"]),
        .library(name: "Planner", targets: ["Planner"]),
        .library(name: "Roller", targets: ["Roller"]),
        .library(name: "KafkaSim", targets: ["KafkaSim"]),
        .library(name: "Agent", targets: ["Agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.10.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The Kafka protocol: pure, no I/O. Sources/KafkaWire/Generated is written by Scripts/generate-kafkawire.py.
        .target(name: "KafkaWire", swiftSettings: strict),
        .target(
            name: "KafkaAdmin",
            dependencies: [
                "KafkaWire", "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict
        ),
        // Kafka's config update modes per version, generated from shared facts by Scripts/generate-policies.py.
        .target(name: "KafkaPolicies", swiftSettings: strict),
        // Pure placement engine: no I/O, no clocks.
        .target(name: "Planner", swiftSettings: strict),
        .target(
            name: "Roller",
            dependencies: [
                "KafkaAdmin", "Planner", "KafkaPolicies", "Agent",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "KafkaSim",
            dependencies: [
                "KafkaWire", "KafkaPolicies",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "Agent",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ballast",
            dependencies: [
                "KafkaWire", "KafkaAdmin", "KafkaPolicies", "Planner", "Roller", "KafkaSim", "Agent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "KafkaWireTests", dependencies: ["KafkaWire"], resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "KafkaAdminTests", dependencies: ["KafkaAdmin", "KafkaSim"], swiftSettings: strict),
        .testTarget(name: "KafkaPoliciesTests", dependencies: ["KafkaPolicies"], swiftSettings: strict),
        .testTarget(name: "PlannerTests", dependencies: ["Planner"], swiftSettings: strict),
        .testTarget(name: "RollerTests", dependencies: ["Roller", "KafkaSim", "Agent"], swiftSettings: strict),
        .testTarget(name: "KafkaSimTests", dependencies: ["KafkaSim", "KafkaWire"], swiftSettings: strict),
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", .product(name: "HummingbirdTesting", package: "hummingbird")],
            swiftSettings: strict),
        // End-to-end: runs the built `ballast` binary and real clients (kcat, confluent-kafka) over TCP.
        .testTarget(name: "IntegrationTests", dependencies: ["KafkaSim", "KafkaAdmin"], swiftSettings: strict),
    ]
)
