"""Update files, their signatures, config blocks, and the embedded orderer's Broadcast servicer."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fabric_protos.common import common_pb2, configtx_pb2
from typer.testing import CliRunner

from fedledger.channelconfig.envelopes import (
    config_of_block,
    last_config_index,
    read_update_file,
    sign_update,
    signer_msp_ids,
    transaction_envelope,
    unsigned_update,
    write_update_file,
)
from fedledger.channelconfig.errors import UpdateFileError, UpdateRefusedError
from fedledger.channelconfig.members import with_org_added
from fedledger.channelconfig.policies import Signer
from fedledger.channelconfig.signatures import verified_signers
from fedledger.channelconfig.update import compute_update
from fedledger.cli.app import app
from fedledger.embedded.blocks import build_block, config_envelope
from fedledger.embedded.broadcast import BroadcastServicer
from fedledger.embedded.identity import Signer as NodeSigner
from fedledger.orgs import OrgLayout
from fedledger.profile import ConnectionProfile, OrgProfile

from .channel_material import CHANNEL, make_crypto, org4_definition, signer, three_org_config


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_crypto(tmp_path_factory.mktemp("crypto"))


@pytest.fixture(scope="module")
def config(crypto: Path) -> configtx_pb2.Config:
    return three_org_config(crypto)


@pytest.fixture
def unsigned(crypto: Path, config: configtx_pb2.Config) -> configtx_pb2.ConfigUpdateEnvelope:
    update = compute_update(config, with_org_added(config, org4_definition(crypto)), CHANNEL)
    return unsigned_update(update)


def test_signatures_verify_as_the_signers_roles(
    crypto: Path, config: configtx_pb2.Config, unsigned: configtx_pb2.ConfigUpdateEnvelope
) -> None:
    signed = sign_update(sign_update(unsigned, signer(crypto, 1)), signer(crypto, 3, "User1"))
    assert signer_msp_ids(signed) == ["Org1MSP", "Org3MSP"]
    assert verified_signers(signed, config) == [
        Signer("Org1MSP", "admin"),
        Signer("Org3MSP", "client"),
    ]


def test_one_identity_signs_once(crypto: Path, unsigned: configtx_pb2.ConfigUpdateEnvelope) -> None:
    signed = sign_update(unsigned, signer(crypto, 2))
    with pytest.raises(UpdateFileError, match="already holds Org2MSP's signature"):
        sign_update(signed, signer(crypto, 2))


def test_a_forged_or_foreign_signature_is_refused(
    crypto: Path, config: configtx_pb2.Config, unsigned: configtx_pb2.ConfigUpdateEnvelope
) -> None:
    signed = sign_update(unsigned, signer(crypto, 1))
    signed.config_update = signed.config_update + b"\x00"
    with pytest.raises(UpdateRefusedError, match="signature 1 of the update: the signature does"):
        verified_signers(signed, config)
    outsider = sign_update(unsigned, signer(crypto, 4))  # Org4 is not a member yet
    with pytest.raises(UpdateRefusedError, match="MSP 'Org4MSP' is not a member of the channel"):
        verified_signers(outsider, config)


def test_update_files_round_trip_and_garbage_is_named(
    tmp_path: Path, unsigned: configtx_pb2.ConfigUpdateEnvelope
) -> None:
    path = tmp_path / "update.pb"
    write_update_file(path, unsigned)
    envelope, update = read_update_file(path)
    assert envelope == unsigned
    assert update.channel_id == CHANNEL
    (tmp_path / "junk.pb").write_bytes(b"\xff\xff\xff")
    with pytest.raises(UpdateFileError, match=r"junk\.pb is not a configuration update file"):
        read_update_file(tmp_path / "junk.pb")
    with pytest.raises(UpdateFileError, match="`fedledger channel add-org` or `remove-org`"):
        read_update_file(tmp_path / "none.pb")


def _orderer(crypto: Path) -> NodeSigner:
    return NodeSigner.from_msp(OrgLayout.under(crypto, "org1.test").peer(0).msp, "Org1MSP")


def test_blocks_name_their_last_config_and_config_blocks_hold_it(
    crypto: Path, config: configtx_pb2.Config
) -> None:
    now = common_pb2.ChannelHeader().timestamp
    envelope = config_envelope(CHANNEL, config, now)
    block = build_block(7, b"p", [envelope], [0], _orderer(crypto), b"n" * 24, last_config=7)
    assert last_config_index(block) == 7
    assert config_of_block(block) == config
    plain = build_block(8, b"p", [b"tx"], [0], _orderer(crypto), b"n" * 24, last_config=7)
    assert last_config_index(plain) == 7
    other = transaction_envelope(CHANNEL, common_pb2.ENDORSER_TRANSACTION, b"", signer(crypto, 1))
    tx_block = build_block(9, b"p", [other.SerializeToString()], [0], _orderer(crypto), b"n" * 24)
    with pytest.raises(UpdateFileError, match="block 9 is not a config block"):
        config_of_block(tx_block)


@pytest.mark.parametrize(
    ("channel", "header_type", "status", "info"),
    [
        ("elsewhere", common_pb2.CONFIG_UPDATE, common_pb2.BAD_REQUEST, "system channel is not"),
        (CHANNEL, common_pb2.MESSAGE, common_pb2.BAD_REQUEST, "does not accept MESSAGE messages"),
        (CHANNEL, common_pb2.CONFIG_UPDATE, common_pb2.SUCCESS, ""),
    ],
)
def test_broadcast_hands_each_type_to_its_handler(
    crypto: Path, channel: str, header_type: int, status: int, info: str
) -> None:
    from fabric_protos.orderer import ab_pb2

    seen = []

    async def handler(
        envelope: common_pb2.Envelope, payload: common_pb2.Payload
    ) -> ab_pb2.BroadcastResponse:
        seen.append(payload.data)
        return ab_pb2.BroadcastResponse(status=common_pb2.SUCCESS)

    servicer = BroadcastServicer(CHANNEL, {common_pb2.CONFIG_UPDATE: handler})
    envelope = transaction_envelope(channel, header_type, b"update", signer(crypto, 1))
    reply = asyncio.run(servicer.one(envelope))
    assert (reply.status, info in reply.info) == (status, True)
    assert seen == ([b"update"] if status == common_pb2.SUCCESS else [])


def test_submit_without_an_orderer_in_the_profile_says_what_to_add(
    crypto: Path, tmp_path: Path, unsigned: configtx_pb2.ConfigUpdateEnvelope
) -> None:
    layout = OrgLayout.under(crypto, "org1.test")
    profile = ConnectionProfile(
        "net",
        "fabric",
        CHANNEL,
        "cc",
        {"Org1MSP": OrgProfile.from_material("Org1MSP", layout, "h:1")},
    )
    profile.write(tmp_path / "profile.yaml")
    write_update_file(tmp_path / "update.pb", unsigned)
    result = CliRunner().invoke(
        app,
        ["channel", "submit-update", str(tmp_path / "update.pb"), "--as", "Org1MSP",
         "--profile", str(tmp_path / "profile.yaml")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "lists no orderers: add an `orderers:` entry" in result.output
