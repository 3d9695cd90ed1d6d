// Placeholder until the KafkaWire work lands.
