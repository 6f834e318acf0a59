"""`fedledger channel create --legacy` where there is no system channel: the embedded ledger and a
Fabric 2.5 orderer (channel participation) refuse a channel creation transaction alike, in
Fabric's words. Its success on Fabric 2.2 is in test_fabric22_network.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fedledger.cli.app import app

from .legacy_channel import create_legacy, write_org_files

pytestmark = [pytest.mark.ledger, pytest.mark.slow]


def test_an_orderer_without_a_system_channel_refuses_a_creation(
    ledger: Any, tmp_path: Path
) -> None:
    crypto = ledger.profile.path.parent / "crypto"
    files = write_org_files(crypto, ledger.definition, tmp_path / "orgs")
    block = tmp_path / "second.block"
    refused = create_legacy(
        ledger.profile.path, "Org1MSP", *map(str, files), "--channel", "second",
        "--block-out", str(block),
    )  # fmt: skip
    assert refused.exit_code == 1
    orderer = ledger.profile.orderers[0].endpoint
    assert " ".join(refused.output.split()) == (
        f"error: orderer {orderer} refused the update: BAD_REQUEST: channel creation request "
        "not allowed because the orderer system channel is not defined"
    )
    assert not block.exists()


def test_create_without_legacy_or_orderer_org_says_what_is_needed(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["channel", "create", str(tmp_path / "org1.json"), "--as", "Org1MSP"]
    )
    assert result.exit_code == 1
    assert " ".join(result.output.split()) == (
        "error: give --orderer-org FILE, the ordering organisation's file (`fedledger orderer "
        "export`), to write the genesis block for channel participation (Fabric 2.3+); or "
        "--legacy and --as to create the channel by a creation transaction on a system channel "
        "(Fabric 2.2)"
    )


def test_create_legacy_without_as_names_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["channel", "create", str(tmp_path / "org1.json"), "--legacy"])
    assert result.exit_code == 1
    assert " ".join(result.output.split()) == (
        "error: --legacy needs --as ORG: the member admin who signs the channel's creation"
    )
