"""The native network's chaincode deployment: every organisation's part of Fabric's lifecycle
(`fedledger.deploy.org_lifecycle`), run at once for all of them, then one commit.

The definition's sequence only moves when the build changes: a redeploy of the same build is a
no-op, a changed chaincode is approved and committed at the next sequence, and the ledger's
state carries over (Fabric keeps world state across chaincode upgrades).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fedledger.deploy.admin import Endpoint, PeerAdmin
from fedledger.deploy.org_lifecycle import Outcome, commit, commit_readiness, install_and_approve
from fedledger.network.nodeconfig import LOCALHOST
from fedledger.network.packaging import ChaincodePackage
from fedledger.network.peercli import FabricCommands


@dataclass(frozen=True)
class Deployment:
    package_id: str
    sequence: int
    changed: bool


def org_admin(commands: FabricCommands, index: int) -> PeerAdmin:
    """Organisation `index`'s admin on its peer0, ordering through the first orderer."""
    definition = commands.definition
    return PeerAdmin(
        peer_binary=commands.installation.binary("peer"),
        config_dir=commands.layout.node(commands.peer_name(index)),
        msp_id=definition.members[index].msp_id,
        admin_msp=commands.org_layout(index).admin.msp,
        peer=peer_endpoint(commands, index),
        orderer=Endpoint(
            f"{LOCALHOST}:{definition.orderer_ports(0).listen}", commands.orderer_org.tlsca_cert
        ),
    )


def peer_endpoint(commands: FabricCommands, index: int) -> Endpoint:
    return Endpoint(
        f"{LOCALHOST}:{commands.definition.peer_ports(index).listen}",
        commands.org_layout(index).peer(0).tls_ca,
    )


def deploy(commands: FabricCommands, package: ChaincodePackage) -> Deployment:
    """Install and approve for every organisation in parallel, then commit as the first.

    Raises deploy.DeployError (PeerCommandError) when a step fails.
    """
    definition = commands.definition
    orgs = range(len(definition.members))
    admins = [org_admin(commands, i) for i in orgs]
    channel, name = definition.channel, definition.chaincode_name
    with ThreadPoolExecutor(max_workers=len(admins)) as pool:
        outcomes: list[Outcome] = list(
            pool.map(lambda admin: install_and_approve(admin, package, channel, name), admins)
        )
    first = outcomes[0]
    if not first.committed:
        first.approvals = commit_readiness(admins[0], first.definition)
        peers = {admin.msp_id: peer_endpoint(commands, i) for i, admin in enumerate(admins)}
        commit(admins[0], first, peers)
    return Deployment(
        package.package_id, first.definition.sequence, any(o.changed for o in outcomes)
    )
