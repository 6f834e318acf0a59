"""Paths inside files: relative to the file's folder, whoever reads it and from wherever."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fedledger.paths import read_path, with_written_paths, written_path
from fedledger.profile import ConnectionProfile, GatewayEndpoint, OrgProfile


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("crypto/ca.pem", "run/crypto/ca.pem"),
        ("./crypto/../crypto/ca.pem", "run/crypto/ca.pem"),
        ("../data/holdout.csv", "data/holdout.csv"),
    ],
)
def test_a_relative_path_is_read_from_the_files_folder(
    value: str, expected: str, tmp_path: Path
) -> None:
    assert read_path(value, tmp_path / "run") == tmp_path / expected


def test_an_absolute_path_is_read_as_it_is(tmp_path: Path) -> None:
    assert read_path(str(tmp_path / "x.pem"), tmp_path / "run") == tmp_path / "x.pem"


def test_home_is_expanded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert read_path("~/holdout.csv", Path("/elsewhere")) == tmp_path / "holdout.csv"


def test_a_read_path_does_not_depend_on_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    first = read_path("crypto/ca.pem", Path(".fedledger"))
    monkeypatch.chdir(tmp_path.parent)
    assert first == tmp_path / ".fedledger" / "crypto" / "ca.pem"
    assert first.is_absolute()


@pytest.mark.parametrize(
    ("target", "written"),
    [
        ("run/crypto/ca.pem", "crypto/ca.pem"),
        ("run/ca.pem", "ca.pem"),
        ("data/holdout.csv", "{tmp}/data/holdout.csv"),  # not below: absolute, never ../
    ],
)
def test_a_written_path_is_relative_only_below_the_files_folder(
    target: str, written: str, tmp_path: Path
) -> None:
    assert written_path(tmp_path / target, tmp_path / "run") == written.format(tmp=tmp_path)


def test_what_is_written_reads_back_to_the_same_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = Path(".fedledger/validators/Org1MSP")  # relative, as the defaults are
    targets = [Path(".fedledger/crypto/ca.pem"), folder / "state", tmp_path / "holdout.csv"]
    document = with_written_paths({"paths": targets, "nested": {"one": targets[0]}}, folder)
    monkeypatch.chdir("/")
    read = [read_path(value, tmp_path / folder) for value in document["paths"]]
    assert read == [tmp_path / t for t in targets]
    assert document["nested"]["one"] == str(tmp_path / ".fedledger/crypto/ca.pem")


def test_a_profile_written_from_a_relative_run_folder_loads_from_anywhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    run = Path(".fedledger")
    crypto = run / "crypto" / "org1"
    crypto.mkdir(parents=True)
    (crypto / "tlsca.pem").write_text("x")  # the profile's files must exist when it is read
    org = OrgProfile(
        "Org1MSP",
        GatewayEndpoint("127.0.0.1:7051", "peer0.org1", crypto / "tlsca.pem"),
        {"user": crypto / "users" / "User1" / "msp"},
    )
    ConnectionProfile("n", "embedded", "ch", "cc", {"Org1MSP": org}).write(run / "profile.yaml")
    written = yaml.safe_load((run / "profile.yaml").read_text())
    assert written["organizations"]["Org1MSP"]["gateway"]["tlsCaCert"] == "crypto/org1/tlsca.pem"
    monkeypatch.chdir("/")
    loaded = ConnectionProfile.load(tmp_path / ".fedledger" / "profile.yaml")
    assert loaded.org("Org1MSP").gateway.tls_ca_cert == tmp_path / crypto / "tlsca.pem"
