"""Blocks as Fabric builds and chains them.

The header hash is SHA-256 of the ASN.1 DER encoding of SEQUENCE { number INTEGER,
previous_hash OCTET STRING, data_hash OCTET STRING } (protoutil.BlockHeaderBytes); the data
hash is SHA-256 of the envelopes concatenated (protoutil.ComputeBlockDataHash). Metadata has
Fabric's five slots: the orderer's signature over the header, the (deprecated) last config, the
transaction validation codes, the orderer metadata and the commit hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography import x509
from fabric_protos.common import common_pb2, configtx_pb2
from fabric_protos.msp import msp_config_pb2
from fabric_protos.orderer import configuration_pb2 as orderer_config
from google.protobuf import timestamp_pb2

from fedledger.embedded.identity import Signer

METADATA_SLOTS = len(common_pb2.BlockMetadataIndex.items())


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _der_unsigned(value: int) -> bytes:
    # Minimal two's complement: a leading zero byte when the top bit would read as a sign.
    encoded = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
    while len(encoded) > 1 and encoded[0] == 0 and encoded[1] < 0x80:
        encoded = encoded[1:]
    return _der(0x02, encoded)


def header_bytes(number: int, previous_hash: bytes, data_hash: bytes) -> bytes:
    return _der(0x30, _der_unsigned(number) + _der(0x04, previous_hash) + _der(0x04, data_hash))


def header_hash(header: common_pb2.BlockHeader) -> bytes:
    return hashlib.sha256(
        header_bytes(header.number, header.previous_hash, header.data_hash)
    ).digest()


def data_hash(envelopes: Sequence[bytes]) -> bytes:
    return hashlib.sha256(b"".join(envelopes)).digest()


def build_block(
    number: int,
    previous_hash: bytes,
    envelopes: Sequence[bytes],
    codes: Sequence[int],
    orderer: Signer,
    nonce: bytes,
) -> common_pb2.Block:
    block = common_pb2.Block()
    block.header.number = number
    block.header.previous_hash = previous_hash
    block.header.data_hash = data_hash(envelopes)
    block.data.data.extend(envelopes)
    slots = [b""] * METADATA_SLOTS
    slots[common_pb2.SIGNATURES] = _signatures(block.header, orderer, nonce)
    slots[common_pb2.TRANSACTIONS_FILTER] = bytes(codes)
    block.metadata.metadata.extend(slots)
    return block


def _signatures(header: common_pb2.BlockHeader, orderer: Signer, nonce: bytes) -> bytes:
    value = common_pb2.OrdererBlockMetadata(
        last_config=common_pb2.LastConfig(index=0)
    ).SerializeToString()
    signature_header = common_pb2.SignatureHeader(
        creator=orderer.serialized, nonce=nonce
    ).SerializeToString()
    signed = (
        value
        + signature_header
        + header_bytes(header.number, header.previous_hash, header.data_hash)
    )
    metadata = common_pb2.Metadata(value=value)
    metadata.signatures.add(signature_header=signature_header, signature=orderer.sign(signed))
    return metadata.SerializeToString()  # type: ignore[no-any-return]


def _msp_value(msp_id: str, ca: x509.Certificate, tlsca: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    def ou(unit: str, ca_pem: bytes) -> msp_config_pb2.FabricOUIdentifier:
        return msp_config_pb2.FabricOUIdentifier(
            certificate=ca_pem, organizational_unit_identifier=unit
        )

    ca_pem = ca.public_bytes(Encoding.PEM)
    config = msp_config_pb2.FabricMSPConfig(
        name=msp_id,
        root_certs=[ca_pem],
        tls_root_certs=[tlsca.public_bytes(Encoding.PEM)],
        fabric_node_ous=msp_config_pb2.FabricNodeOUs(
            enable=True,
            client_ou_identifier=ou("client", ca_pem),
            peer_ou_identifier=ou("peer", ca_pem),
            admin_ou_identifier=ou("admin", ca_pem),
            orderer_ou_identifier=ou("orderer", ca_pem),
        ),
        crypto_config=msp_config_pb2.FabricCryptoConfig(
            signature_hash_family="SHA2", identity_identifier_hash_function="SHA256"
        ),
    )
    return msp_config_pb2.MSPConfig(type=0, config=config.SerializeToString()).SerializeToString()  # type: ignore[no-any-return]


def genesis_envelope(
    channel: str,
    members: dict[str, tuple[x509.Certificate, x509.Certificate]],
    orderer_msp: tuple[str, x509.Certificate, x509.Certificate],
    batch_timeout: float,
    max_message_count: int,
    now: timestamp_pb2.Timestamp,
) -> bytes:
    """A CONFIG envelope naming the members' CAs and the batch settings, as block 0 holds."""
    channel_group = configtx_pb2.ConfigGroup()
    application = channel_group.groups["Application"]
    for msp_id, (ca, tlsca) in members.items():
        application.groups[msp_id].values["MSP"].value = _msp_value(msp_id, ca, tlsca)
    ordering = channel_group.groups["Orderer"]
    msp_id, ca, tlsca = orderer_msp
    ordering.groups[msp_id].values["MSP"].value = _msp_value(msp_id, ca, tlsca)
    ordering.values["BatchSize"].value = orderer_config.BatchSize(
        max_message_count=max_message_count,
        absolute_max_bytes=100 * 1024 * 1024,
        preferred_max_bytes=2 * 1024 * 1024,
    ).SerializeToString()
    ordering.values["BatchTimeout"].value = orderer_config.BatchTimeout(
        timeout=f"{round(batch_timeout * 1000)}ms"
    ).SerializeToString()
    config = configtx_pb2.ConfigEnvelope(config=configtx_pb2.Config(channel_group=channel_group))
    channel_header = common_pb2.ChannelHeader(
        type=common_pb2.CONFIG, channel_id=channel, timestamp=now
    )
    payload = common_pb2.Payload(
        header=common_pb2.Header(
            channel_header=channel_header.SerializeToString(),
            signature_header=common_pb2.SignatureHeader().SerializeToString(),
        ),
        data=config.SerializeToString(),
    )
    return common_pb2.Envelope(payload=payload.SerializeToString()).SerializeToString()  # type: ignore[no-any-return]
