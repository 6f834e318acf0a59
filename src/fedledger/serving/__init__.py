"""Serving a task's champion over HTTP (docs/serving.md): `fedledger serve`, and the same app
as an AWS Lambda behind API Gateway (aws/serving_handler.py)."""
