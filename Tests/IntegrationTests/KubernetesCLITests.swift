import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The kubectl binaries to test with: `BALLAST_KUBECTLS` (paths separated by `:`), else `kubectl` on the PATH
/// (Scripts/test.sh installs Debian's kubectl 1.20 when none is there; this machine has 1.32).
let kubectls: [String] = {
    if let list = ProcessInfo.processInfo.environment["BALLAST_KUBECTLS"], !list.isEmpty {
        return list.split(separator: ":").map(String.init)
    }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        let path = "\(dir)/kubectl"
        if FileManager.default.isExecutableFile(atPath: path) { return [path] }
    }
    return []
}()

/// `ballast sim --kubernetes-port` run as a program, with its control API.
struct SimProcess {
    let process: ObservedProcess
    let control: String
    let kubeconfigs: [String]

    static func start(_ flags: [String]) async throws -> SimProcess {
        let p = try ObservedProcess(
            ballastBinary!,
            ["sim", "--port", "0", "--control-port", "0", "--kubernetes-port", "0", "--time-scale", "10"] + flags)
        let clusters = Int(flags.firstIndex(of: "--clusters").map { flags[$0 + 1] } ?? "1") ?? 1
        try await p.wait { $0.split(separator: "\n").filter { $0.hasPrefix("kubeconfig=") }.count == clusters }
        return SimProcess(
            process: p, control: p.lines(startingWith: "control=")[0], kubeconfigs: p.lines(startingWith: "kubeconfig=")
        )
    }

    struct Broker: Decodable {
        var id: Int32
        var cluster: String
        var state: String
        var starts: Int
    }
    struct Pod: Decodable {
        var name: String
        var uid: String
        var node: Int32
        var ready: Bool
        var created: Int
        var deleted: Int
    }
    struct Cluster: Decodable {
        var name: String
        var pods: [Pod]
    }

    func get<T: Decodable>(_ path: String, _ type: T.Type) async throws -> T {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: control + path), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        return try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    func brokers() async throws -> [Broker] {
        struct List: Decodable { var brokers: [Broker] }
        return try await get("/v1/brokers", List.self).brokers
    }

    func pods(_ cluster: String) async throws -> [Pod] {
        struct List: Decodable { var clusters: [Cluster] }
        return try await get("/v1/kubernetes", List.self).clusters.first { $0.name == cluster }?.pods ?? []
    }

    /// Waits for a state of the simulation that the program reaches on its own (a pod coming back after kubectl
    /// returned): polls the control API, which has no event to await, with a generous deadline.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ObservedProcessError("timed out waiting until \(what)")
    }
}

@Suite(
    .serialized, .enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct KubectlTests {
    static func kubectl(_ binary: String, home: String, _ kubeconfig: String, _ args: [String]) async throws
        -> ProcessResult
    {
        try await run(binary, ["--kubeconfig", kubeconfig] + args, environment: ["HOME": home])
    }

    static func home() throws -> String {
        let home = NSTemporaryDirectory() + "ballast-kubectl-home-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        return home
    }

    @Test func kubectlIsThere() {
        #expect(!kubectls.isEmpty, "no kubectl: Scripts/test.sh installs Debian's kubernetes-client")
    }

    @Test(arguments: kubectls)
    func getDeleteScaleAndWatchMatchTheSimulatedBrokers(_ kubectl: String) async throws {
        let sim = try await SimProcess.start([
            "--brokers", "6", "--racks", "3", "--clusters", "3", "--startup-delay-ms", "2000",
        ])
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        do {
            let cluster = "k8s-2"
            let kubeconfig = try #require(sim.kubeconfigs.first { $0.hasSuffix("/\(cluster).kubeconfig") })
            let brokers = try await sim.brokers().filter { $0.cluster == cluster }.map(\.id).sorted()
            #expect(brokers == [2, 5])

            // get pods -o wide: one Running, 1/1 row per broker, on the node of its rack.
            let wide = try await Self.kubectl(kubectl, home: home, kubeconfig, ["get", "pods", "-o", "wide"])
            #expect(wide.status == 0, "\(wide.stderr)")
            let rows = wide.stdout.split(separator: "\n").map {
                $0.split(separator: " ", omittingEmptySubsequences: true)
            }
            #expect(rows.first?.starts(with: ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]) == true)
            #expect(rows.dropFirst().map { String($0[0]) } == ["kafka-0", "kafka-1"])
            #expect(rows.dropFirst().allSatisfy { $0[1] == "1/1" && $0[2] == "Running" && $0[6] == "k8s-2-rack-b" })

            // -o json: the pods carry the brokers' ids.
            let json = try await Self.kubectl(kubectl, home: home, kubeconfig, ["get", "pods", "-o", "json"])
            #expect(json.status == 0, "\(json.stderr)")
            struct PodList: Decodable {
                struct Item: Decodable {
                    struct Meta: Decodable { var name: String; var labels: [String: String] }
                    var metadata: Meta
                }
                var kind: String
                var items: [Item]
            }
            let list = try JSONDecoder().decode(PodList.self, from: Data(json.stdout.utf8))
            #expect(list.kind == "List" || list.kind == "PodList")
            #expect(list.items.compactMap { Int32($0.metadata.labels["ballast.io/node-id"] ?? "") }.sorted() == brokers)

            // get --watch, while another kubectl deletes a pod: the watch shows it terminate and come back.
            let watch = try ObservedProcess(
                kubectl, ["--kubeconfig", kubeconfig, "get", "pods", "--watch"], environment: ["HOME": home])
            try await watch.wait { $0.contains("kafka-1") }
            let before = try await sim.pods(cluster).first { $0.name == "kafka-0" }!
            let delete = try await Self.kubectl(kubectl, home: home, kubeconfig, ["delete", "pod", "kafka-0"])
            #expect(delete.status == 0, "\(delete.stderr)")
            #expect(delete.stdout.contains("pod \"kafka-0\" deleted"))
            try await watch.wait { text in
                let lines = text.split(separator: "\n").filter { $0.hasPrefix("kafka-0 ") }
                guard let terminating = lines.firstIndex(where: { $0.contains("Terminating") }) else { return false }
                return lines[terminating...].contains { $0.contains("1/1") && $0.contains("Running") }
            }
            await watch.stop()
            try await sim.eventually("kafka-0 is back, ready, with a new uid") {
                let pod = try await sim.pods(cluster).first { $0.name == "kafka-0" }
                return pod.map { $0.ready && $0.uid != before.uid } ?? false
            }
            let restarted = try await sim.brokers().first { $0.id == before.node }!
            #expect(restarted.starts == 1 && restarted.state == "running")

            // scale statefulset: a new broker in this Kubernetes cluster, its pod Ready.
            let scale = try await Self.kubectl(
                kubectl, home: home, kubeconfig, ["scale", "statefulset", "kafka", "--replicas", "3"])
            #expect(scale.status == 0, "\(scale.stderr)")
            #expect(scale.stdout.contains("statefulset.apps/kafka scaled"))
            try await sim.eventually("a third broker runs in \(cluster)") {
                try await sim.brokers().filter { $0.cluster == cluster && $0.state == "running" }.count == 3
            }
            try await sim.eventually("kafka-2 is ready") {
                try await sim.pods(cluster).contains { $0.name == "kafka-2" && $0.ready }
            }
            let after = try await Self.kubectl(kubectl, home: home, kubeconfig, ["get", "statefulsets"])
            #expect(after.stdout.contains("3/3"), "\(after.stdout) \(after.stderr)")
            let pdb = try await Self.kubectl(kubectl, home: home, kubeconfig, ["get", "pdb"])
            #expect(pdb.status == 0 && pdb.stdout.contains("kafka"), "\(pdb.stderr)")
        } catch {
            await sim.process.stop()
            throw error
        }
        await sim.process.stop()
    }

    @Test(arguments: kubectls)
    func kustomizeBuildsEveryOverlayOfTheDeployManifests(_ kubectl: String) async throws {
        let home = try Self.home()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let deploy = packageRoot.appendingPathComponent("deploy/kubernetes").path
        for (overlay, cidr) in [
            ("agent-east", "10.10.0.0/16"), ("agent-west", "10.20.0.0/16"), ("agent-central", "10.30.0.0/16"),
        ] {
            let r = try await run(kubectl, ["kustomize", "\(deploy)/overlays/\(overlay)"], environment: ["HOME": home])
            #expect(r.status == 0, "\(overlay): \(r.stderr)")
            let cluster = overlay.replacingOccurrences(of: "agent-", with: "")
            for expected in [
                "kind: Role", "kind: RoleBinding", "kind: ServiceAccount", "kind: NetworkPolicy", "kind: Deployment",
                "kind: PersistentVolumeClaim", "namespace: kafka", "--cluster=\(cluster)", "cidr: \(cidr)",
                "image: ghcr.io/example/ballast:0.1.0", "secretName: ballast-agent-token",
            ] {
                #expect(r.stdout.contains(expected), "\(overlay) lacks \(expected)")
            }
            #expect(!r.stdout.contains("--cluster=CLUSTER") && !r.stdout.contains("192.0.2.10"), "\(overlay)")
        }
        let engine = try await run(kubectl, ["kustomize", "\(deploy)/overlays/engine"], environment: ["HOME": home])
        #expect(engine.status == 0, "\(engine.stderr)")
        #expect(
            engine.stdout.contains("namespace: ballast")
                && engine.stdout.contains("automountServiceAccountToken: false"))
        #expect(!engine.stdout.contains("kind: Role"))
    }
}

/// The agent binary with the kubernetes driver against the simulator binary: killed while a restart runs, the
/// restarted agent reports that restart failed (it cannot know how it ended) and never deletes the pod again.
@Suite(.serialized, .enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct KubernetesAgentCLITests {
    static func agent(_ kubeconfig: String, state: String) async throws -> (ObservedProcess, String) {
        let agent = try ObservedProcess(
            ballastBinary!,
            [
                "agent", "--driver", "kubernetes", "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0", "--state-dir",
                state,
            ],
            environment: ["BALLAST_AGENT_TOKEN": "agent-token"])
        return (agent, try await agent.line(startingWith: "listening="))
    }

    struct Operation: Decodable {
        var id: String
        var state: String
        var error: String?
    }

    static func call(_ method: HTTPMethod, _ url: String, body: String? = nil) async throws -> (Int, Operation?) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer agent-token")
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (
            Int(response.status.code), try? JSONDecoder().decode(Operation.self, from: Data(bytes.readableBytesView))
        )
    }

    @Test func anAgentKilledMidRestartReportsItFailedAndNeverDeletesThePodAgain() async throws {
        // A long start-up (6 s real) leaves time to kill the agent while its restart waits for the new pod.
        let sim = try await SimProcess.start(["--brokers", "3", "--racks", "3", "--startup-delay-ms", "60000"])
        let state = NSTemporaryDirectory() + "ballast-agent-state-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: state) }
        var agents: [ObservedProcess] = []
        do {
            let (first, url) = try await Self.agent(sim.kubeconfigs[0], state: state)
            agents.append(first)
            let (accepted, op) = try await Self.call(
                .POST, "\(url)/v1/nodes/2/restart", body: #"{"requestId":"roll-1/node-2"}"#)
            #expect(accepted == 202)
            let opId = try #require(op?.id)
            try await sim.eventually("node 2's pod is deleted") {
                try await sim.pods("k8s-1").first { $0.node == 2 }?.deleted == 1
            }
            await first.stop(kill: true)

            let (second, url2) = try await Self.agent(sim.kubeconfigs[0], state: state)
            agents.append(second)
            let (status, again) = try await Self.call(
                .POST, "\(url2)/v1/nodes/2/restart", body: #"{"requestId":"roll-1/node-2"}"#)
            #expect(status == 200)
            #expect(again?.id == opId && again?.state == "failed")
            #expect(
                again?.error?.contains("the agent stopped while restarting node 2") == true, "\(again?.error ?? "")")
            // Kubernetes brings the pod back by itself; nobody deletes it a second time.
            try await sim.eventually("node 2's new pod is ready") {
                try await sim.pods("k8s-1").first { $0.node == 2 }?.ready == true
            }
            let pod = try #require(try await sim.pods("k8s-1").first { $0.node == 2 })
            #expect(pod.deleted == 1 && pod.created == 2)
            #expect(try await sim.brokers().first { $0.id == 2 }?.starts == 1)
        } catch {
            for a in agents { await a.stop() }
            await sim.process.stop()
            throw error
        }
        for a in agents { await a.stop() }
        await sim.process.stop()
    }

    @Test func aKubeconfigWithAnExecPluginIsBadInputNamingIt() async throws {
        let dir = NSTemporaryDirectory() + "ballast-kc-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
        users: [{name: u, user: {exec: {command: aws}}}]
        contexts: [{name: x, context: {cluster: c, user: u}}]
        current-context: x
        """.write(toFile: dir + "/kc", atomically: true, encoding: .utf8)
        let r = try await run(
            ballastBinary!,
            ["agent", "--driver", "kubernetes", "--kubeconfig", dir + "/kc", "--state-dir", dir + "/state"],
            environment: ["BALLAST_AGENT_TOKEN": "t"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("exec plugin") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
