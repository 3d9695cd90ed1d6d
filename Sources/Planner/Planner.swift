// Placeholder until the Planner work lands.
