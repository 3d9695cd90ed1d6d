import ArgumentParser
import ConfigPlanning
import Foundation
import KafkaAdmin
import KafkaPolicies
import Logging
import Operations

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
            try await ConfigFailure.reported {
                let input = try await ConfigInputs.load(common, currentFile: current)
                await input.admin?.shutdown()
                let plan = input.plan()
                print(common.json ? ConfigPlanOutput.json(plan) : ConfigPlanOutput.table(plan))
                if !plan.problems.isEmpty { throw BallastExit.badInput }
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Apply the dynamic changes (validate, alter, verify); report what still needs a restart.",
            discussion: """
                A desired file with any value that cannot be applied (a bad value, a node's own key in a plan for \
                several nodes, an unknown --node) is refused whole: nothing is applied, exit 2.
                """)

        @OptionGroup var common: Common

        @Option(help: "Seconds to wait for every node to report the new values.")
        var verifyTimeout: Double = 30

        func run() async throws {
            try await ConfigFailure.reported {
                guard common.connection.bootstrap != nil else {
                    throw ConfigFailure("config apply needs --bootstrap", code: BallastExit.badInput)
                }
                let input = try await ConfigInputs.load(common, currentFile: nil)
                let result = await Self.apply(input, verifyTimeout: verifyTimeout, json: common.json)
                await input.admin?.shutdown()
                try result.get()
            }
        }

        static func apply(_ input: ConfigInputs, verifyTimeout: Double, json: Bool) async -> Result<Void, any Error> {
            let plan = input.plan()
            // Refused whole: applying the valid part of an invalid desired state would leave a state nobody asked for.
            guard plan.problems.isEmpty else {
                print(json ? ConfigPlanOutput.json(plan) : ConfigPlanOutput.table(plan))
                return .failure(
                    ConfigFailure(
                        "the desired config was refused and nothing was applied: \(plan.problems.count) key(s) cannot "
                            + "be applied as given, e.g. \(plan.problems[0])",
                        code: BallastExit.badInput))
            }
            guard let client = input.client else {
                return .failure(ConfigFailure("config apply needs a connection to Kafka", code: BallastExit.failed))
            }
            let applier = ConfigApplier(
                client: client, options: .init(verifyTimeout: .milliseconds(Int64(verifyTimeout * 1000))),
                logger: Logger(label: "ballast.config"))
            let report: ConfigApplyReport
            do {
                report = try await applier.apply(plan, current: input.current)
            } catch {
                return .failure(
                    ConfigFailure("config apply failed talking to Kafka: \(error)", code: BallastExit.failed))
            }
            print(json ? ConfigPlanOutput.json(plan, apply: report) : ConfigPlanOutput.table(plan, apply: report))
            return report.succeeded ? .success(()) : .failure(BallastExit.failed)
        }
    }
}

/// A config command that cannot go on: one sentence on stderr and an exit code.
struct ConfigFailure: Error {
    var message: String
    var code: ExitCode

    init(_ message: String, code: ExitCode) {
        self.message = message
        self.code = code
    }

    /// Runs `body`; a `ConfigFailure` is printed and becomes its exit code.
    static func reported(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as ConfigFailure {
            FileHandle.standardError.write(Data(("ballast: " + failure.message + "\n").utf8))
            throw failure.code
        }
    }
}

/// The inputs of a plan, read and checked.
struct ConfigInputs {
    var desired: DesiredConfig
    var current: CurrentClusterConfig
    var version: KafkaVersionChoice
    var nodes: [Int32]?
    var client: (any ConfigAdminClient)?
    /// The connection the inputs were read through; the command shuts it down.
    var admin: KafkaAdmin?

    func plan() -> ConfigChangePlan {
        var plan = ConfigClassifier(version: version.version).plan(desired: desired, current: current, nodes: nodes)
        if let note = version.note { plan.warnings.insert(note, at: 0) }
        return plan
    }

    static func load(_ common: ConfigCommand.Common, currentFile: String?) async throws -> ConfigInputs {
        if (common.connection.bootstrap == nil) == (currentFile == nil) {
            throw ConfigFailure("give exactly one of --bootstrap and --current", code: BallastExit.badInput)
        }
        var requested: KafkaVersion?
        if let v = common.kafkaVersion {
            guard let parsed = KafkaVersion(v) else {
                throw ConfigFailure(
                    "--kafka-version '\(v)' is not a version like 4.1 or 3.9.1", code: BallastExit.badInput)
            }
            requested = parsed
        }
        var nodes: [Int32]?
        if !common.nodes.isEmpty {
            var ids: [Int32] = []
            for part in common.nodes.flatMap({ $0.split(separator: ",") }) {
                guard let id = Int32(part.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                    throw ConfigFailure("--node '\(part)' is not a node id", code: BallastExit.badInput)
                }
                ids.append(id)
            }
            nodes = ids
        }

        let desiredText = try readFile(common.desired, what: "desired config")
        let desired: DesiredConfig
        do {
            desired = try DesiredConfig(parsing: desiredText, fileName: common.desired)
        } catch {
            throw ConfigFailure("\(error)", code: BallastExit.badInput)
        }

        let current: CurrentClusterConfig
        var dumped: KafkaVersion?
        var client: KafkaAdminConfigClient?
        if let currentFile {
            let data = Data(try readFile(currentFile, what: "current config dump").utf8)
            do {
                let dump = try ConfigDump.decode(data, fileName: currentFile)
                current = dump.current
                if let v = dump.kafkaVersion {
                    guard let parsed = KafkaVersion(v) else {
                        throw ConfigFailure(
                            "\(currentFile): kafkaVersion '\(v)' is not a version", code: BallastExit.badInput)
                    }
                    dumped = parsed
                }
            } catch let failure as ConfigFailure {
                throw failure
            } catch {
                throw ConfigFailure("\(error)", code: BallastExit.badInput)
            }
        } else {
            let bootstrap = common.connection.bootstrap!
            try common.connection.check()
            let configuration: KafkaAdminConfiguration
            do {
                configuration = try common.connection.adminConfiguration()
            } catch {
                throw ConfigFailure("\(ConnectionOptions.message(for: error))", code: BallastExit.badInput)
            }
            let admin: KafkaAdmin
            do { admin = try common.connection.makeAdmin(configuration) } catch {
                throw ConfigFailure(
                    "cannot read the broker configs from \(bootstrap): \(error)",
                    code: error.code == .invalidArgument ? BallastExit.badInput : BallastExit.failed)
            }
            let kafka = KafkaAdminConfigClient(admin: admin)
            do {
                current = try await kafka.currentConfig()
            } catch {
                await admin.shutdown()
                throw ConfigFailure(
                    "cannot read the broker configs from \(bootstrap): \(error)", code: BallastExit.failed)
            }
            client = kafka
        }
        if current.nodes.isEmpty {
            await client?.admin.shutdown()
            throw ConfigFailure("the cluster reports no brokers", code: BallastExit.failed)
        }
        return ConfigInputs(
            desired: desired, current: current,
            version: KafkaVersionChoice(requested: requested, dumped: dumped, current: current), nodes: nodes,
            client: client, admin: client?.admin)
    }

    static func readFile(_ path: String, what: String) throws -> String {
        // Through a FileHandle: FileManager.contents(atPath:) answers nil for /dev/null, pipes and <(…).
        let data: Data
        do {
            guard let handle = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoPermission) }
            defer { try? handle.close() }
            data = try handle.readToEnd() ?? Data()
        } catch {
            throw ConfigFailure("cannot read the \(what) file \(path)", code: BallastExit.badInput)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigFailure("the \(what) file \(path) is not UTF-8 text", code: BallastExit.badInput)
        }
        return text
    }
}
