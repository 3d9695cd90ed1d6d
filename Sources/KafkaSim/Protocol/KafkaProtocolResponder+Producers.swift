import KafkaWire

/// Produce (record batches stored, idempotent producers' sequences checked) and InitProducerId.
extension KafkaProtocolResponder {
    // MARK: Produce

    static func produce(_ sim: KafkaSimulator, node: Int32, _ r: ProduceRequest, version v: Int16) -> ProduceResponse {
        // Parse batches outside the lock: it is the costly part (a CRC-32C over every byte).
        let parsed: [[(Int32, Result<[SimProduceBatch], KafkaErrorCode>)]] = r.topicData.map { t in
            t.partitionData.map { p in (p.index, parseBatches(p.records ?? [])) }
        }
        var appended = false
        let resp = sim.withCluster { c in
            var resp = ProduceResponse()
            var leaders: Set<Int32> = []
            for (t, parts) in zip(r.topicData, parsed) {
                var out: [ProduceResponse.PartitionProduceResponse] = []
                for (index, parse) in parts {
                    var pr = ProduceResponse.PartitionProduceResponse(index: index, baseOffset: -1)
                    let outcome: ProduceOutcome
                    switch parse {
                    case .failure(let e):
                        c.stats.record(e)
                        outcome = .error(e)
                    case .success(let batches):
                        outcome = c.produce(
                            broker: node, topic: t.name, partition: index, acks: r.acks, batches: batches)
                    }
                    switch outcome {
                    case .appended(let base):
                        pr.baseOffset = base
                        if let p = c.partitionIndex(topic: t.name, partition: index) {
                            pr.logStartOffset = c.logStartOffset(p)
                        }
                        appended = true
                    case .error(let e):
                        pr.errorCode = e.rawValue
                        // KIP-951 (Produce v10+): name the current leader so the client need not ask Metadata.
                        if e == .notLeaderOrFollower, v >= 10,
                            let p = c.partitionIndex(topic: t.name, partition: index),
                            c.partitions[Int(p)].leader >= 0
                        {
                            let part = c.partitions[Int(p)]
                            pr.currentLeader = .init(leaderId: part.leader, leaderEpoch: part.leaderEpoch)
                            leaders.insert(part.leader)
                        }
                    }
                    out.append(pr)
                }
                resp.responses.append(.init(name: t.name, partitionResponses: out))
            }
            if v >= 10 {
                resp.nodeEndpoints = leaders.sorted().compactMap { id in
                    c.node(id).map { .init(nodeId: id, host: host, port: Int32($0.port), rack: $0.rack) }
                }
            }
            return resp
        }
        // Consumers waiting in a Fetch may have data now.
        if appended { sim.wakeWaiters() }
        return resp
    }

    /// The record batches of a partition's `records`: magic 2 batches (CRC checked), or an old magic 0/1 message
    /// set, converted to one magic 2 batch as Kafka 4 writes only the current format.
    static func parseBatches(_ records: [UInt8]) -> Result<[SimProduceBatch], KafkaErrorCode> {
        do {
            let headers = try RecordBatchHeader.parse(records)
            var out: [SimProduceBatch] = []
            var start = 0
            for h in headers {
                let end = start + RecordBatchHeader.logOverhead + Int(h.batchLength)
                out.append(SimProduceBatch(header: h, bytes: Array(records[start..<end])))
                start = end
            }
            return .success(out)
        } catch {
            guard let converted = upConvertLegacy(records), let h = try? RecordBatchHeader.parse(converted).first else {
                return .failure(.corruptMessage)
            }
            return .success([SimProduceBatch(header: h, bytes: converted)])
        }
    }

    /// A magic 0/1 message set (offset, size, crc, magic, attributes, [timestamp,] key, value per message) as one
    /// uncompressed magic 2 batch; nil when it is not one, or when it is compressed (not modelled).
    static func upConvertLegacy(_ records: [UInt8]) -> [UInt8]? {
        var reader = WireReader(records)
        var out: [RecordBatchHeader.Record] = []
        var timestamp: Int64 = -1
        while !reader.isAtEnd {
            guard (try? reader.readInt64()) != nil, let size = try? reader.readInt32(), size >= 14,
                Int(size) <= reader.remaining
            else { return nil }
            let end = reader.offset + Int(size)
            guard (try? reader.readUInt32()) != nil, let magic = try? reader.readInt8(), magic == 0 || magic == 1,
                let attributes = try? reader.readInt8(), attributes & 0x07 == 0
            else { return nil }
            if magic == 1 {
                guard let ts = try? reader.readInt64() else { return nil }
                if out.isEmpty { timestamp = ts }
            }
            guard let key = try? reader.readNullableBytes(compact: false),
                let value = try? reader.readNullableBytes(compact: false), reader.offset == end
            else { return nil }
            out.append(.init(key: key, value: value))
        }
        return out.isEmpty ? nil : RecordBatchHeader.build(records: out, timestamp: timestamp)
    }

    // MARK: InitProducerId

    static func initProducerId(_ sim: KafkaSimulator, _ r: InitProducerIdRequest) -> InitProducerIdResponse {
        sim.withCluster { c in
            let (error, id, epoch) = c.initProducerId(transactionalId: r.transactionalId)
            return InitProducerIdResponse(errorCode: error.rawValue, producerId: id, producerEpoch: epoch)
        }
    }
}
