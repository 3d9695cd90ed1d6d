// Placeholder until the Agent work lands.
