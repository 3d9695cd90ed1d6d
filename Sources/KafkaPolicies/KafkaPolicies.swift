// Placeholder until Scripts/generate-policies.py writes the config modes here.
