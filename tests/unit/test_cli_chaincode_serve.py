"""`fedledger chaincode serve`: what the shim is started with, without starting it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger.cli.app import app
from fedledger.runtime.chaincode_server import chaincode_server

runner = CliRunner()
LEVELS = ("CORE_CHAINCODE_LOGGING_LEVEL", "CORE_CHAINCODE_LOGGING_SHIM")


class ReplacedError(Exception):
    """Stands for the process image the command would have replaced itself with."""


def _serve(source: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str], dict[str, str]]:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    chaincode_server(source).parent.mkdir(parents=True)
    chaincode_server(source).write_text("")
    started: list[tuple[str, list[str], dict[str, str]]] = []

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        started.append((path, argv, env))
        raise ReplacedError

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setattr(os, "chdir", lambda _: None)
    args = ["--package-id", "cc_1:ab", "--address", "127.0.0.1:9999", "--source", str(source)]
    result = runner.invoke(app, ["chaincode", "serve", *args])
    assert isinstance(result.exception, ReplacedError), result.output
    assert "chaincode service cc_1:ab listening on 127.0.0.1:9999" in result.stderr
    [call] = started
    return call


def test_the_service_logs_warnings_only_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in LEVELS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOMETHING_OF_THE_OPERATOR", "kept")
    _, argv, env = _serve(tmp_path, monkeypatch)
    assert {name: env[name] for name in LEVELS} == dict.fromkeys(LEVELS, "warning")
    assert env["SOMETHING_OF_THE_OPERATOR"] == "kept"
    assert argv[-4:] == ["--chaincode-address", "127.0.0.1:9999", "--chaincode-id", "cc_1:ab"]


def test_the_operators_logging_levels_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORE_CHAINCODE_LOGGING_LEVEL", "debug")
    monkeypatch.delenv("CORE_CHAINCODE_LOGGING_SHIM", raising=False)
    _, _, env = _serve(tmp_path, monkeypatch)
    assert env["CORE_CHAINCODE_LOGGING_LEVEL"] == "debug"
    assert env["CORE_CHAINCODE_LOGGING_SHIM"] == "warning"
