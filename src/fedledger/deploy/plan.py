"""`fedledger deploy` from a connection profile: which peer, identity and orderer, and the report.

Everything comes from the profile the organisation holds: its own peer (the Gateway endpoint is
the peer's address) and admin identity, the other organisations' peers as addresses and TLS CA
certificates (for the commit's endorsements), and an orderer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fedledger.deploy.admin import Endpoint, PeerAdmin
from fedledger.deploy.org_lifecycle import Outcome, deploy_for_org
from fedledger.network.packaging import (
    PEER_FILLED_ADDRESS,
    ChaincodePackage,
    package_ccaas,
    package_node,
)
from fedledger.profile import ConnectionProfile, OrgProfile


@dataclass(frozen=True)
class DeployRequest:
    profile: ConnectionProfile
    msp_id: str
    identity: str = "admin"
    commit: bool = False
    node_package: bool = False
    service_address: str | None = None
    orderer: tuple[str, Path] | None = None
    source: Path | None = None
    packages: Path | None = None


@dataclass(frozen=True)
class DeployReport:
    outcome: Outcome
    package: ChaincodePackage
    service_address: str | None

    def report_lines(self) -> list[str]:
        outcome, definition = self.outcome, self.outcome.definition
        lines = [
            f"{outcome.msp_id}: package {outcome.package_id} "
            + ("installed" if outcome.installed_now else "already installed"),
            f"definition {definition.name} sequence {definition.sequence} "
            f"(version {definition.version}): "
            + ("approved now" if outcome.approved_now else "already approved")
            + f" by {outcome.msp_id}",
        ]
        if outcome.approvals:
            listed = ", ".join(
                f"{msp} {'yes' if ok else 'no'}" for msp, ok in sorted(outcome.approvals.items())
            )
            lines.append(f"approvals: {listed}")
        if outcome.committed_now:
            lines.append("committed now")
        elif outcome.committed:
            lines.append("committed")
        else:
            lines.append(
                "not committed yet: once a majority approved, one organisation runs "
                "`fedledger deploy --commit`"
            )
        if self.service_address is not None:
            lines.append(
                "this organisation's chaincode service must listen there: "
                f"fedledger chaincode serve --package-id {outcome.package_id} "
                f"--address {self.service_address}"
            )
        return lines


def _peer(org: OrgProfile) -> Endpoint:
    return Endpoint(org.gateway.endpoint, org.gateway.tls_ca_cert, org.gateway.server_name)


def _profile_orderer(profile: ConnectionProfile) -> Endpoint | None:
    if not profile.orderers:
        return None
    first = profile.orderers[0]
    return Endpoint(first.endpoint, first.tls_ca_cert, first.server_name)


def _admin(request: DeployRequest) -> PeerAdmin:
    from fedledger.installation import find_installation

    installation = find_installation()
    org = request.profile.org(request.msp_id)
    orderer = Endpoint(*request.orderer) if request.orderer else _profile_orderer(request.profile)
    return PeerAdmin(
        peer_binary=installation.binary("peer"),
        config_dir=installation.config_dir,
        msp_id=request.msp_id,
        admin_msp=org.identity(request.identity),
        peer=_peer(org),
        orderer=orderer,
    )


def _package(request: DeployRequest) -> ChaincodePackage:
    from fedledger.runtime.definition import NetworkDefinition

    source = request.source or NetworkDefinition.load().chaincode_source
    base = request.profile.path.parent if request.profile.path else Path()
    folder = request.packages or base / "packages" / request.msp_id
    if request.node_package:
        return package_node(source, request.profile.chaincode, folder)
    address = request.service_address or PEER_FILLED_ADDRESS
    return package_ccaas(source, request.profile.chaincode, folder, address)


def run_deploy(request: DeployRequest, progress: Callable[[str], None]) -> DeployReport:
    """Package, then the organisation's lifecycle steps (org_lifecycle.deploy_for_org).

    Raises ProfileError when the profile lacks the organisation or identity, InstallationError
    when no Fabric installation provides `peer`, PackagingError when the chaincode is not built,
    and DeployError when a lifecycle step fails or the commit lacks approvals.
    """
    admin = _admin(request)
    package = _package(request)
    progress(f"package {package.package_id} ({package.path})")
    endorsers = {msp: _peer(org) for msp, org in request.profile.organizations.items()}
    outcome = deploy_for_org(
        admin,
        package,
        request.profile.channel,
        request.profile.chaincode,
        commit_with=endorsers if request.commit else None,
    )
    service = None if request.node_package else request.service_address
    return DeployReport(outcome, package, service)
