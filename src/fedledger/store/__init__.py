"""Content-addressed model storage: a local directory (default) or S3; every read is verified."""
