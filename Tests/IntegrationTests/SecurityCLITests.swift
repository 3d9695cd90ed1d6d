import BallastTestSupport
import Foundation
import Testing

/// The `ballast` binary against `ballast sim` with secured listeners (TLS, mutual TLS, SASL PLAIN and SCRAM with
/// Kafka 4's strict nonce check), each a separate process over loopback TCP: describe, config plan and
/// roll --dry-run over SASL_SSL with SCRAM, the one-line errors of a wrong password, a wrong CA and a missing
/// client certificate (exit 1), and the password in no output.
@Suite(.serialized, .enabled(if: ballastBinary != nil, "needs the built ballast binary (swift build)"))
struct SecurityCLITests {
    static let password = "cli-Pa55word-xyz"

    /// `ballast sim` with the given extra flags, running until `body` returns; `body` gets its bootstrap.
    static func withBallastSim<T>(_ flags: [String], _ body: (String) async throws -> T) async throws -> T {
        let sim = try BackgroundProcess(
            ballastBinary!,
            ["sim", "--brokers", "3", "--topics", "2", "--partitions", "3", "--port", "0", "--control-port", "0"]
                + flags)
        defer { sim.stop() }
        let lines = try await onThread { try sim.readLines(until: { $0.contains { $0.hasPrefix("control=") } }) }
        let bootstrap = try #require(lines.first { $0.hasPrefix("bootstrap=") }).dropFirst("bootstrap=".count)
        return try await body(String(bootstrap))
    }

    /// `ballast` with `arguments`, off the cooperative pool.
    static func ballast(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await run(ballastBinary!, arguments, environment: environment)
    }

    static func saslSSL(_ pki: TestPKI, mechanism: String, ca: String? = nil) -> [String] {
        [
            "--security-protocol", "SASL_SSL", "--ssl-ca", ca ?? pki.caFile, "--sasl-mechanism", mechanism,
            "--sasl-username", "ballast", "--timeout", "5",
        ]
    }

    @Test func describeConfigPlanAndRollDryRunWorkOverSaslSslWithScram() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let users = try pki.file("users", "# one per line\nballast:\(Self.password)\nother:x\n")
        let desired = try pki.file("desired.properties", "log.cleaner.threads=2\n")
        let env = ["BALLAST_SASL_PASSWORD": Self.password]
        try await Self.withBallastSim(
            ["--tls-cert", pki.server.certificate, "--tls-key", pki.server.key, "--sasl-users", users]
        ) { bootstrap in
            for mechanism in ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] {
                let flags = Self.saslSSL(pki, mechanism: mechanism)
                let describe = try await Self.ballast(
                    ["describe", "--bootstrap", bootstrap, "--verbose"] + flags, environment: env)
                #expect(describe.status == 0, "\(mechanism): \(describe.stderr)")
                #expect(describe.stdout.contains("Brokers 3"), "\(mechanism)")
                // --verbose says once why SCRAM reads over the native connection (librdkafka 2.0.2 here).
                let note = describe.stderr.components(separatedBy: "librdkafka#4895").count - 1
                #expect(note == (mechanism.hasPrefix("SCRAM") ? 1 : 0), "\(mechanism): \(describe.stderr)")

                let plan = try await Self.ballast(
                    ["config", "plan", "--bootstrap", bootstrap, "--desired", desired] + flags,
                    environment: env)
                #expect(plan.status == 0, "\(mechanism): \(plan.stderr)")
                #expect(plan.stdout.contains("log.cleaner.threads"), "\(mechanism)")

                let roll = try await Self.ballast(
                    ["roll", "--bootstrap", bootstrap, "--dry-run"] + flags, environment: env)
                #expect(roll.status == 0, "\(mechanism): \(roll.stderr)")
                #expect(roll.stdout.contains("batch(es) for 3 node(s)"), "\(mechanism): \(roll.stdout)")
                for r in [describe, plan, roll] { #expect(!(r.stdout + r.stderr).contains(Self.password)) }
            }
            // Without --verbose nothing but the snapshot.
            let quiet = try await Self.ballast(
                ["describe", "--bootstrap", bootstrap] + Self.saslSSL(pki, mechanism: "SCRAM-SHA-512"),
                environment: env)
            #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        }
    }

    @Test func aWrongPasswordOrAWrongCAIsOneLineAndExit1NamingTheBroker() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let users = try pki.file("users", "ballast:\(Self.password)\n")
        let wrong = "not-the-Pa55word"
        try await Self.withBallastSim(
            ["--tls-cert", pki.server.certificate, "--tls-key", pki.server.key, "--sasl-users", users]
        ) { bootstrap in
            for mechanism in ["SCRAM-SHA-512", "PLAIN"] {
                for command in [["describe"], ["roll", "--dry-run"]] {
                    let r = try await Self.ballast(
                        command + ["--bootstrap", bootstrap] + Self.saslSSL(pki, mechanism: mechanism)
                            + ["--sasl-password", wrong])
                    #expect(r.status == 1, "\(command) \(mechanism): \(r.stderr)")
                    #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
                    #expect(
                        r.stderr.contains("SASL \(mechanism) authentication of user 'ballast' to broker 127.0.0.1:"))
                    #expect(!(r.stdout + r.stderr).contains(wrong))
                    #expect(!(r.stdout + r.stderr).contains(Self.password))
                }
            }
            let r = try await Self.ballast(
                ["describe", "--bootstrap", bootstrap] + Self.saslSSL(pki, mechanism: "PLAIN", ca: pki.otherCAFile),
                environment: ["BALLAST_SASL_PASSWORD": Self.password])
            #expect(r.status == 1, "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(r.stderr.contains("TLS verification of broker 127.0.0.1:"), "\(r.stderr)")
            #expect(r.stderr.contains("which is not a CA in the CA file \(pki.otherCAFile)"), "\(r.stderr)")
        }
    }

    @Test func mutualTLSNeedsTheClientCertificateAndSaysSoWithoutIt() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withBallastSim(
            ["--tls-cert", pki.server.certificate, "--tls-key", pki.server.key, "--tls-client-ca", pki.caFile]
        ) { bootstrap in
            let base = ["describe", "--bootstrap", bootstrap, "--security-protocol", "SSL", "--ssl-ca", pki.caFile]
            let without = try await Self.ballast(base + ["--timeout", "5"])
            #expect(without.status == 1, "\(without.stderr)")
            #expect(
                without.stderr.contains("demanded a client certificate and none is configured"), "\(without.stderr)")
            let with = try await Self.ballast(
                base + ["--ssl-cert", pki.client.certificate, "--ssl-key", pki.client.key])
            #expect(with.status == 0, "\(with.stderr)")
        }
    }

    @Test func aDesiredFileThatIsEmptyPlansNothing() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        try await Self.withBallastSim([]) { bootstrap in
            for desired in ["/dev/null", try pki.file("empty.properties", "")] {
                let r = try await Self.ballast(["config", "plan", "--bootstrap", bootstrap, "--desired", desired])
                #expect(r.status == 0, "\(desired): \(r.stderr)")
                #expect(r.stdout.contains("0 change(s)"), "\(desired): \(r.stdout)")
                #expect(r.stdout.contains("Restart required: no"))
            }
        }
    }

    @Test(arguments: [
        (["--tls-cert", "/nonexistent/cert.pem"], "--tls-cert and --tls-key go together"),
        (["--tls-client-ca", "/nonexistent/ca.pem"], "--tls-client-ca needs --tls-cert and --tls-key"),
        (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"], "/nonexistent/cert.pem"),
        (["--sasl-users", "/nonexistent/users"], "cannot read the SASL users file /nonexistent/users"),
        (["--sasl-users", "USERS", "--sasl-mechanisms", "GSSAPI"], "SASL mechanism 'GSSAPI'"),
    ])
    func badSecurityFlagsOfTheSimulatorAreBadUsage(flags: [String], message: String) async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let users = try pki.file("users", "ballast:\(Self.password)\nbroken line\n")
        let good = try pki.file("good-users", "ballast:\(Self.password)\n")
        let args = flags.map { $0 == "USERS" ? good : $0 }
        let r = try await Self.ballast(["sim", "--port", "0", "--control-port", "0"] + args)
        #expect(r.status == 2, "\(flags): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(flags): \(r.stderr)")
        let broken = try await Self.ballast(["sim", "--port", "0", "--control-port", "0", "--sasl-users", users])
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("line 2 is not user:password"), "\(broken.stderr)")
        #expect(!broken.stderr.contains(Self.password))
    }

    @Test func rollReachesAnHttpsAgentWithMutualTLSThroughItsFlags() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let config = try pki.file(
            "agent.yaml",
            """
            nodes:
              - {id: 1, zone: rack-a, restart: "true"}
              - {id: 2, zone: rack-b, restart: "true"}
              - {id: 3, zone: rack-c, restart: "true"}
            """)
        let agent = try BackgroundProcess(
            ballastBinary!,
            [
                "agent", "--driver", "process", "--config", config, "--listen", "127.0.0.1:0", "--state-dir",
                pki.directory + "/agent-state", "--tls-cert", pki.server.certificate, "--tls-key", pki.server.key,
                "--tls-client-ca", pki.caFile,
            ], environment: ["BALLAST_AGENT_TOKEN": "tok"])
        defer { agent.stop() }
        let url = try #require(
            try await onThread { try agent.readLines { $0.contains { $0.hasPrefix("listening=") } } }
                .first { $0.hasPrefix("listening=") }
        ).dropFirst("listening=".count)
        #expect(url.hasPrefix("https://127.0.0.1:"))
        try await Self.withBallastSim([]) { bootstrap in
            let roll = ["roll", "--bootstrap", bootstrap, "--dry-run", "--agent", String(url), "--token", "tok"]
            let with = try await Self.ballast(
                roll + [
                    "--agent-ca", pki.caFile, "--agent-cert", pki.client.certificate, "--agent-key", pki.client.key,
                ])
            #expect(with.status == 0, "\(with.stderr)")
            #expect(with.stdout.contains("for 3 node(s)"), "\(with.stdout)")
            let without = try await Self.ballast(roll + ["--agent-ca", pki.caFile])
            #expect(without.status == 1, "\(without.stderr)")
            #expect(without.stderr.contains("the agent at \(url)"), "\(without.stderr)")
            let badFile = try await Self.ballast(roll + ["--agent-ca", "/nonexistent/ca.pem"])
            #expect(badFile.status == 2, "\(badFile.stderr)")
            #expect(badFile.stderr.contains("/nonexistent/ca.pem"), "\(badFile.stderr)")
        }
    }

    /// A real roll through `ballast agent --driver sim` over SASL_SSL with SCRAM-SHA-512: it finishes, and the
    /// password is in none of its JSON events, its output or its journal, nor in the agent's output.
    @Test func aRollOverScramFinishesAndThePasswordIsInNoEventOutputOrJournal() async throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let users = try pki.file("users", "ballast:\(Self.password)\n")
        let sim = try BackgroundProcess(
            ballastBinary!,
            [
                "sim", "--brokers", "3", "--topics", "2", "--partitions", "3", "--port", "0", "--control-port", "0",
                "--time-scale", "10", "--tls-cert", pki.server.certificate, "--tls-key", pki.server.key,
                "--sasl-users", users,
            ])
        defer { sim.stop() }
        let simLines = try await onThread { try sim.readLines { $0.contains { $0.hasPrefix("control=") } } }
        let bootstrap = try #require(simLines.first { $0.hasPrefix("bootstrap=") }).dropFirst("bootstrap=".count)
        let control = try #require(simLines.first { $0.hasPrefix("control=") }).dropFirst("control=".count)
        let agent = try BackgroundProcess(
            ballastBinary!,
            [
                "agent", "--driver", "sim", "--sim-control", String(control), "--listen", "127.0.0.1:0",
                "--state-dir", pki.directory + "/agent-state",
            ], environment: ["BALLAST_AGENT_TOKEN": "tok"])
        defer { agent.stop() }
        let agentLines = try await onThread { try agent.readLines { $0.contains { $0.hasPrefix("listening=") } } }
        let url = try #require(agentLines.first { $0.hasPrefix("listening=") }).dropFirst("listening=".count)
        let state = pki.directory + "/roll-state"
        let r = try await Self.ballast(
            [
                "roll", "--bootstrap", String(bootstrap), "--agent", String(url), "--token", "tok", "--json",
                "--state-dir", state, "--poll", "0.2",
            ]
                + Self.saslSSL(pki, mechanism: "SCRAM-SHA-512"),
            environment: ["BALLAST_SASL_PASSWORD": Self.password])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"event\":\"finished\""), "\(r.stdout)")
        #expect(!(r.stdout + r.stderr).contains(Self.password))
        var journal = Data()
        for file in try FileManager.default.subpathsOfDirectory(atPath: state) {
            journal += FileManager.default.contents(atPath: state + "/" + file) ?? Data()
        }
        #expect(!journal.isEmpty)
        #expect(journal.range(of: Data(Self.password.utf8)) == nil, "the password is in the journal")
    }
}
