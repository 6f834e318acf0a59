"""An orderer's checks of a config update: read-set versions, version steps, modification
policies over the verified signers, and the configuration that results."""

from __future__ import annotations

from pathlib import Path

import pytest
from fabric_protos.common import configtx_pb2

from fedledger.channelconfig.errors import PolicyNotSatisfiedError, UpdateRefusedError
from fedledger.channelconfig.members import application, with_org_added, with_org_removed
from fedledger.channelconfig.policies import Signer, evaluate
from fedledger.channelconfig.update import compute_update
from fedledger.channelconfig.validation import apply_update

from .channel_material import CHANNEL, make_crypto, org4_definition, three_org_config

ADMINS = [Signer(f"Org{i}MSP", "admin") for i in (1, 2, 3)]


@pytest.fixture(scope="module")
def crypto(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_crypto(tmp_path_factory.mktemp("crypto"))


@pytest.fixture(scope="module")
def current(crypto: Path) -> configtx_pb2.Config:
    return three_org_config(crypto)


@pytest.fixture(scope="module")
def add_org4(crypto: Path, current: configtx_pb2.Config) -> configtx_pb2.ConfigUpdate:
    return compute_update(current, with_org_added(current, org4_definition(crypto)), CHANNEL)


@pytest.mark.parametrize(
    ("path", "name", "signers", "satisfied"),
    [
        (("Application",), "Admins", ADMINS[:2], True),
        (("Application",), "Admins", ADMINS[:1], False),
        # A client is no admin, and one admin signing twice counts once.
        (("Application",), "Admins", [ADMINS[0], Signer("Org2MSP", "client")], False),
        (("Application",), "Admins", [ADMINS[0], ADMINS[0]], False),
        (("Application",), "Readers", [Signer("Org3MSP", "peer")], True),
        (("Application",), "Writers", [Signer("Org3MSP", "peer")], False),
        ((), "Writers", [Signer("OrdererMSP", "orderer")], True),  # orderer.member
        ((), "Admins", ADMINS, False),  # MAJORITY of Application and Orderer Admins: 2 of 2
        ((), "Admins", [*ADMINS[:2], Signer("OrdererMSP", "admin")], True),
        (("Application", "Org2MSP"), "Endorsement", [Signer("Org2MSP", "peer")], True),
        (("Application", "Org2MSP"), "Endorsement", [Signer("Org1MSP", "peer")], False),
    ],
)
def test_policies_as_fabric_evaluates_them(
    current: configtx_pb2.Config,
    path: tuple[str, ...],
    name: str,
    signers: list[Signer],
    satisfied: bool,
) -> None:
    assert evaluate(current.channel_group, path, name, signers).satisfied is satisfied


def test_two_of_three_admins_add_an_org(
    current: configtx_pb2.Config, add_org4: configtx_pb2.ConfigUpdate
) -> None:
    updated = apply_update(current, add_org4, ADMINS[1:])
    assert updated.sequence == current.sequence + 1
    assert sorted(application(updated).groups) == ["Org1MSP", "Org2MSP", "Org3MSP", "Org4MSP"]
    assert application(updated).version == 1
    assert application(updated).groups["Org1MSP"] == application(current).groups["Org1MSP"]
    assert updated.channel_group.groups["Orderer"] == current.channel_group.groups["Orderer"]


def test_one_admin_is_refused_naming_who_must_still_sign(
    current: configtx_pb2.Config, add_org4: configtx_pb2.ConfigUpdate
) -> None:
    with pytest.raises(PolicyNotSatisfiedError) as refused:
        apply_update(current, add_org4, ADMINS[:1])
    assert str(refused.value) == (
        "the signatures do not satisfy /Channel/Application/Admins (MAJORITY Admins: 2 of the 3 "
        "Admins policies of Org1MSP, Org2MSP, Org3MSP), the modification policy of "
        "[Group] /Channel/Application: signed by Org1MSP; still to sign: 1 more of Org2MSP, "
        "Org3MSP"
    )
    assert refused.value.missing == ["Org2MSP", "Org3MSP"]


def test_a_stale_update_is_refused(
    current: configtx_pb2.Config, add_org4: configtx_pb2.ConfigUpdate
) -> None:
    after = apply_update(current, add_org4, ADMINS)
    with pytest.raises(
        UpdateRefusedError,
        match=r"read \[Group\] /Channel/Application at version 0, but the channel's is at "
        "version 1",
    ):
        apply_update(after, add_org4, ADMINS)


def test_a_version_that_skips_is_refused(
    current: configtx_pb2.Config, add_org4: configtx_pb2.ConfigUpdate
) -> None:
    skipping = configtx_pb2.ConfigUpdate()
    skipping.CopyFrom(add_org4)
    skipping.write_set.groups["Application"].version = 2
    with pytest.raises(UpdateRefusedError, match="is at version 0 and must be written at 1, not 2"):
        apply_update(current, skipping, ADMINS)


def test_removal_drops_the_org_and_nothing_else(current: configtx_pb2.Config) -> None:
    update = compute_update(current, with_org_removed(current, "Org3MSP"), CHANNEL)
    updated = apply_update(current, update, ADMINS[:2])
    assert sorted(application(updated).groups) == ["Org1MSP", "Org2MSP"]
    assert application(updated).policies == application(current).policies
