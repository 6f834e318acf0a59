"""The steps of changing a channel's members: prepare an update, sign it, check and submit it.

Each admin runs their step on their own host: `prepare_*` needs only read access to a peer,
`sign_update` only the admin's own key, `submit` the update with its signatures and an orderer.
"""

from __future__ import annotations

from fabric_protos.common import configtx_pb2

from fedledger.channelconfig.envelopes import config_update_transaction, unsigned_update
from fedledger.channelconfig.errors import UpdateFileError
from fedledger.channelconfig.ledger import broadcast, latest_config, wait_for_sequence
from fedledger.channelconfig.members import with_org_added, with_org_removed
from fedledger.channelconfig.signatures import verified_signers
from fedledger.channelconfig.update import compute_update
from fedledger.channelconfig.validation import apply_update
from fedledger.fabric.contract import Network
from fedledger.fabric.identity import SigningIdentity
from fedledger.orgs.export import OrgDefinition
from fedledger.profile import OrdererEndpoint


def prepare_add(network: Network, org: OrgDefinition) -> configtx_pb2.ConfigUpdateEnvelope:
    """An unsigned update adding `org` to the channel's current configuration. Raises
    MembershipError when it is already a member; the fabric package's errors go through."""
    config, _ = latest_config(network)
    update = compute_update(config, with_org_added(config, org), network.name)
    return unsigned_update(update)


def prepare_remove(network: Network, msp_id: str) -> configtx_pb2.ConfigUpdateEnvelope:
    """An unsigned update removing member `msp_id`. Raises MembershipError when it is not a
    member or is the last one; the fabric package's errors go through."""
    config, _ = latest_config(network)
    update = compute_update(config, with_org_removed(config, msp_id), network.name)
    return unsigned_update(update)


def check_update(
    config: configtx_pb2.Config,
    envelope: configtx_pb2.ConfigUpdateEnvelope,
    update: configtx_pb2.ConfigUpdate,
    channel: str,
) -> configtx_pb2.Config:
    """The configuration the update leads to, checked as the orderer will check it. Raises
    UpdateFileError for an update of another channel, and the UpdateRefusedError (a
    PolicyNotSatisfiedError naming who must still sign) the orderer would give."""
    if update.channel_id != channel:
        raise UpdateFileError(
            f"the update is for channel {update.channel_id!r}, the profile's is {channel!r}"
        )
    return apply_update(config, update, verified_signers(envelope, config))


def submit(
    network: Network,
    orderer: OrdererEndpoint,
    envelope: configtx_pb2.ConfigUpdateEnvelope,
    update: configtx_pb2.ConfigUpdate,
    submitter: SigningIdentity,
    timeout: float,
) -> configtx_pb2.Config:
    """Check the update locally, send it to `orderer` signed by `submitter`, and return the
    peer's configuration once it shows it. Raises what `check_update`, `broadcast` and
    `wait_for_sequence` raise."""
    config, _ = latest_config(network)
    expected = check_update(config, envelope, update, network.name)
    broadcast(orderer, config_update_transaction(envelope, network.name, submitter))
    return wait_for_sequence(network, expected.sequence, timeout)
