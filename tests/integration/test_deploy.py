"""`fedledger deploy` on a Fabric network it did not set up for this chaincode, each organisation
with only its own admin keys (docs/deploy.md).

The session's native network runs fedledger's chaincode already; these tests deploy a second
chaincode name onto its channel the way three separate organisations would: each from its own
folder holding its own admin MSP and the others' public TLS CA certificates, each starting its
own chaincode service on an address it chose.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from fedledger.cli.app import app
from fedledger.fabric import connect
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.health import wait_for

from .conftest import Ledger
from .everywhere import profile_caught_up
from .multi_host import member_folder
from .ports import free_port

pytestmark = [pytest.mark.ledger, pytest.mark.slow, pytest.mark.fabric]
runner = CliRunner()
ORGS = ("Org1MSP", "Org2MSP", "Org3MSP")


class Organisations:
    """The three organisations' folders, their services, and `fedledger deploy` as each."""

    def __init__(self, ledger: Ledger, root: Path, chaincode: str) -> None:
        self.ledger = ledger
        self.folders = {msp: member_folder(ledger.profile, root, msp, chaincode) for msp in ORGS}
        self.addresses = {msp: f"127.0.0.1:{free_port()}" for msp in ORGS}
        self.orderer = ledger.network.commands.orderer_args()
        self.services: dict[str, subprocess.Popen[bytes]] = {}

    def deploy(self, msp_id: str, *extra: str, source: Path | None = None) -> Result:
        """`fedledger deploy` as `msp_id`: Org1MSP names the orderer on the command line, the
        others use their profile's."""
        folder = self.folders[msp_id]
        args = [
            "deploy", "--profile", str(folder / "profile.yaml"), "--as", msp_id,
            "--service-address", self.addresses[msp_id],
            "--packages", str(folder / "packages"),
        ]  # fmt: skip
        if msp_id == "Org1MSP":
            args += ["--orderer", self.orderer[1], "--orderer-tls-ca", self.orderer[4]]
        if source is not None:
            args += ["--source", str(source)]
        result = runner.invoke(app, [*args, *extra])
        # Its approval or commit waited for its own peer only; the next deploy is another
        # organisation's, which reads the approvals through its own peer.
        profile_caught_up(self.ledger.profile)
        return result

    def serve(self, msp_id: str, package_id: str, source: Path | None = None) -> None:
        """Start (or restart) the organisation's chaincode service as `chaincode serve` says."""
        self.stop(msp_id)
        args = ["chaincode", "serve", "--package-id", package_id]
        args += ["--address", self.addresses[msp_id]]
        if source is not None:
            args += ["--source", str(source)]
        log = (self.folders[msp_id] / "service.log").open("ab")
        self.services[msp_id] = subprocess.Popen(
            [sys.executable, "-m", "fedledger", *args], stdout=log, stderr=log
        )

    def stop(self, msp_id: str) -> None:
        running = self.services.pop(msp_id, None)
        if running is not None:
            running.terminate()
            running.wait(timeout=10)

    def stop_all(self) -> None:
        for msp_id in list(self.services):
            self.stop(msp_id)


def package_id(result: Result) -> str:
    for line in result.output.splitlines():
        if "chaincode serve --package-id" in line:
            return line.split("--package-id ")[1].split()[0]
    raise AssertionError(f"no package id in:\n{result.output}")


def ping(ledger: Ledger, chaincode: str, msp_id: str, *, submit: bool) -> bytes:
    with connect(ledger.profile, msp_id) as gateway:
        contract = gateway.network(ledger.profile.channel).contract(chaincode)
        name = f"deploy-{uuid.uuid4().hex[:6]}"
        if submit:
            return contract.submit("health:Beat", [name])
        return contract.evaluate("health:Beat", [name])


def answers(ledger: Ledger, chaincode: str, msp_id: str, *, submit: bool = False) -> bool:
    try:
        ping(ledger, chaincode, msp_id, submit=submit)
    except Exception:  # waiting for the services: any failure means "not yet"
        return False
    return True


@pytest.fixture
def organisations(fabric_ledger: Ledger, tmp_path: Path) -> Iterator[Organisations]:
    chaincode = f"ext-{uuid.uuid4().hex[:6]}"
    orgs = Organisations(fabric_ledger, tmp_path, chaincode)
    yield orgs
    orgs.stop_all()


def changed_build(tmp_path: Path) -> Path:
    """The chaincode with one byte more in a built file (a new build, a new label), sharing
    the original's node_modules."""
    original = NetworkDefinition.load().chaincode_source
    copy = tmp_path / "chaincode-next"
    copy.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(original / name, copy / name)
    shutil.copytree(original / "dist", copy / "dist")
    (copy / "node_modules").symlink_to(original / "node_modules")
    index = copy / "dist" / "index.js"
    index.write_text(index.read_text() + "\n// next build\n")
    return copy


def test_each_organisation_deploys_with_its_own_admin_and_a_majority_commits(
    organisations: Organisations, tmp_path: Path
) -> None:
    orgs, ledger = organisations, organisations.ledger
    chaincode = yaml.safe_load((orgs.folders["Org1MSP"] / "profile.yaml").read_text())["chaincode"]

    first = orgs.deploy("Org1MSP")
    assert first.exit_code == 0, first.output
    assert "installed" in first.output
    assert "approved now by Org1MSP" in first.output
    assert "approvals: Org1MSP yes, Org2MSP no, Org3MSP no" in first.output
    assert "sequence 1 " in first.output

    too_early = orgs.deploy("Org1MSP", "--commit")
    assert too_early.exit_code == 1
    assert "approved by 1 of 3 organisations" in too_early.output
    assert "waiting for Org2MSP, Org3MSP" in too_early.output

    second = orgs.deploy("Org2MSP", "--commit")
    assert second.exit_code == 0, second.output
    assert "committed now" in second.output
    for msp in ("Org1MSP", "Org2MSP"):
        result = first if msp == "Org1MSP" else second
        orgs.serve(msp, package_id(result))
    wait_for(lambda: answers(ledger, chaincode, "Org1MSP", submit=True), "a submit", 60)

    late = orgs.deploy("Org3MSP")
    assert late.exit_code == 0, late.output
    assert "sequence 1 " in late.output
    assert "approved now by Org3MSP" in late.output
    assert "committed" in late.output
    orgs.serve("Org3MSP", package_id(late))
    wait_for(lambda: answers(ledger, chaincode, "Org3MSP"), "Org3MSP's own peer answers", 60)

    again = orgs.deploy("Org3MSP")
    assert again.exit_code == 0, again.output
    assert "already installed" in again.output
    assert "already approved" in again.output

    source = changed_build(tmp_path)
    upgraded = orgs.deploy("Org1MSP", source=source)
    assert upgraded.exit_code == 0, upgraded.output
    assert "sequence 2 " in upgraded.output
    assert "approved now" in upgraded.output
    committed = orgs.deploy("Org2MSP", "--commit", source=source)
    assert committed.exit_code == 0, committed.output
    assert "sequence 2 " in committed.output
    assert "committed now" in committed.output
    for msp, result in (("Org1MSP", upgraded), ("Org2MSP", committed)):
        orgs.serve(msp, package_id(result), source)
    wait_for(lambda: answers(ledger, chaincode, "Org2MSP", submit=True), "a submit at 2", 60)


def test_a_deploy_without_an_admin_identity_says_which_is_missing(
    organisations: Organisations,
) -> None:
    result = runner.invoke(
        app,
        [
            "deploy", "--profile", str(organisations.folders["Org1MSP"] / "profile.yaml"),
            "--as", "Org2MSP",
        ],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "organisation Org2MSP has no identity 'admin' (known: none)" in result.output
