"""The channel's configuration as the embedded ledger's orderer keeps it, and CONFIG_UPDATE
transactions applied to it.

The current configuration is the one in the block the chain's last block names as its last
config, so a restarted ledger carries on with what updates made it. An update is checked as
Fabric's orderer checks it (the submitter must satisfy /Channel/Writers; the update's own
signatures must satisfy every changed element's modification policy; read-set versions must be
current), then committed as a block of its own, and the member registry (which identities the
Gateway, the endorser and the committer accept) becomes the new configuration's organisations.
"""

from __future__ import annotations

import asyncio

import structlog
from fabric_protos.common import common_pb2, configtx_pb2
from fabric_protos.orderer import ab_pb2
from google.protobuf import timestamp_pb2
from google.protobuf.message import DecodeError

from fedledger.channelconfig.envelopes import config_of_block, last_config_index
from fedledger.channelconfig.errors import UpdateRefusedError
from fedledger.channelconfig.members import application, root_certificates
from fedledger.channelconfig.policies import Signer, evaluate
from fedledger.channelconfig.signatures import channel_identities, verified_signers
from fedledger.channelconfig.validation import apply_update
from fedledger.embedded.blocks import config_envelope
from fedledger.embedded.committer import Committer
from fedledger.embedded.identity import IdentityError, MemberRegistry
from fedledger.embedded.identity import Signer as NodeSigner
from fedledger.embedded.store import Store

log = structlog.get_logger("fedledger.embedded.channel_config")


class SubmitterRefusedError(UpdateRefusedError):
    """The envelope's signer is not an identity of the channel that satisfies /Channel/Writers."""


def current_config(store: Store) -> configtx_pb2.Config:
    """The configuration in force: that of the block the last block names as last config."""
    last = store.last_block()
    assert last is not None, "the genesis block is written at start-up"
    index = last_config_index(common_pb2.Block.FromString(last.block))
    raw = store.block(index)
    assert raw is not None, "a block names only stored blocks as its last config"
    return config_of_block(common_pb2.Block.FromString(raw))


def member_cas(config: configtx_pb2.Config) -> dict[str, bytes]:
    """The member (application) organisations' root CAs by MSP ID."""
    every = root_certificates(config)
    return {m: every[m] for m in application(config).groups if m in every}


def _response(status: int, info: str) -> ab_pb2.BroadcastResponse:
    return ab_pb2.BroadcastResponse(status=status, info=info)


class ChannelConfigKeeper:
    def __init__(
        self,
        channel: str,
        store: Store,
        committer: Committer,
        orderer: NodeSigner,
        members: MemberRegistry,
    ) -> None:
        self.channel = channel
        self.committer = committer
        self.orderer = orderer
        self.members = members
        self.config = current_config(store)
        members.replace(member_cas(self.config))
        self._updating = asyncio.Lock()

    async def handle(
        self, envelope: common_pb2.Envelope, payload: common_pb2.Payload
    ) -> ab_pb2.BroadcastResponse:
        """A Broadcast of a CONFIG_UPDATE: SUCCESS once its config block is committed;
        FORBIDDEN for a submitter who may not write to the channel; BAD_REQUEST for an update
        refused (Fabric's orderer answers so for unmet modification policies too)."""
        async with self._updating:
            try:
                number = await self._apply(envelope, payload)
            except SubmitterRefusedError as error:
                log.info("config update refused", reason=str(error))
                return _response(common_pb2.FORBIDDEN, str(error))
            except UpdateRefusedError as error:
                log.info("config update refused", reason=str(error))
                return _response(common_pb2.BAD_REQUEST, str(error))
        log.info(
            "config update committed",
            block=number,
            sequence=self.config.sequence,
            members=sorted(application(self.config).groups),
        )
        return _response(common_pb2.SUCCESS, "")

    async def _apply(self, envelope: common_pb2.Envelope, payload: common_pb2.Payload) -> int:
        self._check_submitter(envelope, payload)
        try:
            update_envelope = configtx_pb2.ConfigUpdateEnvelope.FromString(payload.data)
            update = configtx_pb2.ConfigUpdate.FromString(update_envelope.config_update)
        except DecodeError:
            raise UpdateRefusedError("the payload is not a ConfigUpdateEnvelope") from None
        if update.channel_id != self.channel:
            raise UpdateRefusedError(
                f"the update is for channel {update.channel_id!r}, not {self.channel!r}"
            )
        signers = verified_signers(update_envelope, self.config)
        updated = apply_update(self.config, update, signers)
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        block = config_envelope(self.channel, updated, now, envelope, self.orderer)
        number = await self.committer.commit_config(block)
        self.config = updated
        self.members.replace(member_cas(updated))
        return number

    def _check_submitter(self, envelope: common_pb2.Envelope, payload: common_pb2.Payload) -> None:
        header = common_pb2.SignatureHeader.FromString(payload.header.signature_header)
        try:
            identity = channel_identities(self.config).deserialize(header.creator)
            identity.verify(envelope.payload, envelope.signature)
        except IdentityError as error:
            raise SubmitterRefusedError(f"the submitter is refused: {error}") from None
        writers = evaluate(
            self.config.channel_group, (), "Writers", [Signer(identity.msp_id, identity.role)]
        )
        if not writers.satisfied:
            raise SubmitterRefusedError(
                f"the submitter ({identity.msp_id} {identity.role}) does not satisfy "
                f"{writers.description}"
            )
