"""A Fabric CA client: enrol and register identities over Fabric CA's REST protocol, and
write what the CA issues as MSP folders (docs/identities.md)."""

from fedledger.ca.client import CaInfo, Enrollment, FabricCaClient, Registration, Revocation
from fedledger.ca.enrol import EnrolledFolder, enroll_into, reenroll_into
from fedledger.ca.errors import (
    CaAuthenticationError,
    CaError,
    CaInputError,
    CaRefusedError,
    CaResponseError,
    CaTlsError,
    CaUnreachableError,
)

__all__ = [
    "CaAuthenticationError",
    "CaError",
    "CaInfo",
    "CaInputError",
    "CaRefusedError",
    "CaResponseError",
    "CaTlsError",
    "CaUnreachableError",
    "EnrolledFolder",
    "Enrollment",
    "FabricCaClient",
    "Registration",
    "Revocation",
    "enroll_into",
    "reenroll_into",
]
