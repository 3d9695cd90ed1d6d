import AgentContract
import AgentSimDriver
import BallastTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import KafkaModel
import Logging
import NIOCore
import Synchronization
import Testing

@testable import Agent
@testable import AgentProcessDriver

@Suite struct ProcessDriverTests {
    @Test func agentYamlListsNodesWithRolesAndZones() async throws {
        let driver = try ProcessDriver(
            yaml: """
                nodes:
                  - id: 1
                    roles: [broker, controller]
                    zone: az-a
                    restart: "true"
                  - id: 2
                    zone: az-b
                    restart: "true"
                    ready: "false"
                """)
        let nodes = try await driver.nodes()
        #expect(nodes.map(\.id) == [1, 2])
        #expect(nodes[0].roles == [.broker, .controller] && nodes[0].zone == "az-a" && nodes[0].ready)
        #expect(nodes[1].roles == [.broker] && !nodes[1].ready)
    }

    @Test func aRestartIsDoneWhenTheRestartAndReadyCommandsExitZero() async throws {
        let dir = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // The ready command passes from its third run on.
        let driver = try ProcessDriver(
            yaml: """
                readyIntervalSeconds: 0.01
                nodes:
                  - id: 7
                    restart: "echo restarted >> \(dir)/log"
                    ready: "echo x >> \(dir)/ready; test $(wc -l < \(dir)/ready) -ge 3"
                """)
        try await driver.restart(node: 7)
        #expect(try String(contentsOfFile: "\(dir)/log", encoding: .utf8) == "restarted\n")
        #expect(try String(contentsOfFile: "\(dir)/ready", encoding: .utf8).split(separator: "\n").count == 3)
    }

    @Test func aFailingRestartCommandNamesTheNodeStatusAndStderr() async throws {
        let driver = try ProcessDriver(
            yaml: """
                nodes:
                  - id: 4
                    restart: "echo 'kafka@4 not found' >&2; exit 3"
                """)
        await #expect {
            try await driver.restart(node: 4)
        } throws: { error in
            "\(error)" == "the restart command of node 4 exited with status 3: kafka@4 not found"
        }
    }

    @Test func aReadyCommandThatNeverPassesTimesOut() async throws {
        let driver = try ProcessDriver(
            yaml: """
                readyTimeoutSeconds: 0.1
                readyIntervalSeconds: 0.02
                nodes:
                  - id: 5
                    restart: "true"
                    ready: "false"
                """)
        await #expect {
            try await driver.restart(node: 5)
        } throws: { "\($0)".contains("node 5 did not pass its ready command") }
    }

    /// `cluster.sh start-node` leaves a JVM running; the restart must be done when the shell exits, not when the
    /// server it started does, and the server must not inherit blocked signals or the agent's open files.
    @Test func aRestartThatLeavesAServerRunningIsDoneWhenTheCommandExits() async throws {
        let dir = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Were the restart to wait for the server (600 s), it would time out after 120 s and throw.
        let driver = try ProcessDriver(
            yaml: """
                restartTimeoutSeconds: 120
                nodes:
                  - id: 9
                    restart: "sleep 600 & echo $! > \(dir)/pid; grep SigBlk /proc/$!/status > \(dir)/sigblk; ls /proc/$!/fd | wc -l > \(dir)/fds"
                """)
        try await driver.restart(node: 9)
        let pid = try String(contentsOfFile: "\(dir)/pid", encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        defer { if let p = Int32(pid) { kill(p, SIGKILL) } }
        #expect(try String(contentsOfFile: "\(dir)/sigblk", encoding: .utf8).contains("0000000000000000"))
        // Standard input, output and error only.
        #expect(try String(contentsOfFile: "\(dir)/fds", encoding: .utf8).trimmingCharacters(in: .whitespaces) == "3\n")
    }

    @Test func aRestartCommandThatOutlivesItsTimeoutIsStoppedAndReported() async throws {
        // Were the timeout not to stop it, the command would exit 0 after 120 s and the restart succeed.
        let driver = try ProcessDriver(
            yaml: """
                restartTimeoutSeconds: 0.3
                nodes:
                  - id: 3
                    restart: "sleep 120"
                """)
        await #expect {
            try await driver.restart(node: 3)
        } throws: { "\($0)".contains("the restart command of node 3 exited with status 143: timed out after 0 s") }
    }

    /// A command that ignores SIGTERM is killed (its whole group) once `killAfter` has passed after the timeout.
    @Test func aCommandThatIgnoresSIGTERMIsKilledAfterItsTimeout() async throws {
        let dir = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try await Shell.run(
            "trap '' TERM; sleep 600 & echo $! > \(dir)/pid; wait; echo done > \(dir)/natural", timeoutSeconds: 0.2,
            killAfter: .milliseconds(200))
        #expect(result.stderr.hasPrefix("timed out after 0 s"))
        // The `sleep` of its group, which ignores SIGTERM too, was killed; the shell never got past its `wait` (with
        // SIGTERM alone it would have, 600 s later, and written the file).
        #expect(await Self.isGone(try Self.pid(in: dir)))
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/natural"))
    }

    static func pid(in dir: String) throws -> Int32 {
        try #require(
            Int32(
                try String(contentsOfFile: "\(dir)/pid", encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
    }

    /// Whether the process dies: no such process, or a zombie (killed, not yet reaped by whoever inherited it).
    /// SIGKILL is delivered asynchronously, so this looks again until a generous deadline (the only wall-clock
    /// bound here: a process that was not killed never dies within it, one that was dies within microseconds).
    static func isGone(_ pid: Int32) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            if stat.split(separator: ")").last?.split(separator: " ").first == "Z" { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// A cancelled restart does not spin: the command is stopped (SIGTERM, then SIGKILL) and the call returns.
    @Test func aCancelledCommandIsStoppedAndTheCallReturns() async throws {
        let dir = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let task = Task {
            try await Shell.run(
                "trap '' TERM; sleep 600 & echo $! > \(dir)/pid; wait", timeoutSeconds: 1200,
                killAfter: .milliseconds(200))
        }
        // Cancel once the command runs (it wrote its child's pid); the file appears once, so no deadline is needed.
        while (try? Self.pid(in: dir)) == nil { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(await Self.isGone(try Self.pid(in: dir)))
    }

    /// Listing runs the ready commands at once, not one after another: each waits until all have started.
    @Test func readyCommandsRunConcurrentlyWhenTheNodesAreListed() async throws {
        let dir = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func ready(_ id: Int) -> String {
            "touch \(dir)/started-\(id); while [ $(ls \(dir) | grep -c started-) -lt 3 ]; do sleep 0.05; done"
        }
        // One after another, the first check could never see three started and would time out (not ready).
        let driver = try ProcessDriver(
            yaml: """
                readyCheckTimeoutSeconds: 120
                nodes:
                  - {id: 1, restart: "true", ready: "\(ready(1))"}
                  - {id: 2, restart: "true", ready: "\(ready(2))"}
                  - {id: 3, restart: "true", ready: "\(ready(3))"}
                """)
        let nodes = try await driver.nodes()
        #expect(nodes.map(\.ready) == [true, true, true])
    }

    /// A restart request asks the driver whether it manages the node; the process driver answers from its config
    /// without running any ready command (each may take seconds).
    @Test func aRestartRequestRunsNoReadyCommand() async throws {
        let dir = NSTemporaryDirectory() + "ballast-agent-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let driver = try ProcessDriver(
            yaml: """
                nodes:
                  - {id: 1, restart: "true"}
                  - {id: 2, restart: "true", ready: "echo ran >> \(dir)/ready"}
                """)
        let operations = RestartOperations()
        let app = try AgentServer.application(
            driver: driver, configuration: .init(token: "t"), logger: Logger(label: "test"), operations: operations)
        try await app.test(.router) { client in
            let op = try await client.execute(
                uri: "/v1/nodes/1/restart", method: .post, headers: [.authorization: "Bearer t"]
            ) { response in
                #expect(response.status == .accepted)
                return try JSONDecoder().decode(AgentOperation.self, from: Data(response.body.readableBytesView))
            }
            #expect(await operations.finished(op.id)?.state == .done)
        }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/ready"))
    }

    @Test func aConfigListingANodeTwiceIsRefused() {
        #expect(throws: AgentError.self) {
            try ProcessDriver(yaml: "nodes:\n  - {id: 1, restart: 'true'}\n  - {id: 1, restart: 'true'}\n")
        }
    }
}

@Suite struct SimDriverTests {
    /// A stand-in for the simulator's control API: stop → stopping then stopped, start → starting then running.
    @Test func aSimRestartStopsThenStartsTheBrokerThroughTheControlAPI() async throws {
        let states = Mutex<[Int32: String]>([1: "running", 2: "running"])
        let calls = Mutex<[String]>([])
        let router = Router()
        router.get("/v1/brokers") { _, _ -> Response in
            let list = states.withLock { s -> String in
                let out = s.keys.sorted().map { #"{"id":\#($0),"rack":"r\#($0)","state":"\#(s[$0]!)"}"# }
                for (k, v) in s where v == "starting" { s[k] = "running" }
                for (k, v) in s where v == "stopping" { s[k] = "stopped" }
                return "[" + out.joined(separator: ",") + "]"
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: list)))
        }
        router.post("/v1/brokers/{id}/{action}") { _, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id", as: Int32.self)
            let action = try context.parameters.require("action")
            calls.withLock { $0.append("\(action) \(id)") }
            states.withLock { $0[id] = action == "stop" ? "stopping" : "starting" }
            return .ok
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let driver = SimDriver(
                control: "http://127.0.0.1:\(client.port!)", pollMilliseconds: 5, requestTimeout: .seconds(60))
            let nodes = try await driver.nodes()
            #expect(nodes.map(\.id) == [1, 2] && nodes[0].zone == "r1" && nodes[0].ready)
            try await driver.restart(node: 2)
        }
        #expect(calls.withLock { $0 } == ["stop 2", "start 2"])
        #expect(states.withLock { $0[2] } == "running")
    }

    /// A control API too slow to answer some calls (the 60-broker run under load): an unanswered state poll, and a
    /// stop whose answer is lost although the simulator applied it, do not fail the restart.
    @Test func unansweredControlCallsDuringARestartAreAskedAgainNotReportedAsItsFailure() async throws {
        let states = Mutex<[Int32: String]>([2: "running"])
        let calls = Mutex<[String]>([])
        let polls = Mutex(0)
        let router = Router()
        router.get("/v1/brokers") { _, _ -> Response in
            let n = polls.withLock { p -> Int in
                p += 1
                return p
            }
            // Every other poll fails as a timed-out one would.
            if n % 2 == 0 { return Response(status: .serviceUnavailable) }
            let list = states.withLock { s -> String in
                let out = s.keys.sorted().map { #"{"id":\#($0),"state":"\#(s[$0]!)"}"# }
                for (k, v) in s where v == "starting" { s[k] = "running" }
                for (k, v) in s where v == "stopping" { s[k] = "stopped" }
                return "[" + out.joined(separator: ",") + "]"
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: list)))
        }
        router.post("/v1/brokers/{id}/{action}") { _, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id", as: Int32.self)
            let action = try context.parameters.require("action")
            calls.withLock { $0.append("\(action) \(id)") }
            states.withLock { $0[id] = action == "stop" ? "stopping" : "starting" }
            // The stop is applied, its answer lost.
            return action == "stop" ? .gatewayTimeout : .ok
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let driver = SimDriver(
                control: "http://127.0.0.1:\(client.port!)", pollMilliseconds: 5, requestTimeout: .seconds(60))
            try await driver.restart(node: 2)
        }
        // The applied stop was seen in the broker's state, not sent twice.
        #expect(calls.withLock { $0 } == ["stop 2", "start 2"])
        #expect(states.withLock { $0[2] } == "running")
    }

    /// The simulator's failStarts fault: after start the broker goes starting → stopped (its process died).
    @Test func aSimBrokerThatDiesDuringStartUpFailsTheRestartAtOnceNamingIt() async throws {
        let states = Mutex<[Int32: String]>([3: "running"])
        let router = Router()
        router.get("/v1/brokers") { _, _ -> Response in
            let list = states.withLock { s -> String in
                let out = s.keys.sorted().map { #"{"id":\#($0),"state":"\#(s[$0]!)"}"# }
                for (k, v) in s where v == "starting" || v == "stopping" { s[k] = "stopped" }
                return "[" + out.joined(separator: ",") + "]"
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: list)))
        }
        router.post("/v1/brokers/{id}/{action}") { _, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id", as: Int32.self)
            let action = try context.parameters.require("action")
            states.withLock { $0[id] = action == "stop" ? "stopping" : "starting" }
            return .ok
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            // The default timeout is 300 s, and its message says so: "did not come back" comes only from seeing
            // `stopped`, so the message alone shows the restart ended on it (no wall-clock bound, which a loaded
            // machine can miss).
            let driver = SimDriver(
                control: "http://127.0.0.1:\(client.port!)", pollMilliseconds: 5, requestTimeout: .seconds(60))
            let error = await #expect(throws: AgentError.self) { try await driver.restart(node: 3) }
            #expect(
                error?.description.contains("simulated broker 3 did not come back") == true,
                "\(String(describing: error))")
            #expect(error?.description.contains("check the node's logs") == true)
            #expect(error?.description.contains("exited during start-up") == true)
        }
    }
}
