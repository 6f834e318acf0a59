"""The generated validator.proto modules, regenerated first if missing or stale (codegen.py)."""

from collections.abc import Callable
from typing import Any

import grpc

from fedledger.validator.codegen import ensure_generated

ensure_generated()

from fedledger.validator._generated import validator_pb2, validator_pb2_grpc  # noqa: E402

SERVICE_NAME = validator_pb2.DESCRIPTOR.services_by_name["Validator"].full_name

# The gRPC plugin writes untyped code; these are its two entry points, typed.
add_validator_servicer: Callable[[Any, grpc.Server], None] = (
    validator_pb2_grpc.add_ValidatorServicer_to_server
)
ValidatorStub: Callable[[grpc.Channel], Any] = validator_pb2_grpc.ValidatorStub

__all__ = [
    "SERVICE_NAME",
    "ValidatorStub",
    "add_validator_servicer",
    "validator_pb2",
    "validator_pb2_grpc",
]
