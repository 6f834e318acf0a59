"""One organisation's part of Fabric's chaincode lifecycle, idempotent.

The definition's version is the package label (name, chaincode version and a digest of the
build), so every organisation can tell from the ledger alone whether the committed definition
is the build it holds:

- the committed definition has this build's label: install and approve it at its sequence if
  this organisation has not (joining a running deployment), otherwise nothing changes;
- it has another label, or none is committed: approve this build at the next sequence.

Committing needs approvals that satisfy the channel's LifecycleEndorsement policy. fedledger
assumes Fabric's default, a majority of the channel's organisations, and refuses to try with
fewer, naming the organisations whose approval is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog

from fedledger.deploy.admin import Endpoint, PeerAdmin
from fedledger.deploy.errors import DeployError, NotReadyToCommitError
from fedledger.network.packaging import ChaincodePackage

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Definition:
    """What every organisation approves: the channel, the chaincode's name, version and
    sequence."""

    channel: str
    name: str
    version: str
    sequence: int

    def args(self) -> list[str]:
        return [
            "--channelID", self.channel, "--name", self.name,
            "--version", self.version, "--sequence", str(self.sequence),
        ]  # fmt: skip


@dataclass
class Outcome:
    """What `deploy_for_org` found and did, for the report a user reads."""

    msp_id: str
    package_id: str
    definition: Definition
    installed_now: bool = False
    approved_now: bool = False
    committed_now: bool = False
    committed: bool = False
    approvals: dict[str, bool] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.installed_now or self.approved_now or self.committed_now

    @property
    def missing(self) -> list[str]:
        return sorted(msp for msp, approved in self.approvals.items() if not approved)


def _json(text: str, step: str) -> Any:
    try:
        return json.loads(text or "{}")
    except ValueError as error:
        raise DeployError(f"{step}: the peer's answer is not JSON: {text[:200]!r}") from error


def installed_package_ids(admin: PeerAdmin) -> set[str]:
    """The packages installed on the admin's peer; raises PeerCommandError when it cannot say."""
    step = f"listing the packages installed on {admin.peer.address}"
    result = admin.run(step, "lifecycle", "chaincode", "queryinstalled", "--output", "json")
    installed = _json(result.stdout, step).get("installed_chaincodes") or []
    return {entry["package_id"] for entry in installed}


def committed_definition(admin: PeerAdmin, channel: str, name: str) -> Definition | None:
    """The committed definition of chaincode `name`, or None; raises PeerCommandError when the
    peer cannot be asked."""
    step = f"reading the committed definitions on channel {channel}"
    result = admin.run(
        step, "lifecycle", "chaincode", "querycommitted", "--channelID", channel, "--output", "json"
    )
    for entry in _json(result.stdout, step).get("chaincode_definitions") or []:
        if entry.get("name") == name:
            return Definition(channel, name, str(entry["version"]), int(entry["sequence"]))
    return None


def approved_package_id(admin: PeerAdmin, definition: Definition) -> str | None:
    """The package the admin's organisation approved for `definition`'s sequence and version,
    or None when it approved nothing there (any refusal of the query means no approval)."""
    result = admin.run(
        "reading this organisation's approval",
        "lifecycle", "chaincode", "queryapproved",
        "--channelID", definition.channel, "--name", definition.name,
        "--sequence", str(definition.sequence), "--output", "json",
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        return None
    approved = _json(result.stdout, "reading this organisation's approval")
    if approved.get("version") != definition.version:
        return None
    package = ((approved.get("source") or {}).get("Type") or {}).get("LocalPackage") or {}
    return package.get("package_id")


def commit_readiness(admin: PeerAdmin, definition: Definition) -> dict[str, bool]:
    """Which organisations of the channel approved `definition`; raises PeerCommandError."""
    step = "checking the definition's commit readiness"
    result = admin.run(
        step, "lifecycle", "chaincode", "checkcommitreadiness", *definition.args(),
        "--output", "json",
    )  # fmt: skip
    approvals = _json(result.stdout, step).get("approvals") or {}
    return {str(msp): bool(ok) for msp, ok in approvals.items()}


def target_definition(
    admin: PeerAdmin, package: ChaincodePackage, channel: str, name: str
) -> tuple[Definition, bool]:
    """The definition this build belongs to, and whether it is already committed."""
    committed = committed_definition(admin, channel, name)
    if committed is not None and committed.version == package.label:
        return committed, True
    sequence = committed.sequence + 1 if committed else 1
    return Definition(channel, name, package.label, sequence), False


def install_and_approve(
    admin: PeerAdmin, package: ChaincodePackage, channel: str, name: str
) -> Outcome:
    """Install `package` on the admin's peer and approve its definition for the organisation,
    each only when not done yet. Raises PeerCommandError when a step fails."""
    definition, committed = target_definition(admin, package, channel, name)
    outcome = Outcome(admin.msp_id, package.package_id, definition, committed=committed)
    if package.package_id not in installed_package_ids(admin):
        admin.run(
            f"installing {package.path.name} on {admin.peer.address}",
            "lifecycle", "chaincode", "install", str(package.path),
        )  # fmt: skip
        outcome.installed_now = True
    if approved_package_id(admin, definition) != package.package_id:
        admin.run(
            f"approving {name} sequence {definition.sequence} for {admin.msp_id}",
            "lifecycle", "chaincode", "approveformyorg", *definition.args(),
            "--package-id", package.package_id, *admin.orderer_args(),
        )  # fmt: skip
        outcome.approved_now = True
    return outcome


def commit(admin: PeerAdmin, outcome: Outcome, peers_by_org: Mapping[str, Endpoint]) -> None:
    """Commit the outcome's definition, endorsed by the peers (of `peers_by_org`) of the
    organisations that approved it: a peer endorses a commit only of a definition its own
    organisation agreed to. Raises NotReadyToCommitError when fewer than a majority approved,
    and PeerCommandError when the commit fails."""
    approvals = outcome.approvals
    if sum(approvals.values()) * 2 <= len(approvals):
        missing = outcome.missing
        raise NotReadyToCommitError(
            f"{outcome.definition.name} sequence {outcome.definition.sequence} is approved by "
            f"{sum(approvals.values())} of {len(approvals)} organisations; the lifecycle "
            f"policy (a majority) needs more: waiting for {', '.join(missing)} to run "
            "`fedledger deploy` with their own admin identity (an approval made moments ago "
            f"reaches {outcome.msp_id}'s peer with the next block: run it again then)",
            missing,
        )
    endorsers = [peers_by_org[msp] for msp, ok in approvals.items() if ok and msp in peers_by_org]
    peers: list[str] = []
    for endpoint in endorsers:
        peers += ["--peerAddresses", endpoint.address]
        peers += ["--tlsRootCertFiles", str(endpoint.tls_ca_cert)]
    admin.run(
        f"committing {outcome.definition.name} sequence {outcome.definition.sequence}",
        "lifecycle", "chaincode", "commit", *outcome.definition.args(),
        *admin.orderer_args(), *peers,
        several_peers=True,
    )  # fmt: skip
    outcome.committed = outcome.committed_now = True
    log.info(
        "chaincode committed",
        name=outcome.definition.name,
        sequence=outcome.definition.sequence,
        package_id=outcome.package_id,
    )


def deploy_for_org(
    admin: PeerAdmin,
    package: ChaincodePackage,
    channel: str,
    name: str,
    *,
    commit_with: Mapping[str, Endpoint] | None = None,
) -> Outcome:
    """The organisation's whole part: install, approve, read every organisation's approval, and
    commit with `commit_with`'s peers (by MSP ID) when given and not committed yet.

    Raises PeerCommandError when a step fails and NotReadyToCommitError when asked to commit
    without a majority of approvals.
    """
    outcome = install_and_approve(admin, package, channel, name)
    if not outcome.committed:
        outcome.approvals = commit_readiness(admin, outcome.definition)
        if commit_with is not None:
            commit(admin, outcome, commit_with)
    return outcome
