import KafkaWire

/// What consumers read with: Fetch (stored batches below the high watermark, waiting up to `maxWaitMs` for
/// `minBytes`), ListOffsets and OffsetForLeaderEpoch, answered by partition leaders as Kafka 4.1 answers them.
extension KafkaProtocolResponder {
    // MARK: Fetch

    static func fetch(_ sim: KafkaSimulator, node: Int32, _ r: FetchRequest, version v: Int16, _ header: RequestHeader)
        -> KafkaReply
    {
        // Incremental fetch sessions (KIP-227) are not kept: a new session gets id 0, so clients send full
        // requests, as Kafka lets a broker do when its session cache is full; a request in a session is unknown.
        if r.sessionId != 0 && r.sessionEpoch > 0 {
            return encode(
                FetchResponse(errorCode: KafkaErrorCode.fetchSessionIdNotFound.rawValue), version: v, header)
        }
        // Clients wait at most their request timeout (30 s by default); a longer wait is cut to 5 minutes so an
        // abandoned request cannot stay parked for weeks.
        let wait = min(Int64(max(0, r.maxWaitMs)), 300_000)
        let minBytes = Int(max(0, r.minBytes))
        let deadline = sim.withCluster { $0.now } + wait
        let poll: KafkaDeferredReply.Poll = { c in
            let answer = fetchAnswer(&c, node: node, r, version: v)
            guard answer.bytes >= minBytes || answer.hasError || c.now >= deadline else { return nil }
            commit(&c, answer, r, version: v)
            let response = answer.response
            return { encode(response, version: v, header) }
        }
        if let ready = sim.withCluster({ c in poll(&c) }) { return ready() }
        return .deferred(KafkaDeferredReply(simulator: sim, poll: poll))
    }

    struct FetchAnswer {
        var response: FetchResponse
        var bytes = 0
        var hasError = false
        /// Partition index, fetch offset and the offset after the last record returned, per partition answered.
        var reads: [(p: Int32, from: Int64, to: Int64)] = []
        var errors: [KafkaErrorCode] = []
    }

    /// The Fetch answer the cluster gives now. Whole batches only; the first batch with data may exceed the limits
    /// (KIP-74), after it each partition gets at most what is left of `maxBytes`.
    static func fetchAnswer(_ c: inout SimCluster, node: Int32, _ r: FetchRequest, version v: Int16) -> FetchAnswer {
        var answer = FetchAnswer(response: FetchResponse(sessionId: 0))
        var remaining = v >= 3 ? Int(max(0, r.maxBytes)) : Int(Int32.max)
        var minOneBatch = v >= 3
        var leaders: Set<Int32> = []
        for t in r.topics {
            let name: String? =
                v >= 13
                ? c.topics.first { !$0.deleted && KafkaUUID(bytes: $0.id) == t.topicId }?.name
                : t.topic
            var out = FetchResponse.FetchableTopicResponse(topic: v >= 13 ? "" : t.topic, topicId: t.topicId)
            for fp in t.partitions {
                var pd = FetchResponse.PartitionData(
                    partitionIndex: fp.partition, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1,
                    abortedTransactions: nil, records: [])
                let error = fetchError(c, node: node, topic: name, fp, version: v)
                if let error {
                    pd.errorCode = error.rawValue
                    answer.hasError = true
                    if error == .notLeaderOrFollower || error == .fencedLeaderEpoch, v >= 16, let name,
                        let p = c.partitionIndex(topic: name, partition: fp.partition), c.partitions[Int(p)].leader >= 0
                    {
                        // KIP-951: say who leads now, so the client need not ask Metadata.
                        let part = c.partitions[Int(p)]
                        pd.currentLeader = .init(leaderId: part.leader, leaderEpoch: part.leaderEpoch)
                        leaders.insert(part.leader)
                    }
                    answer.errors.append(error)
                } else if let name, let p = c.partitionIndex(topic: name, partition: fp.partition) {
                    let hw = c.highWatermark(p)
                    let read = c.readBatches(
                        p, from: fp.fetchOffset, limit: hw, maxBytes: min(Int(max(0, fp.partitionMaxBytes)), remaining),
                        minOneBatch: minOneBatch)
                    pd.highWatermark = hw
                    pd.lastStableOffset = hw
                    pd.logStartOffset = c.logStartOffset(p)
                    // No transactions: none aborted; Kafka sends an empty list only to read_committed consumers.
                    pd.abortedTransactions = r.isolationLevel == 1 ? [] : nil
                    pd.records = read.records
                    if !read.records.isEmpty {
                        minOneBatch = false
                        remaining = max(0, remaining - read.records.count)
                    }
                    answer.bytes += read.records.count
                    answer.reads.append((p, fp.fetchOffset, read.end))
                    answer.errors.append(.none)
                }
                out.partitions.append(pd)
            }
            answer.response.responses.append(out)
        }
        if v >= 16 {
            answer.response.nodeEndpoints = leaders.sorted().compactMap { id in
                c.node(id).map { .init(nodeId: id, host: host, port: Int32($0.port), rack: $0.rack) }
            }
        }
        return answer
    }

    /// Why a partition cannot be read here: unknown, not led by this broker, a fenced or unknown leader epoch
    /// (Fetch v9+, KIP-320), an offset outside [log start, log end].
    static func fetchError(
        _ c: SimCluster, node: Int32, topic: String?, _ fp: FetchRequest.FetchPartition, version v: Int16
    )
        -> KafkaErrorCode?
    {
        guard let topic else { return v >= 13 ? .unknownTopicId : .unknownTopicOrPartition }
        guard let p = c.partitionIndex(topic: topic, partition: fp.partition) else { return .unknownTopicOrPartition }
        let part = c.partitions[Int(p)]
        guard part.leader == node, c.node(node)?.isServing == true else { return .notLeaderOrFollower }
        if let e = epochError(requested: v >= 9 ? fp.currentLeaderEpoch : -1, current: part.leaderEpoch) { return e }
        guard fp.fetchOffset >= c.logStartOffset(p), fp.fetchOffset <= part.logEndOffset else {
            return .offsetOutOfRange
        }
        return nil
    }

    /// KIP-320 fencing: a client that knows a newer leader epoch than this broker is ahead (UNKNOWN_LEADER_EPOCH),
    /// one with an older epoch is stale (FENCED_LEADER_EPOCH); -1 skips the check.
    static func epochError(requested: Int32, current: Int32) -> KafkaErrorCode? {
        guard requested >= 0 else { return nil }
        if requested < current { return .fencedLeaderEpoch }
        if requested > current { return .unknownLeaderEpoch }
        return nil
    }

    /// The answer is sent: count it by error and note consumption progress.
    static func commit(_ c: inout SimCluster, _ answer: FetchAnswer, _ r: FetchRequest, version v: Int16) {
        for e in answer.errors { c.clientStats.recordFetch(e) }
        for read in answer.reads { c.noteFetched(read.p, from: read.from, to: read.to) }
    }

    // MARK: ListOffsets

    static func listOffsets(_ sim: KafkaSimulator, node: Int32, _ r: ListOffsetsRequest, version v: Int16)
        -> ListOffsetsResponse
    {
        sim.withCluster { c in
            var resp = ListOffsetsResponse()
            for t in r.topics {
                var out = ListOffsetsResponse.ListOffsetsTopicResponse(name: t.name)
                for pt in t.partitions {
                    var pr = ListOffsetsResponse.ListOffsetsPartitionResponse(
                        partitionIndex: pt.partitionIndex, timestamp: -1, offset: -1, leaderEpoch: -1)
                    if let e = leaderError(c, node: node, topic: t.name, partition: pt.partitionIndex) {
                        pr.errorCode = e.rawValue
                    } else if let p = c.partitionIndex(topic: t.name, partition: pt.partitionIndex) {
                        let epoch = v >= 4 ? pt.currentLeaderEpoch : -1
                        if let e = epochError(requested: epoch, current: c.partitions[Int(p)].leaderEpoch) {
                            pr.errorCode = e.rawValue
                        } else {
                            let found = c.listOffset(p, timestamp: pt.timestamp)
                            pr.offset = found.offset
                            pr.timestamp = found.timestamp
                            if v >= 4 { pr.leaderEpoch = found.leaderEpoch }
                        }
                    }
                    out.partitions.append(pr)
                }
                resp.topics.append(out)
            }
            return resp
        }
    }

    /// A partition only its leader answers for.
    static func leaderError(_ c: SimCluster, node: Int32, topic: String, partition: Int32) -> KafkaErrorCode? {
        guard let p = c.partitionIndex(topic: topic, partition: partition) else { return .unknownTopicOrPartition }
        guard c.partitions[Int(p)].leader == node, c.node(node)?.isServing == true else { return .notLeaderOrFollower }
        return nil
    }

    // MARK: OffsetForLeaderEpoch

    static func offsetForLeaderEpoch(_ sim: KafkaSimulator, node: Int32, _ r: OffsetForLeaderEpochRequest)
        -> OffsetForLeaderEpochResponse
    {
        sim.withCluster { c in
            var resp = OffsetForLeaderEpochResponse()
            for t in r.topics {
                var out = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult(topic: t.topic)
                for pt in t.partitions {
                    var pr = OffsetForLeaderEpochResponse.EpochEndOffset(
                        partition: pt.partition, leaderEpoch: -1, endOffset: -1)
                    if let e = leaderError(c, node: node, topic: t.topic, partition: pt.partition) {
                        pr.errorCode = e.rawValue
                    } else if let p = c.partitionIndex(topic: t.topic, partition: pt.partition) {
                        if let e = epochError(
                            requested: pt.currentLeaderEpoch, current: c.partitions[Int(p)].leaderEpoch)
                        {
                            pr.errorCode = e.rawValue
                        } else {
                            let found = c.endOffset(forEpoch: pt.leaderEpoch, p)
                            pr.leaderEpoch = found.epoch
                            pr.endOffset = found.endOffset
                        }
                    }
                    out.partitions.append(pr)
                }
                resp.topics.append(out)
            }
            return resp
        }
    }
}
