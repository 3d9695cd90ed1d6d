import ArgumentParser
import Foundation
import KafkaAdmin
import Logging

/// How to reach the cluster: the flags of every command that talks to Kafka (describe, config, plan, roll).
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers, host:port[,host:port...].")
    var bootstrap: String?

    @Option(help: "Seconds a request (and the whole connection attempt) may take.")
    var timeout: Double = 10

    @Option(help: "Client id sent to Kafka.")
    var clientId = "ballast"

    @Option(help: "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
    var securityProtocol = "PLAINTEXT"

    @Option(help: "PEM file of the CA that signed the brokers' certificates.")
    var sslCa: String?

    @Option(help: "PEM client certificate for mutual TLS.")
    var sslCert: String?

    @Option(help: "PEM private key of the client certificate.")
    var sslKey: String?

    @Flag(help: "Do not check that the broker certificate names the host dialled.")
    var noHostnameCheck = false

    @Option(help: "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.")
    var saslMechanism: String?

    @Option(help: "SASL user name.")
    var saslUsername: String?

    @Option(help: "SASL password (or set BALLAST_SASL_PASSWORD).")
    var saslPassword: String?

    @Flag(help: "Log how the cluster is reached: which transport reads it and why, reconnects.")
    var verbose = false

    /// Checks the values; a bad one is bad input (exit 2), named in one sentence on stderr.
    func check(requireBootstrap: Bool = false) throws {
        do {
            if requireBootstrap && bootstrap == nil { throw ValidationError("--bootstrap is required.") }
            try checkValues()
        } catch let e as ValidationError {
            FileHandle.standardError.write(Data((e.message + "\n").utf8))
            throw BallastExit.badInput
        }
    }

    private func checkValues() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 s.") }
        for server in (bootstrap ?? "").split(separator: ",") {
            let parts = server.split(separator: ":")
            guard parts.count >= 2, let port = Int(parts.last!), (1...65535).contains(port) else {
                throw ValidationError("--bootstrap '\(server)' is not host:port.")
            }
        }
        let p = securityProtocol.uppercased()
        guard ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(p) else {
            throw ValidationError(
                "--security-protocol '\(securityProtocol)' is not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.")
        }
        if p.hasPrefix("SASL") {
            guard let m = saslMechanism, KafkaSecurity.SASL.Mechanism(rawValue: m.uppercased()) != nil else {
                throw ValidationError("--sasl-mechanism must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 with \(p).")
            }
            guard saslUsername != nil else { throw ValidationError("--sasl-username is required with \(p).") }
            guard saslPassword ?? ProcessInfo.processInfo.environment["BALLAST_SASL_PASSWORD"] != nil else {
                throw ValidationError(
                    "A SASL password is required with \(p): set BALLAST_SASL_PASSWORD or give --sasl-password.")
            }
        }
    }

    /// The admin client's configuration, for `bootstrap` (e.g. a resumed roll's) or else `--bootstrap`.
    func adminConfiguration(bootstrap override: String? = nil) throws -> KafkaAdminConfiguration {
        guard let bootstrap = override ?? bootstrap else { throw ValidationError("--bootstrap is required.") }
        let p = securityProtocol.uppercased()
        var security = KafkaSecurity()
        if p == "SSL" || p == "SASL_SSL" {
            security.tls = KafkaSecurity.TLS(
                caFile: sslCa, certificateFile: sslCert, keyFile: sslKey, verifyHostname: !noHostnameCheck)
        }
        if p.hasPrefix("SASL"),
            let m = saslMechanism.flatMap({ KafkaSecurity.SASL.Mechanism(rawValue: $0.uppercased()) })
        {
            let password = saslPassword ?? ProcessInfo.processInfo.environment["BALLAST_SASL_PASSWORD"] ?? ""
            security.sasl = KafkaSecurity.SASL(mechanism: m, username: saslUsername ?? "", password: password)
        }
        let t = Duration.milliseconds(Int64(timeout * 1000))
        var c = KafkaAdminConfiguration(bootstrap: bootstrap, clientId: clientId, security: security)
        c.requestTimeout = t
        c.connectTimeout = min(t, .seconds(5))
        return c
    }
}

extension ConnectionOptions {
    /// The admin client, logging to stderr: warnings, and with `--verbose` also how the cluster is read.
    func makeAdmin(_ configuration: KafkaAdminConfiguration) throws(KafkaAdminError) -> KafkaAdmin {
        var logger = Logger(label: "ballast.kafka-admin")
        logger.logLevel = verbose ? .debug : .warning
        return try KafkaAdmin(configuration: configuration, logger: logger)
    }

    /// One sentence for a connection flag error.
    static func message(for error: any Error) -> String {
        (error as? ValidationError)?.message ?? "\(error)"
    }
}
