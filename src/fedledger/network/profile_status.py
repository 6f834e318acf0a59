"""`fedledger network status --profile`: a network known only by its connection profile (one in
docker-compose, or one someone else runs), seen through each organisation's Gateway peer.

No process or operations port is known from a profile, so each row says what a client sees:
whether the peer answers (its channel's height) and whether the chaincode does.
"""

from __future__ import annotations

import grpc

from fedledger.fabric import FabricError, Timeouts, connect
from fedledger.profile import ConnectionProfile
from fedledger.runtime.status import NodeStatus

PROBE = Timeouts(evaluate=5.0)


def profile_statuses(profile: ConnectionProfile) -> list[NodeStatus]:
    """One row per organisation of `profile`: its Gateway peer's height on the profile's
    channel, and `healthy` when the profile's chaincode answers there (`health:Version`).

    Raises ProfileError when an organisation's identity in the profile cannot be read; a peer
    that does not answer is a row, not an error.
    """
    return [_probe(profile, msp_id) for msp_id in profile.msp_ids]


def _probe(profile: ConnectionProfile, msp_id: str) -> NodeStatus:
    org = profile.org(msp_id)
    height: int | None = None
    healthy = False
    try:
        with connect(profile, msp_id, timeouts=PROBE) as gateway:
            network = gateway.network(profile.channel)
            height = network.block_height()
            network.contract(profile.chaincode).evaluate("health:Version")
            healthy = True
    except (FabricError, grpc.RpcError):
        pass  # the row says what answered: no height (peer) or not healthy (chaincode)
    return NodeStatus(
        name=org.gateway.server_name,
        kind="peer",
        organization=msp_id,
        ports=org.gateway.endpoint,
        pid=None,
        running=height is not None,
        healthy=healthy,
        height=height,
    )
