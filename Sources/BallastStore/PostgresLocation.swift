import Foundation
import NIOSSL
import PostgresNIO

/// A PostgreSQL store's URL, read into a connection configuration:
///
///     postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…&passwordFile=…&host=…&poolSize=…]
///
/// (`postgresql://` too). The password comes from the URL, else from `passwordFile=` (the file's first line), else
/// from the `PGPASSWORD` environment variable, else there is none (trust or peer authentication). `host=` with an
/// absolute directory connects through the Unix socket in it (`DIR/.s.PGSQL.PORT`), as libpq does. `sslmode=` is
/// libpq's: `disable`, `prefer` (the default), `require` (TLS, certificate not checked), `verify-ca` (chain
/// checked), `verify-full` (chain and host name checked); `sslrootcert=` names the CA file to check against (else the
/// system's roots). `poolSize=` caps the connections the store opens (default 10).
///
/// `location` is the URL without password or parameters: what messages name.
struct PostgresLocation {
    var location: String
    var configuration: PostgresClient.Configuration
    /// The same target for one connection of its own (`probe()`).
    var connectionConfiguration: () throws -> PostgresConnection.Configuration

    init(url: String, environment: [String: String]) throws(StoreError) {
        func bad(_ why: String) -> StoreError {
            StoreError(.invalidLocation, "the store URL \(Self.redacted(url)) is not valid: \(why)")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme.lowercased())
        else {
            throw bad("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        var parameters: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard
                ["sslmode", "sslrootcert", "passwordFile", "host", "poolSize"].contains(item.name),
                let value = item.value, !value.isEmpty
            else {
                throw bad(
                    "unknown or empty parameter '\(item.name)' (known: sslmode, sslrootcert, passwordFile, host, "
                        + "poolSize)")
            }
            parameters[item.name] = value
        }
        guard let user = components.user, !user.isEmpty else { throw bad("it names no user") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw bad("it names no database (…/DATABASE)") }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw bad("port \(port) is out of range") }

        var password = components.password
        if password == nil, let file = parameters["passwordFile"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw bad("the passwordFile \(file) cannot be read")
            }
            password = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        if password == nil { password = environment["PGPASSWORD"] }

        let tls: PostgresClient.Configuration.TLS
        var tlsForProbe: (config: TLSConfiguration, required: Bool)?
        switch parameters["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case let mode:
            var config = TLSConfiguration.makeClientConfiguration()
            if let root = parameters["sslrootcert"] {
                guard FileManager.default.isReadableFile(atPath: root) else {
                    throw bad("the sslrootcert \(root) cannot be read")
                }
                config.trustRoots = .file(root)
            }
            switch mode {
            case "prefer":
                config.certificateVerification = .none
                tls = .prefer(config)
            case "require":
                config.certificateVerification = .none
                tls = .require(config)
            case "verify-ca":
                config.certificateVerification = .noHostnameVerification
                tls = .require(config)
            case "verify-full":
                config.certificateVerification = .fullVerification
                tls = .require(config)
            default:
                throw bad("sslmode '\(mode)' is not one of disable, prefer, require, verify-ca, verify-full")
            }
            tlsForProbe = (config, mode != "prefer")
        }

        var poolSize = 10
        if let text = parameters["poolSize"] {
            guard let n = Int(text), n >= 1 else { throw bad("poolSize '\(text)' is not a positive number") }
            poolSize = n
        }

        let host = components.host ?? ""
        if let socketDirectory = parameters["host"] {
            guard socketDirectory.hasPrefix("/") else { throw bad("host= must be an absolute socket directory") }
            configuration = PostgresClient.Configuration(
                unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password,
                database: database)
            location = "\(scheme)://\(user)@\(host)/\(database)?host=\(socketDirectory)"
            connectionConfiguration = {
                PostgresConnection.Configuration(
                    unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password,
                    database: database)
            }
        } else {
            guard !host.isEmpty else { throw bad("it names no host") }
            configuration = PostgresClient.Configuration(
                host: host, port: port, username: user, password: password, database: database, tls: tls)
            location = "\(scheme)://\(user)@\(host):\(port)/\(database)"
            connectionConfiguration = {
                let probeTLS: PostgresConnection.Configuration.TLS =
                    switch tlsForProbe {
                    case nil: .disable
                    case let (config, required)?:
                        required
                            ? .require(try NIOSSLContext(configuration: config))
                            : .prefer(try NIOSSLContext(configuration: config))
                    }
                return PostgresConnection.Configuration(
                    host: host, port: port, username: user, password: password, database: database, tls: probeTLS)
            }
        }
        configuration.options.maximumConnections = poolSize
        // A loaded host (or a server forking a backend per connection under load) can take more than the default
        // 10 s to answer; a store that is really gone is still reported within half a minute.
        configuration.options.connectTimeout = Self.connectTimeout
    }

    static let connectTimeout: Duration = .seconds(30)

    /// The URL with its password (if any) replaced, for messages about a URL that could not be read.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "(a URL with a password)"
    }

    /// What went wrong, in words, without the password (postgres-nio's own descriptions say nothing, on purpose;
    /// its debug descriptions may hold queries and their values).
    static func describe(_ error: any Error, hiding password: String?) -> String {
        var text: String
        switch error {
        case let e as PSQLError:
            if let info = e.serverInfo {
                text = [info[.sqlState], info[.message], info[.detail]].compactMap { $0 }.joined(separator: ": ")
            } else if let underlying = e.underlying {
                text = "\(e.code): \(describe(underlying, hiding: nil))"
            } else {
                text = "\(e.code)"
            }
        case let e as PostgresDecodingError:
            text = "a value of column \(e.columnName) could not be read (\(e.code))"
        case _ where isPoolError(error):
            text =
                "\(error)".contains("CircuitBreaker")
                ? "no connection to the database could be made (the pool gave up trying)"
                : "the connection pool: \(error)"
        default:
            text = "\(error)"
        }
        if let password, !password.isEmpty { text = text.replacingOccurrences(of: password, with: "***") }
        return text
    }

    /// Whether the error says the database could not be reached (rather than refusing one statement).
    static func isUnreachable(_ error: any Error) -> Bool {
        switch error {
        case let e as PSQLError:
            [
                .connectionError, .serverClosedConnection, .clientClosedConnection, .sslUnsupported, .saslError,
                .authMechanismRequiresPassword, .unsupportedAuthMechanism, .poolClosed,
            ].contains(e.code)
                || e.serverInfo?[.sqlState].map { $0.hasPrefix("08") || $0.hasPrefix("28") || $0 == "3D000" } == true
        default: isPoolError(error)
        }
    }

    /// postgres-nio's pool errors (`ConnectionPoolError`: it gave up connecting, it is shut down, a request was
    /// cancelled) live in its underscored `_ConnectionPoolModule`, which Ballast does not import: known by name.
    static func isPoolError(_ error: any Error) -> Bool {
        String(reflecting: type(of: error)).hasSuffix(".ConnectionPoolError")
    }
}
