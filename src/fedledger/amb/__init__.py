"""AWS Managed Blockchain (AMB): networks, members, peer nodes and AMB's own votes through
boto3's `managedblockchain` API, and fedledger's connection profile from their endpoints.

AMB runs Hyperledger Fabric 2.2 (no Gateway service) with a Fabric CA 1.4.7 per member; it
took its last new customer on 2026-10-29 and ends on 2027-09-29 (docs/aws-managed-blockchain.md).
"""

from fedledger.amb.client import AmbClient
from fedledger.amb.errors import (
    AmbError,
    AmbInputError,
    AmbInvitationError,
    AmbMemberLimitError,
    AmbRequestError,
    AmbWaitError,
)
from fedledger.amb.profile import ProfileRequest, WrittenProfile, write_profile
from fedledger.amb.requests import (
    MemberSpec,
    check_accounts,
    check_admin_password,
    check_edition,
    node_configuration,
    voting_policy,
)
from fedledger.amb.waiting import Waiting, wait_until_available

__all__ = [
    "AmbClient",
    "AmbError",
    "AmbInputError",
    "AmbInvitationError",
    "AmbMemberLimitError",
    "AmbRequestError",
    "AmbWaitError",
    "MemberSpec",
    "ProfileRequest",
    "Waiting",
    "WrittenProfile",
    "check_accounts",
    "check_admin_password",
    "check_edition",
    "node_configuration",
    "voting_policy",
    "wait_until_available",
    "write_profile",
]
