"""The task's data schema: typed definition, canonical hash, file validation, sanitisation."""
