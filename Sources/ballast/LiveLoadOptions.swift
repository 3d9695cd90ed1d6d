import ArgumentParser
import Foundation
import Operations
import Planner

/// `--prometheus URL` and its query overrides, shared by `plan --bootstrap` and `rebalance`: per-topic byte rates
/// from a Prometheus scraping the brokers feed the planner's network goals (docs/planner.md, "Live load").
struct LiveLoadOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "With --bootstrap: a Prometheus scraping the brokers (base URL); its per-topic byte rates feed the "
                + "network goals (default: disk only)."))
    var prometheus: String?

    @Option(
        name: .customLong("prometheus-bytes-in-query"),
        help: "PromQL giving bytes in per second by topic (default: docs/planner.md).")
    var prometheusBytesInQuery: String = PrometheusTopicRates.Queries.default.bytesIn

    @Option(
        name: .customLong("prometheus-bytes-out-query"),
        help: "PromQL giving bytes out per second by topic (default: docs/planner.md).")
    var prometheusBytesOutQuery: String = PrometheusTopicRates.Queries.default.bytesOut

    /// Reads the rates into `model` when `--prometheus` is given; a bad URL is bad input, anything else Prometheus
    /// does wrong a failure. Topics Prometheus rates but the cluster lacks are named on stderr.
    func apply(to model: inout ClusterModel, command: String) async throws {
        guard let prometheus else { return }
        let unknown: [String]
        do {
            let reader = try PrometheusTopicRates(
                url: prometheus, queries: .init(bytesIn: prometheusBytesInQuery, bytesOut: prometheusBytesOutQuery))
            unknown = try await reader.apply(to: &model)
        } catch {
            throw error.code == .badURL
                ? PlanCommandError.badInput("--prometheus: \(error.message)")
                : PlanCommandError.infeasible(error.message)
        }
        if !unknown.isEmpty {
            FileHandle.standardError.write(
                Data(
                    ("ballast \(command): Prometheus has rates for \(unknown.count) topics this cluster does not have "
                        + "(first: \(unknown.prefix(3).joined(separator: ", "))); is it scraping another cluster?\n")
                        .utf8))
        }
    }
}
