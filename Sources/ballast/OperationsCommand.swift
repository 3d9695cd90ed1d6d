import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ServiceContract

/// `ballast operations`: the operations of a `ballast serve` engine, as its client.
struct OperationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operations",
        abstract: "List, show, pause, resume or cancel the operations of a ballast serve engine.",
        discussion: """
            ballast operations --server URL [list] [--cluster C] [--state S]; show ID; pause ID; resume ID; \
            cancel ID. The token comes from --token-file or BALLAST_TOKEN (a read token lists and shows; pause, \
            resume and cancel need an admin token). Exit codes: 0 done; 1 the server refused or failed; 2 bad \
            usage or an unknown operation.
            """)

    @Argument(help: "list (default), show ID, pause ID, resume ID or cancel ID.") var words: [String] = []
    @Option(help: "The ballast serve engine's base URL, e.g. http://127.0.0.1:8080.") var server: String
    @Option(help: "A file holding the bearer token (default: the BALLAST_TOKEN environment variable).")
    var tokenFile: String?
    @Option(help: "list: only this cluster's operations.") var cluster: String?
    @Option(help: "list: only operations in this state.") var state: String?
    @Flag(help: "Print the server's JSON.") var json = false

    func run() async throws {
        let verb = words.first ?? "list"
        let token: String
        do { token = try ServiceClient.token(file: tokenFile) } catch {
            fail("\(error)")
            throw BallastExit.badInput
        }
        let client = ServiceClient(server: server, token: token)
        let (status, data): (Int, Data)
        switch (verb, words.count) {
        case ("list", 1), ("list", 0):
            var query: [String] = []
            if let cluster {
                query.append(
                    "cluster=\(cluster.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cluster)")
            }
            if let state { query.append("state=\(state)") }
            (status, data) = try await client.call(
                .GET, "/v1/operations" + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
        case ("show", 2):
            (status, data) = try await client.call(.GET, "/v1/operations/\(words[1])")
        case ("pause", 2), ("resume", 2), ("cancel", 2):
            (status, data) = try await client.call(.POST, "/v1/operations/\(words[1])/\(verb)")
        default:
            fail("give list, show ID, pause ID, resume ID or cancel ID (not \(words.joined(separator: " ")))")
            throw BallastExit.badInput
        }
        guard (200..<300).contains(status) else {
            let message =
                (try? ServiceJSON.decoder().decode(ServiceErrorBody.self, from: data))?.error ?? "HTTP \(status)"
            fail(message)
            throw status == 404 || status == 400 ? BallastExit.badInput : BallastExit.failed
        }
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let decoder = ServiceJSON.decoder()
        if verb == "list" {
            let list = try decoder.decode(OperationList.self, from: data).operations
            if list.isEmpty { print("no operations") }
            for o in list { print(Self.line(o)) }
        } else if verb == "show" {
            let detail = try decoder.decode(OperationDetail.self, from: data)
            print(Self.line(detail.summary))
            if let e = detail.summary.error { print("error: \(e)") }
            for e in detail.events { print("  \(ServiceJSON.string(e.at)) \(e.level.rawValue): \(e.message)") }
        } else {
            print(Self.line(try decoder.decode(OperationSummary.self, from: data)))
        }
    }

    static func line(_ o: OperationSummary) -> String {
        "\(o.id)  \(o.cluster)  \(o.kind.rawValue)  \(o.state.rawValue)  \(o.progress.done)/\(o.progress.total)"
            + (o.progress.unit.map { " \($0)" } ?? "") + (o.progress.message.map { "  \($0)" } ?? "")
    }

    func fail(_ message: String) {
        FileHandle.standardError.write(Data("ballast operations: \(message)\n".utf8))
    }
}

/// A small client of the service API (`ballast operations`, `ballast rebalance --server`).
struct ServiceClient {
    let server: String
    let token: String

    init(server: String, token: String) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.token = token
    }

    static func token(file: String?) throws -> String {
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ServiceClientError("the token file \(file) could not be read")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let env = ProcessInfo.processInfo.environment["BALLAST_TOKEN"], !env.isEmpty else {
            throw ServiceClientError("give --token-file or set BALLAST_TOKEN")
        }
        return env
    }

    func call(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(120))
            let bytes = try await response.body.collect(upTo: 64 << 20)
            return (Int(response.status.code), Data(bytes.readableBytesView))
        } catch {
            FileHandle.standardError.write(Data("ballast: the server at \(server) is unreachable: \(error)\n".utf8))
            throw BallastExit.failed
        }
    }
}

struct ServiceClientError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
