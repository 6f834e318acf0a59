"""The `fedledger` command line: its error paths say what happened and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger import __version__
from fedledger.cli.app import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"fedledger {__version__}"


@pytest.mark.parametrize("command", ["status", "down"])
def test_commands_on_an_empty_run_dir_say_how_to_start(command: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["network", command, "--run-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no network in {tmp_path}" in result.output
    assert "fedledger network up" in result.output


def test_fabric_ledger_without_installation_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FABRIC_HOME", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    result = runner.invoke(
        app, ["network", "up", "--ledger", "fabric", "--run-dir", str(tmp_path / "net")]
    )
    assert result.exit_code == 1
    assert "no Fabric 2.5.16 installation found" in result.output
    assert not (tmp_path / "net" / "network.json").exists()


def test_bad_option_values_are_named(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["network", "up", "--ledger", "embedded", "--orgs", "12", "--run-dir", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert "organizations.count is 12: use 1 to 10" in result.output
    bad = runner.invoke(
        app, ["network", "up", "--batch-timeout", "soon", "--run-dir", str(tmp_path / "b")]
    )
    assert bad.exit_code == 1
    assert "--batch-timeout: 'soon' is not a duration" in bad.output


def test_logs_of_unknown_node_lists_known_ones(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "peer0.org1.fedledger.local.log").write_text("line 1\nline 2\n")
    unknown = runner.invoke(app, ["network", "logs", "peer9", "--run-dir", str(tmp_path)])
    assert unknown.exit_code == 1
    assert "known: peer0.org1.fedledger.local" in unknown.output
    known = runner.invoke(
        app,
        ["network", "logs", "peer0.org1.fedledger.local", "-n", "1", "--run-dir", str(tmp_path)],
    )
    assert known.exit_code == 0
    assert known.stdout.strip() == "line 2"
