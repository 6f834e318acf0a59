"""Uploads become proposals: model objects in S3 or a folder, each proposed exactly once."""
