// Placeholder until the Roller work lands.
