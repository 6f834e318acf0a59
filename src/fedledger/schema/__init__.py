"""The task's data schema: typed definition, canonical hash, file validation, sanitisation.

Every error it raises derives from `errors.TaskSchemaError` (a ValueError).
"""
