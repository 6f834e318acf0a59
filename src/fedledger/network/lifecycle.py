"""Fabric's standard chaincode lifecycle: install on every peer, approve per organisation, commit.

The definition's sequence only moves when the package changes: a redeploy of the same build is a
no-op, a changed chaincode is approved and committed at the next sequence, and the ledger's
state carries over (Fabric keeps world state across chaincode upgrades).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import structlog

from fedledger.network.errors import NetworkError
from fedledger.network.nodeconfig import LOCALHOST
from fedledger.network.packaging import ChaincodePackage
from fedledger.network.peercli import FabricCommands, finish

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Deployment:
    package_id: str
    sequence: int
    changed: bool


def installed_package_ids(commands: FabricCommands, index: int) -> set[str]:
    result = commands.peer(index, "lifecycle", "chaincode", "queryinstalled", "--output", "json")
    installed = json.loads(result.stdout or "{}").get("installed_chaincodes") or []
    return {entry["package_id"] for entry in installed}


def committed_sequence(commands: FabricCommands) -> int:
    """The committed definition's sequence, 0 when none is committed yet.

    Raises NetworkError when the peer cannot be asked.
    """
    definition = commands.definition
    result = commands.peer(
        0,
        "lifecycle", "chaincode", "querycommitted",
        "--channelID", definition.channel, "--name", definition.chaincode_name,
        "--output", "json",
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        if "not found" in result.stderr or "404" in result.stderr:
            return 0
        finish_error = result.stderr.strip()[-400:]
        raise NetworkError(f"querying the committed chaincode failed: {finish_error}")
    return int(json.loads(result.stdout)["sequence"])


def approved_package_id(commands: FabricCommands, sequence: int) -> str | None:
    definition = commands.definition
    result = commands.peer(
        0,
        "lifecycle", "chaincode", "queryapproved",
        "--channelID", definition.channel, "--name", definition.chaincode_name,
        "--sequence", str(sequence), "--output", "json",
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        return None
    source = json.loads(result.stdout).get("source") or {}
    package = (source.get("Type") or {}).get("LocalPackage") or {}
    return package.get("package_id")


def deploy(commands: FabricCommands, package: ChaincodePackage, version: str) -> Deployment:
    definition = commands.definition
    package_id = package.package_id
    orgs = range(len(definition.members))

    installs = [
        commands.peer_async(i, "lifecycle", "chaincode", "install", str(package.path))
        for i in orgs
        if package_id not in installed_package_ids(commands, i)
    ]
    for process in installs:
        finish(process, "installing the chaincode package")

    current = committed_sequence(commands)
    if current and approved_package_id(commands, current) == package_id:
        log.info("chaincode already deployed", package_id=package_id, sequence=current)
        return Deployment(package_id, current, changed=False)
    sequence = current + 1

    common = [
        "--channelID", definition.channel, "--name", definition.chaincode_name,
        "--version", version, "--sequence", str(sequence),
        *commands.orderer_args(),
    ]  # fmt: skip
    approvals = [
        commands.peer_async(
            i, "lifecycle", "chaincode", "approveformyorg", "--package-id", package_id, *common
        )
        for i in orgs
    ]
    for i, process in zip(orgs, approvals, strict=True):
        finish(process, f"approving the chaincode for {definition.members[i].msp_id}")

    peers: list[str] = []
    for i in orgs:
        peers += [
            "--peerAddresses",
            f"{LOCALHOST}:{definition.peer_ports(i).listen}",
            "--tlsRootCertFiles",
            str(commands.org_layout(i).peer(0).tls_ca),
        ]
    commands.peer(0, "lifecycle", "chaincode", "commit", *common, *peers)
    log.info("chaincode committed", package_id=package_id, sequence=sequence)
    return Deployment(package_id, sequence, changed=True)
