import ArgumentParser
import KafkaWire

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `ballast bench wire`: decodes a large Metadata v12 response, the heaviest frame an admin client reads.
struct WireBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire",
        abstract: "Time decoding a Metadata v12 response (topics x partitions, RF 3).")

    @Option(help: "Topics in the response.") var topics = 1000
    @Option(help: "Partitions per topic.") var partitions = 100
    @Option(help: "Brokers in the cluster.") var brokers = 6
    @Option(help: "Timed decodes.") var iterations = 10

    func validate() throws {
        guard topics > 0, partitions > 0, brokers >= 3, iterations > 0 else {
            throw ValidationError("topics, partitions and iterations must be positive, brokers at least 3")
        }
    }

    func run() throws {
        let version: Int16 = 12
        let response = Self.metadata(topics: topics, partitions: partitions, brokers: brokers)
        let frame = try KafkaFrame.response(response, version: version, correlationId: 1)
        let body = Array(frame.dropFirst(4))
        let clock = ContinuousClock()
        var times: [Double] = []
        var cpuTimes: [Double] = []
        var decodedPartitions = 0
        for _ in 0..<iterations {
            let cpuStart = Self.threadCPUMilliseconds()
            let elapsed = try clock.measure {
                let (_, decoded) = try KafkaFrame.decodeResponse(MetadataResponse.self, version: version, body: body)
                decodedPartitions = decoded.topics.reduce(0) { $0 + $1.partitions.count }
            }
            cpuTimes.append(Self.threadCPUMilliseconds() - cpuStart)
            times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
        }
        guard decodedPartitions == topics * partitions else {
            throw ValidationError("decoded \(decodedPartitions) partitions, expected \(topics * partitions)")
        }
        times.sort()
        cpuTimes.sort()
        let median = times[times.count / 2]
        print("MetadataResponse v\(version): \(topics) topics x \(partitions) partitions, RF 3, \(brokers) brokers")
        print("bytes: \(frame.count)")
        print(
            "decode median: \(format(median)) ms (min \(format(times[0])), max \(format(times[times.count - 1])), n=\(iterations))"
        )
        // On a loaded machine wall time includes waiting for a core; CPU time is the decoder's own cost.
        print("decode median CPU: \(format(cpuTimes[cpuTimes.count / 2])) ms")
        print("peak RSS: \(Self.peakRSSMegabytes()) MB")
    }

    private func format(_ ms: Double) -> String {
        let hundredths = Int((ms * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    static func metadata(topics: Int, partitions: Int, brokers: Int) -> MetadataResponse {
        var response = MetadataResponse(
            brokers: (1...brokers).map {
                .init(nodeId: Int32($0), host: "broker-\($0).example.internal", port: 9092, rack: "rack-\($0 % 3)")
            },
            clusterId: "bench-cluster",
            controllerId: 1)
        response.topics.reserveCapacity(topics)
        for t in 0..<topics {
            var topic = MetadataResponse.MetadataResponseTopic(
                errorCode: 0, name: "topic-\(t)", topicId: KafkaUUID(high: UInt64(t) + 1, low: 0x5eed),
                topicAuthorizedOperations: -2_147_483_648)
            topic.partitions.reserveCapacity(partitions)
            for p in 0..<partitions {
                let replicas = (0..<3).map { Int32((t + p + $0) % brokers + 1) }
                topic.partitions.append(
                    .init(
                        errorCode: 0, partitionIndex: Int32(p), leaderId: replicas[0], leaderEpoch: 7,
                        replicaNodes: replicas, isrNodes: replicas, offlineReplicas: []))
            }
            response.topics.append(topic)
        }
        return response
    }

    /// CPU time consumed by the calling thread.
    static func threadCPUMilliseconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) * 1e3 + Double(ts.tv_nsec) / 1e6
    }

    /// Peak resident set size of this process (getrusage reports kilobytes on Linux, bytes on macOS).
    static func peakRSSMegabytes() -> Int {
        var usage = rusage()
        #if os(Linux)
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return Int(usage.ru_maxrss) / 1024
        #else
            getrusage(RUSAGE_SELF, &usage)
            return Int(usage.ru_maxrss) / (1024 * 1024)
        #endif
    }
}
