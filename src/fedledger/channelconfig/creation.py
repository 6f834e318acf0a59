"""A channel creation transaction, for an ordering service with a system channel (Fabric 2.2, as
AWS Managed Blockchain runs it; Fabric 2.3+ creates channels by channel participation instead).

The transaction is a config update against the consortium's template, built as configtxgen's
`-outputCreateChannelTx` builds it: the read set names the consortium and the member
organisations (empty groups at version 0: the orderer takes their MSP definitions from the
consortium, not from the transaction), the write set adds the application group's policies and
capabilities (version 1) as network/configtx.py writes them. The consortium's channel creation
policy (configtxgen's default: ANY Admins of the new channel's organisations) decides who must
sign; the signatures are checked here against the CAs of the members' exported MSP definitions
(`fedledger org export`) before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from fabric_protos.common import common_pb2, configtx_pb2, configuration_pb2

from fedledger.channelconfig.deliver import genesis_block
from fedledger.channelconfig.elements import ADMINS, capabilities, implicit_policy, set_policy
from fedledger.channelconfig.envelopes import config_update_transaction, signer_msp_ids
from fedledger.channelconfig.errors import UpdateFileError, UpdateRefusedError
from fedledger.channelconfig.ledger import broadcast
from fedledger.channelconfig.policies import Signer
from fedledger.channelconfig.signatures import signers_known_to
from fedledger.embedded.identity import MemberRegistry
from fedledger.fabric.identity import SigningIdentity
from fedledger.orgs.export import OrgDefinition
from fedledger.profile import OrdererEndpoint

APPLICATION = "Application"
CONSORTIUM_KEY = "Consortium"
DEFAULT_CONSORTIUM = "FedledgerConsortium"
# The application policies of network/configtx.py, over the new channel's organisations.
APPLICATION_POLICIES = {
    "Readers": "ANY Readers",
    "Writers": "ANY Writers",
    "Admins": "MAJORITY Admins",
    "Endorsement": "MAJORITY Endorsement",
    "LifecycleEndorsement": "MAJORITY Endorsement",
}


def creation_update(
    channel: str, consortium: str, orgs: Sequence[OrgDefinition]
) -> configtx_pb2.ConfigUpdate:
    """The config update that creates `channel` in `consortium` with `orgs` as its members.
    Raises UpdateFileError when no organisation is given or one is given twice."""
    msp_ids = [org.msp_id for org in orgs]
    if not msp_ids:
        raise UpdateFileError("a channel needs at least one member: give its organisation files")
    if len(set(msp_ids)) != len(msp_ids):
        raise UpdateFileError(f"an organisation is given twice: {', '.join(sorted(msp_ids))}")
    update = configtx_pb2.ConfigUpdate(channel_id=channel)
    update.read_set.values[CONSORTIUM_KEY].version = 0
    consortium_value = configuration_pb2.Consortium(name=consortium).SerializeToString()
    update.write_set.values[CONSORTIUM_KEY].value = consortium_value
    read = update.read_set.groups[APPLICATION]
    write = update.write_set.groups[APPLICATION]
    for msp_id in sorted(msp_ids):
        read.groups[msp_id].version = 0
        write.groups[msp_id].version = 0
    write.version = 1
    write.mod_policy = ADMINS
    for name, rule in APPLICATION_POLICIES.items():
        set_policy(write, name, implicit_policy(rule))
    write.values["Capabilities"].value = capabilities("V2_0")
    write.values["Capabilities"].mod_policy = ADMINS
    return update


def members_of(update: configtx_pb2.ConfigUpdate) -> list[str]:
    """The MSP IDs a creation update names as the channel's members; raises UpdateFileError when
    the update creates no channel (no consortium in its write set)."""
    if CONSORTIUM_KEY not in update.write_set.values:
        raise UpdateFileError(
            f"the update for channel {update.channel_id!r} creates no channel (it names no "
            "consortium): `fedledger channel create --legacy` writes creation updates"
        )
    return sorted(update.write_set.groups[APPLICATION].groups)


def creation_signers(
    envelope: configtx_pb2.ConfigUpdateEnvelope, orgs: Sequence[OrgDefinition]
) -> list[Signer]:
    """The members' admins whose signatures verify against the organisations' CAs, as the
    channel creation policy (ANY Admins) counts them. Raises UpdateRefusedError naming a
    signature that does not verify, or when no member's admin signed."""
    registry = MemberRegistry.from_pem({org.msp_id: org.root_certs[0] for org in orgs})
    signers = signers_known_to(registry, envelope, "the channel creation")
    admins = [signer for signer in signers if signer.role == "admin"]
    if not admins:
        signed = ", ".join(signer_msp_ids(envelope)) or "nobody"
        raise UpdateRefusedError(
            "the channel creation needs the signature of a member organisation's admin (the "
            f"consortium's channel creation policy, ANY Admins); signed by: {signed}"
        )
    return admins


def create_channel(
    orderer: OrdererEndpoint,
    envelope: configtx_pb2.ConfigUpdateEnvelope,
    orgs: Sequence[OrgDefinition],
    submitter: SigningIdentity,
    timeout: float,
) -> common_pb2.Block:
    """Check the signed creation update against the organisations' files, send it to `orderer`
    signed by `submitter`, and return the new channel's genesis block. Raises UpdateFileError
    when the update's members differ from `orgs`, what `creation_signers` raises, and
    BroadcastError when the orderer refuses the transaction or does not serve the channel."""
    update = configtx_pb2.ConfigUpdate.FromString(envelope.config_update)
    members = members_of(update)
    given = sorted(org.msp_id for org in orgs)
    if members != given:
        raise UpdateFileError(
            f"the update creates channel {update.channel_id} with {', '.join(members)}, but the "
            f"organisation files given are {', '.join(given)}: give one file per member"
        )
    creation_signers(envelope, orgs)
    broadcast(orderer, config_update_transaction(envelope, update.channel_id, submitter))
    return genesis_block(orderer, update.channel_id, submitter, timeout)
