/// A Kafka error code is what the simulator fails a request with (`Result<…, KafkaErrorCode>`).
extension KafkaErrorCode: Error {}
