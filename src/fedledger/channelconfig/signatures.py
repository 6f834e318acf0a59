"""The identities behind a config update's signatures, verified against the channel's MSPs.

Each signature is checked as an orderer checks it: the creator must be an identity of one of
the channel's organisations (members and orderers), issued by that organisation's CA, with one
NodeOU role, and its low-S ECDSA signature must cover `signature_header ‖ config_update`. One
identity signing twice counts once.
"""

from __future__ import annotations

from fabric_protos.common import common_pb2, configtx_pb2

from fedledger.channelconfig.errors import UpdateRefusedError
from fedledger.channelconfig.members import root_certificates
from fedledger.channelconfig.policies import Signer
from fedledger.embedded.identity import IdentityError, MemberRegistry


def channel_identities(config: configtx_pb2.Config) -> MemberRegistry:
    """Every organisation of the channel (members and orderers) as a registry of CAs."""
    return MemberRegistry.from_pem(root_certificates(config))


def verified_signers(
    envelope: configtx_pb2.ConfigUpdateEnvelope, config: configtx_pb2.Config
) -> list[Signer]:
    """The organisation and role of each distinct identity that signed; raises
    UpdateRefusedError naming the signature that does not verify."""
    return signers_known_to(channel_identities(config), envelope, "the update")


def signers_known_to(
    registry: MemberRegistry, envelope: configtx_pb2.ConfigUpdateEnvelope, what: str
) -> list[Signer]:
    """Each distinct identity that signed `envelope`, verified against `registry`'s CAs;
    raises UpdateRefusedError naming the signature of `what` ("the update") that does not
    verify."""
    signers: dict[bytes, Signer] = {}
    for index, signature in enumerate(envelope.signatures):
        header = common_pb2.SignatureHeader.FromString(signature.signature_header)
        try:
            identity = registry.deserialize(header.creator)
            identity.verify(
                signature.signature_header + envelope.config_update, signature.signature
            )
        except IdentityError as error:
            raise UpdateRefusedError(f"signature {index + 1} of {what}: {error}") from None
        signers[header.creator] = Signer(identity.msp_id, identity.role)
    return list(signers.values())
