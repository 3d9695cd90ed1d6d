import ArgumentParser
import BallastStore
import Foundation
import Logging
import Metrics
import NIOSSL
import Prometheus
import Server
import ServiceConfig
import ServiceLifecycle

/// `ballast serve`: the engine as a service (docs/service.md, openapi.yaml).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the engine as a service: operations, Alertmanager webhooks, manual rebalance, metrics.",
        discussion: """
            Serves the HTTP API of openapi.yaml for the Kafka clusters of the configuration (DESIGN.md's service \
            configuration). Every trigger becomes an operation in the store; one operation at a time runs per Kafka \
            cluster. Prints listening=URL once it listens. Exit codes: 0 stopped by a signal; 1 could not serve; \
            2 bad usage or a bad configuration (the key named).
            """)

    @Option(help: "The service configuration (YAML, DESIGN.md).") var config: String
    @Option(
        help: "host:port to listen on (default: the configuration's listen, else 127.0.0.1:8080; port 0 picks one).")
    var listen: String?

    func run() async throws {
        let settings: ServiceConfiguration
        let tokens: ServiceServer.Tokens
        let (host, port): (String, Int)
        var tls: TLSConfiguration?
        do {
            settings = try ServiceConfiguration.load(path: config)
            (host, port) = try Self.address(listen ?? settings.listen ?? "127.0.0.1:8080")
            tokens = try ServiceServer.Tokens.load(settings.tokens)
            guard tokens.admin != nil || tokens.read != nil else {
                throw ServiceConfigurationError(
                    "\(config): tokens is required (tokens: {admin: FILE, read: FILE}): every call but the probes needs a token"
                )
            }
            if let t = settings.tls {
                tls = try Self.tls(t)
            }
        } catch {
            FileHandle.standardError.write(Data("ballast serve: \(error)\n".utf8))
            throw BallastExit.badInput
        }
        // sqlite:///PATH (one engine) or postgres://… (several engines on one database: the lease picks the leader).
        let store: any ServiceRecordsStore
        do {
            store = try await OperationsStores.open(url: settings.store ?? "sqlite://~/.ballast/serve.sqlite")
        } catch {
            FileHandle.standardError.write(Data("ballast serve: store: \(error)\n".utf8))
            throw error.code == .invalidLocation ? BallastExit.badInput : BallastExit.failed
        }
        let metrics = ServiceMetrics()
        // The runners' metrics (swift-metrics) go to the same registry.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        var logger = Logger(label: "ballast.serve")
        logger.logLevel = .info
        var policy = EnginePolicy()
        policy.scaleCooldown = .seconds(settings.alerts.cooldownSeconds)
        policy.blockingAlertThreshold = settings.alerts.blockingThreshold
        policy.leaseTTL = .seconds(settings.leaseSeconds)
        let engine = ServiceEngine(
            configuration: settings, store: store, engineId: settings.engineId, policy: policy, metrics: metrics,
            logger: logger)
        do {
            try await engine.start()
        } catch {
            FileHandle.standardError.write(
                Data("ballast serve: the store \(store.location) could not be read: \(error)\n".utf8))
            throw BallastExit.failed
        }
        let scheme = tls == nil ? "http" : "https"
        let app = try ServiceServer.application(
            engine: engine, tokens: tokens, metrics: metrics, host: host, port: port, tls: tls, logger: logger,
            onServerRunning: { port in
                print("listening=\(scheme)://\(host):\(port)")
                fflush(nil)
            })
        let lease = Task { await engine.keepLease() }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let result: Result<Void, any Error>
        do { result = .success(try await group.run()) } catch { result = .failure(error) }
        await engine.stop()
        lease.cancel()
        await lease.value
        await store.close()
        if case .failure(let error) = result {
            FileHandle.standardError.write(Data("ballast serve: \(error)\n".utf8))
            throw BallastExit.failed
        }
    }

    static func address(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw ServiceConfigurationError("listen \(text) is not host:port") }
        return (String(text[..<colon]), port)
    }

    static func tls(_ t: ServiceConfiguration.TLS) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(t.certFile) } catch {
            throw ServiceConfigurationError("tls.certFile: \(t.certFile) could not be read as PEM")
        }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: t.keyFile, format: .pem) } catch {
            throw ServiceConfigurationError("tls.keyFile: \(t.keyFile) could not be read as a PEM private key")
        }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }
}
