"""`fedledger identity`: options refused before any request, with the option named."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger.cli.app import app

runner = CliRunner()


def _error(args: list[str]) -> str:
    result = runner.invoke(app, ["identity", *args])
    assert result.exit_code == 1, result.output
    return " ".join(result.stderr.split())


def test_attributes_must_be_name_value() -> None:
    args = ["register", "--ca-url", "https://ca:7054", "--as", "msp", "--id", "u"]
    assert _error([*args, "--attrs", "dept=risk,hf.Revoker"]) == (
        "error: --attrs 'hf.Revoker' is not name=value (e.g. --attrs hf.Revoker=true,dept=risk)"
    )


def test_an_unknown_identity_type_is_named() -> None:
    args = ["register", "--ca-url", "https://ca:7054", "--as", "msp", "--id", "u"]
    assert _error([*args, "--type", "user"]) == (
        "error: --type 'user' is not one of client, peer, admin, orderer"
    )


def test_a_registrar_folder_without_an_identity(tmp_path: Path) -> None:
    args = ["register", "--ca-url", "https://ca:7054", "--as", str(tmp_path), "--id", "u"]
    assert _error(args) == (
        f"error: {tmp_path / 'signcerts'} does not exist: an MSP folder needs signcerts/"
    )


@pytest.mark.parametrize("url", ["ca.org1:7054", "ftp://ca.org1"])
def test_a_malformed_ca_url(url: str) -> None:
    assert _error(["enroll", "--ca-url", url, "--id", "admin", "--secret", "pw"]) == (
        f"error: --ca-url {url!r} is not a CA address like https://ca.org1.example.com:7054"
    )


def test_enroll_refuses_a_folder_that_holds_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("admin/msp/keystore").mkdir(parents=True)
    Path("admin/msp/keystore/priv_sk").write_text("the only copy")
    assert _error(["enroll", "--ca-url", "https://ca:7054", "--id", "admin", "--secret", "pw"]) == (
        "error: admin/msp already holds an identity (admin/msp/keystore exists): choose another "
        "--msp-dir, or move that folder away first"
    )
    assert Path("admin/msp/keystore/priv_sk").read_text() == "the only copy"
