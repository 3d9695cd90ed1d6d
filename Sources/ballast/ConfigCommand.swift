import ArgumentParser
import Foundation
import KafkaAdmin
import KafkaPolicies
import Logging
import Roller

/// `ballast config plan|apply`: classify a desired broker config and apply its dynamic part.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Classify broker config changes (read-only / per-broker / cluster-wide) and apply the dynamic ones.",
        subcommands: [Plan.self, Apply.self]
    )

    /// Options shared by plan and apply.
    struct Common: ParsableArguments {
        @OptionGroup var connection: ConnectionOptions

        @Option(help: "A server.properties-style file of the keys to set; 'key=' removes a dynamic override.")
        var desired: String

        @Option(
            name: .customLong("node"),
            help: "Only these nodes (repeat or comma-separate). Cluster-wide keys are then set per broker.")
        var nodes: [String] = []

        @Option(help: "Kafka version whose rules apply (e.g. 4.1, 3.9.1); default: detected.")
        var kafkaVersion: String?

        @Flag(help: "Print JSON.")
        var json = false
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan", abstract: "Show what each desired change needs: restart or a live change, and where.")

        @OptionGroup var common: Common

        @Option(help: "A JSON dump of DescribeConfigs to plan against instead of --bootstrap (see docs/config.md).")
        var current: String?

        func run() async throws {
            let input = try await ConfigInputs.load(common, currentFile: current)
            let plan = input.plan()
            print(common.json ? ConfigPlanOutput.json(plan) : ConfigPlanOutput.table(plan))
            if !plan.problems.isEmpty { throw BallastExit.badInput }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Apply the dynamic changes (validate, alter, verify); report what still needs a restart.")

        @OptionGroup var common: Common

        @Option(help: "Seconds to wait for every node to report the new values.")
        var verifyTimeout: Double = 30

        func run() async throws {
            guard common.connection.bootstrap != nil else {
                ConfigInputs.fail("config apply needs --bootstrap", code: BallastExit.badInput)
            }
            let input = try await ConfigInputs.load(common, currentFile: nil)
            let plan = input.plan()
            guard let client = input.client else {
                ConfigInputs.fail("config apply needs a connection to Kafka", code: BallastExit.failed)
            }
            let applier = ConfigApplier(
                client: client, options: .init(verifyTimeout: .milliseconds(Int64(verifyTimeout * 1000))),
                logger: Logger(label: "ballast.config"))
            let report: ConfigApplyReport
            do {
                report = try await applier.apply(plan, current: input.current)
            } catch {
                ConfigInputs.fail("config apply failed talking to Kafka: \(error)", code: BallastExit.failed)
            }
            print(
                common.json ? ConfigPlanOutput.json(plan, apply: report) : ConfigPlanOutput.table(plan, apply: report))
            if !plan.problems.isEmpty { throw BallastExit.badInput }
            if !report.succeeded { throw BallastExit.failed }
        }
    }
}

/// The inputs of a plan, read and checked; every failure is one sentence on stderr and an exit code.
struct ConfigInputs {
    var desired: DesiredConfig
    var current: CurrentClusterConfig
    var version: KafkaVersion
    var versionNote: String?
    var nodes: [Int32]?
    var client: (any ConfigAdminClient)?

    func plan() -> ConfigChangePlan {
        var plan = ConfigClassifier(version: version).plan(desired: desired, current: current, nodes: nodes)
        if let versionNote { plan.warnings.insert(versionNote, at: 0) }
        return plan
    }

    static func fail(_ message: String, code: ExitCode) -> Never {
        FileHandle.standardError.write(Data(("ballast: " + message + "\n").utf8))
        Foundation.exit(code.rawValue)
    }

    static func load(_ common: ConfigCommand.Common, currentFile: String?) async throws -> ConfigInputs {
        if (common.connection.bootstrap == nil) == (currentFile == nil) {
            fail("give exactly one of --bootstrap and --current", code: BallastExit.badInput)
        }
        var requested: KafkaVersion?
        if let v = common.kafkaVersion {
            guard let parsed = KafkaVersion(v) else {
                fail("--kafka-version '\(v)' is not a version like 4.1 or 3.9.1", code: BallastExit.badInput)
            }
            requested = parsed
        }
        var nodes: [Int32]?
        if !common.nodes.isEmpty {
            var ids: [Int32] = []
            for part in common.nodes.flatMap({ $0.split(separator: ",") }) {
                guard let id = Int32(part.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                    fail("--node '\(part)' is not a node id", code: BallastExit.badInput)
                }
                ids.append(id)
            }
            nodes = ids
        }

        let desiredText = readFile(common.desired, what: "desired config")
        let desired: DesiredConfig
        do {
            desired = try DesiredConfig(parsing: desiredText, fileName: common.desired)
        } catch {
            fail("\(error)", code: BallastExit.badInput)
        }

        let current: CurrentClusterConfig
        var detected: KafkaVersion?
        let client: (any ConfigAdminClient)?
        if let currentFile {
            client = nil
            let data = Data(readFile(currentFile, what: "current config dump").utf8)
            do {
                let dump = try ConfigDump.decode(data, fileName: currentFile)
                current = dump.current
                if let v = dump.kafkaVersion {
                    guard let parsed = KafkaVersion(v) else {
                        fail("\(currentFile): kafkaVersion '\(v)' is not a version", code: BallastExit.badInput)
                    }
                    detected = parsed
                }
            } catch {
                fail("\(error)", code: BallastExit.badInput)
            }
        } else {
            let bootstrap = common.connection.bootstrap!
            try common.connection.check()
            let configuration: KafkaAdminConfiguration
            do {
                configuration = try common.connection.adminConfiguration()
            } catch {
                fail("\(ConnectionOptions.message(for: error))", code: BallastExit.badInput)
            }
            do {
                let admin = try KafkaAdmin(configuration: configuration)
                let kafka = KafkaAdminConfigClient(admin: admin)
                let nodes = try await kafka.describeBrokerConfigs(nodes: try await kafka.brokerIDs())
                let defaults = try await kafka.describeClusterDefaultConfigs()
                current = CurrentClusterConfig(nodes: nodes, clusterDefault: defaults)
                client = kafka
            } catch {
                fail("cannot read the broker configs from \(bootstrap): \(error)", code: BallastExit.failed)
            }
        }
        if current.nodes.isEmpty { fail("the cluster reports no brokers", code: BallastExit.failed) }

        var note: String?
        let version: KafkaVersion
        if let requested {
            version = requested
        } else if let detected {
            version = detected
        } else if let names = current.nodes.values.max(by: { $0.count < $1.count })?.keys,
            let d = KafkaVersionDetection.detect(fromConfigNames: names)
        {
            version = d.version
            if !d.isConfident {
                note =
                    "the Kafka version is a guess from the configs the brokers describe: \(version) "
                    + "(set --kafka-version)"
            }
        } else {
            version = KafkaVersion.known.last!
            note = "the Kafka version was not detected; using \(version) (set --kafka-version)"
        }
        return ConfigInputs(
            desired: desired, current: current, version: version, versionNote: note, nodes: nodes, client: client)
    }

    static func readFile(_ path: String, what: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            fail("cannot read the \(what) file \(path)", code: BallastExit.badInput)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            fail("the \(what) file \(path) is not UTF-8 text", code: BallastExit.badInput)
        }
        return text
    }
}
