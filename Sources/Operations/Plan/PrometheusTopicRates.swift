public import AsyncHTTPClient
import Foundation
import NIOCore
public import Planner

/// Reads each topic's bytes-in and bytes-out rates from a Prometheus that scrapes the brokers, through its HTTP
/// API (`GET /api/v1/query`), for the planner's network goals (`ClusterModel.applyTopicRates`).
///
/// The default queries use the names the Prometheus JMX exporter gives Kafka's `BrokerTopicMetrics` meters with
/// the usual Kafka rules: `kafka_server_brokertopicmetrics_bytesin_total{topic="…"}` and `…_bytesout_total`, one
/// series per broker and topic, counted on the partition leaders. Each query must return an instant vector
/// with a `topic` label and bytes per second as the value.
public struct PrometheusTopicRates: Sendable {
    public struct Queries: Sendable, Hashable {
        public var bytesIn: String
        public var bytesOut: String

        public static let `default` = Queries(
            bytesIn: #"sum by (topic) (rate(kafka_server_brokertopicmetrics_bytesin_total{topic!=""}[5m]))"#,
            bytesOut: #"sum by (topic) (rate(kafka_server_brokertopicmetrics_bytesout_total{topic!=""}[5m]))"#)

        public init(bytesIn: String, bytesOut: String) {
            self.bytesIn = bytesIn
            self.bytesOut = bytesOut
        }
    }

    /// Base URL, e.g. `http://prometheus.monitoring:9090`.
    public let url: String
    public let queries: Queries
    let client: HTTPClient
    let timeout: TimeAmount

    /// - Throws: `PrometheusError` (`.badURL`) when `url` is not an http(s) URL.
    public init(
        url: String, queries: Queries = .default, client: HTTPClient = .shared, timeoutSeconds: Int64 = 10
    ) throws(PrometheusError) {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard let parsed = URL(string: trimmed), let scheme = parsed.scheme, scheme == "http" || scheme == "https",
            parsed.host != nil
        else {
            throw PrometheusError(.badURL, "\(url) is not an http:// or https:// URL")
        }
        self.url = trimmed
        self.queries = queries
        self.client = client
        timeout = .seconds(timeoutSeconds)
    }

    /// Every topic's rates; a topic present in only one query gets 0 for the other.
    public func read() async throws(PrometheusError) -> [String: TopicRates] {
        let bytesIn = try await query(queries.bytesIn)
        let bytesOut = try await query(queries.bytesOut)
        var rates: [String: TopicRates] = [:]
        for (topic, v) in bytesIn {
            rates[topic, default: TopicRates(bytesInPerSecond: 0, bytesOutPerSecond: 0)].bytesInPerSecond = v
        }
        for (topic, v) in bytesOut {
            rates[topic, default: TopicRates(bytesInPerSecond: 0, bytesOutPerSecond: 0)].bytesOutPerSecond = v
        }
        return rates
    }

    /// Reads every topic's rates into `model`'s network loads (`ClusterModel.applyTopicRates`); returns the topics
    /// Prometheus rates but the model does not have (a Prometheus watching another cluster, when many).
    public func apply(to model: inout ClusterModel) async throws(PrometheusError) -> [String] {
        model.applyTopicRates(try await read())
    }

    /// Runs one instant query; returns the value of each series by its `topic` label.
    public func query(_ promql: String) async throws(PrometheusError) -> [String: Double] {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&+=?#")
        let encoded = promql.addingPercentEncoding(withAllowedCharacters: allowed) ?? promql
        let request = HTTPClientRequest(url: "\(url)/api/v1/query?query=\(encoded)")
        let status: Int
        let data: Data
        do {
            let response = try await client.execute(request, timeout: timeout)
            status = Int(response.status.code)
            data = Data(try await response.body.collect(upTo: 64 << 20).readableBytesView)
        } catch {
            throw PrometheusError(.unreachable, "Prometheus at \(url) is unreachable: \(error)")
        }
        let body = try? JSONDecoder().decode(QueryResponse.self, from: data)
        guard status == 200, let body, body.status == "success", let result = body.data else {
            let why = body?.error ?? "HTTP \(status)"
            throw PrometheusError(.queryFailed, "Prometheus at \(url) refused the query \(promql): \(why)")
        }
        guard result.resultType == "vector" else {
            throw PrometheusError(
                .unusableAnswer, "the query \(promql) returned a \(result.resultType), expected an instant vector")
        }
        var out: [String: Double] = [:]
        for series in result.result {
            guard let topic = series.metric["topic"] else {
                throw PrometheusError(
                    .unusableAnswer, "the query \(promql) returned a series without a topic label: \(series.metric)")
            }
            guard let value = Double(series.value.text), value.isFinite, value >= 0 else {
                throw PrometheusError(
                    .unusableAnswer, "the query \(promql) returned \(series.value.text) for topic \(topic)")
            }
            out[topic, default: 0] += value
        }
        return out
    }

    struct QueryResponse: Decodable {
        var status: String
        var data: QueryData?
        var error: String?
    }
    struct QueryData: Decodable {
        var resultType: String
        var result: [Series]
    }
    struct Series: Decodable {
        var metric: [String: String]
        var value: SampleValue
    }
    /// `[timestamp, "value"]`.
    struct SampleValue: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            var c = try decoder.unkeyedContainer()
            _ = try c.decode(Double.self)
            text = try c.decode(String.self)
        }
    }
}

/// Why topic rates could not be read: a bad URL (bad input), Prometheus unreachable, a query it refused, or an
/// answer the planner cannot use.
public struct PrometheusError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable { case badURL, unreachable, queryFailed, unusableAnswer }
    public var code: Code
    public var message: String
    public var description: String { message }

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
