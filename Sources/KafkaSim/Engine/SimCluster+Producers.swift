public import KafkaWire

/// An idempotent producer's state on one partition, as Kafka's `ProducerStateManager` keeps it: its epoch and the
/// sequence ranges and offsets of its last five batches. It belongs to the partition, not to a replica (Kafka
/// replicates it with the log), so a new leader knows the sequences.
struct SimProducerState: Sendable {
    struct Batch: Sendable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
    }
    var epoch: Int16
    var batches: [Batch]
    /// Cluster time of the producer's last write, for `producer.id.expiration.ms`.
    var lastMs: Int64

    /// Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`.
    static let batchesKept = 5
}

enum ProducerCheck: Equatable {
    case accept
    /// A retry of a batch already written: acknowledge it with this base offset.
    case duplicate(firstOffset: Int64)
    case reject(KafkaErrorCode)
}

extension SimPartitionLog {
    /// Kafka's checks of an idempotent batch (`UnifiedLog.analyzeAndValidateProducerState` and
    /// `ProducerAppendInfo`): an older epoch is fenced (INVALID_PRODUCER_EPOCH); a batch matching one of the last
    /// five is a duplicate; a new epoch must start at sequence 0; otherwise the sequence must follow the last one
    /// (OUT_OF_ORDER_SEQUENCE_NUMBER). A producer the partition has no state for may start anywhere.
    func checkProducer(_ h: RecordBatchHeader) -> ProducerCheck {
        guard let state = producers[h.producerId] else { return .accept }
        if h.producerEpoch < state.epoch { return .reject(.invalidProducerEpoch) }
        let lastSequence = Self.lastSequence(h)
        if h.producerEpoch == state.epoch,
            let dup = state.batches.first(where: {
                $0.firstSequence == h.baseSequence && $0.lastSequence == lastSequence
            })
        {
            return .duplicate(firstOffset: dup.firstOffset)
        }
        if h.producerEpoch != state.epoch {
            return h.baseSequence == 0 ? .accept : .reject(.outOfOrderSequenceNumber)
        }
        guard let last = state.batches.last else { return .accept }
        let inSequence = h.baseSequence == last.lastSequence &+ 1 || (h.baseSequence == 0 && last.lastSequence == .max)
        return inSequence ? .accept : .reject(.outOfOrderSequenceNumber)
    }

    mutating func recordProducer(_ h: RecordBatchHeader, firstOffset: Int64, lastOffset: Int64, now: Int64) {
        var state = producers[h.producerId] ?? SimProducerState(epoch: h.producerEpoch, batches: [], lastMs: now)
        if h.producerEpoch != state.epoch {
            state.epoch = h.producerEpoch
            state.batches = []
        }
        state.batches.append(
            .init(
                firstSequence: h.baseSequence, lastSequence: Self.lastSequence(h), firstOffset: firstOffset,
                lastOffset: lastOffset))
        if state.batches.count > SimProducerState.batchesKept { state.batches.removeFirst() }
        state.lastMs = now
        producers[h.producerId] = state
    }

    /// The batch's last sequence, wrapping past Int32.max to 0 as Kafka's `DefaultRecordBatch.incrementSequence`.
    static func lastSequence(_ h: RecordBatchHeader) -> Int32 {
        let delta = h.lastOffsetDelta
        if h.baseSequence > Int32.max - delta { return h.baseSequence - (Int32.max - delta) - 1 }
        return h.baseSequence + delta
    }

    /// Producers with state on this partition.
    public var producerCount: Int { producers.count }
}

extension SimCluster {
    /// InitProducerId for an idempotent producer: Kafka gives a fresh producer id at epoch 0 to every request
    /// without a transactional id (the id and epoch a producer sends, KIP-360, are not reused for it). Transactions
    /// are not modelled: a transactional id is refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, the one error
    /// librdkafka and the Java client treat as fatal at once (they retry any other until their timeout).
    public mutating func initProducerId(transactionalId: String?) -> (
        error: KafkaErrorCode, producerId: Int64, epoch: Int16
    ) {
        guard transactionalId == nil else { return (.transactionalIdAuthorizationFailed, -1, -1) }
        let id = nextProducerId
        nextProducerId += 1
        clientStats.producerIds += 1
        return (.none, id, 0)
    }
}
