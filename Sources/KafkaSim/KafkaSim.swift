// Placeholder until the KafkaSim work lands.
