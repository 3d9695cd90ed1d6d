// Placeholder until the KafkaAdmin work lands.
