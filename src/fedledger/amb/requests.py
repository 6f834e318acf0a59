"""The bodies of AMB's create calls, checked here before AWS sees them.

AMB refuses a bad admin password only after the network's creation has been accepted for
review, with a generic message; the rules are checked here first so that the option is named.
Log publishing is always sent, enabled or not: AMB accepts it on every create call, and moto's
model of the API requires it for nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fedledger.amb.errors import AmbInputError

EDITIONS = ("STARTER", "STANDARD")
COMPARATORS = ("GREATER_THAN", "GREATER_THAN_OR_EQUAL_TO")
STATE_DBS = ("CouchDB", "LevelDB")
_FORBIDDEN_IN_PASSWORD = set("'\"\\/@ ")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class MemberSpec:
    """A member as AMB creates it: its name, and the first identity of its Fabric CA."""

    name: str
    admin_username: str
    admin_password: str
    description: str = ""
    ca_logs: bool = False

    def configuration(self) -> dict[str, Any]:
        """AMB's MemberConfiguration; raises AmbInputError naming the option that breaks
        AMB's rules."""
        check_admin_password(self.admin_password)
        if not self.name:
            raise AmbInputError("--member-name must not be empty")
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,15}", self.admin_username):
            raise AmbInputError(
                f"--admin-username {self.admin_username!r} must start with a letter and hold "
                "1 to 16 letters and digits (AMB's rule)"
            )
        configuration: dict[str, Any] = {
            "Name": self.name,
            "FrameworkConfiguration": {
                "Fabric": {
                    "AdminUsername": self.admin_username,
                    "AdminPassword": self.admin_password,
                }
            },
            "LogPublishingConfiguration": {
                "Fabric": {"CaLogs": {"Cloudwatch": {"Enabled": self.ca_logs}}}
            },
        }
        if self.description:
            configuration["Description"] = self.description
        return configuration


def check_admin_password(password: str) -> None:
    """Raise AmbInputError naming AMB's rule the password breaks (never the password)."""
    rules = [
        (8 <= len(password) <= 32, "be 8 to 32 characters long"),
        (any(c.isdigit() for c in password), "contain a digit"),
        (any(c.isupper() for c in password), "contain an upper-case letter"),
        (any(c.islower() for c in password), "contain a lower-case letter"),
        (not _FORBIDDEN_IN_PASSWORD & set(password), "contain none of ' \" \\ / @ or a space"),
    ]
    broken = [rule for ok, rule in rules if not ok]
    if broken:
        raise AmbInputError(
            "the admin password (--admin-password or $FEDLEDGER_AMB_ADMIN_PASSWORD) must "
            + ", ".join(broken)
            + " (AMB's rules for a member's first Fabric CA identity)"
        )


def voting_policy(threshold: int, hours: int, comparator: str) -> dict[str, Any]:
    """AMB's VotingPolicy; raises AmbInputError naming the option out of AMB's range."""
    if not 0 <= threshold <= 100:
        raise AmbInputError(f"--threshold must be a percentage from 0 to 100, got {threshold}")
    if not 1 <= hours <= 168:
        raise AmbInputError(f"--proposal-hours must be 1 to 168 (a week), got {hours}")
    if comparator not in COMPARATORS:
        raise AmbInputError(
            f"--comparator must be one of {', '.join(COMPARATORS)}, got {comparator!r}"
        )
    return {
        "ApprovalThresholdPolicy": {
            "ThresholdPercentage": threshold,
            "ProposalDurationInHours": hours,
            "ThresholdComparator": comparator,
        }
    }


def check_edition(edition: str) -> str:
    """The edition in AMB's spelling; raises AmbInputError for any other."""
    if edition.upper() not in EDITIONS:
        raise AmbInputError(f"--edition must be one of {', '.join(EDITIONS)}, got {edition!r}")
    return edition.upper()


def node_configuration(
    instance_type: str, availability_zone: str, state_db: str, logs: bool
) -> dict[str, Any]:
    """AMB's NodeConfiguration; raises AmbInputError for an unknown state database."""
    if state_db not in STATE_DBS:
        raise AmbInputError(f"--state-db must be one of {', '.join(STATE_DBS)}, got {state_db!r}")
    enabled = {"Cloudwatch": {"Enabled": logs}}
    return {
        "InstanceType": instance_type,
        "AvailabilityZone": availability_zone,
        "StateDB": state_db,
        "LogPublishingConfiguration": {
            "Fabric": {"ChaincodeLogs": dict(enabled), "PeerLogs": dict(enabled)}
        },
    }


def check_accounts(accounts: list[str]) -> list[str]:
    """The AWS account IDs to invite; raises AmbInputError for one that is not 12 digits."""
    if not accounts:
        raise AmbInputError("name at least one AWS account to invite with --account")
    for account in accounts:
        if not _ACCOUNT_ID.fullmatch(account):
            raise AmbInputError(
                f"--account {account!r} is not an AWS account ID (12 digits, e.g. 123456789012)"
            )
    return accounts
