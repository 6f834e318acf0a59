"""`fedledger network compose` with a Fabric installation: every file the compose file mounts is
written, each node's configuration file and environment hold the native node's settings, and
the compose file's Fabric services, run as native processes with their own environment and
mounts, make a network that commits a transaction through the Gateway, whose validators decide
a proposal, and on which the demo runs (docs/docker-compose.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from sklearn.linear_model import LogisticRegression

from fedledger.demo.data import OrgData, demo_schema, split_between
from fedledger.demo.story import policy
from fedledger.fabric import connect
from fedledger.installation import find_installation
from fedledger.models.conversion import convert
from fedledger.models.train import train
from fedledger.network.compose import CONTAINER_ROOT, PEER_IMAGE_CCAAS_BUILDER
from fedledger.network.compose_env import (
    ORDERER_PREFIX,
    PEER_PREFIX,
    apply_environment,
    flatten,
)
from fedledger.network.compose_folder import RUN_FOLDER, deploy_on_compose, write_compose
from fedledger.network.nodeconfig import ALL_INTERFACES, LOCALHOST
from fedledger.network.nodes import NodeSet
from fedledger.network.peercli import FabricCommands
from fedledger.network.validators import NetworkValidators, ValidatorsSpec
from fedledger.profile import ConnectionProfile
from fedledger.proposing import propose_model, wait_for_decision
from fedledger.registry import open_registry
from fedledger.runtime import health
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.layout import RunLayout
from fedledger.runtime.ports import free_port_base
from fedledger.store.factory import open_store

from .compose_native import NativeServices, namespaces_work
from .conftest import skip_without_fabric
from .everywhere import profile_caught_up

pytestmark = [pytest.mark.fabric]


def compose(
    tmp_path: Path, holdouts: dict[str, Path] | None = None
) -> tuple[NetworkDefinition, Path, dict[str, Any]]:
    """The default topology on a free port block, written with a validator for every
    organisation serving task credit-risk (on `holdouts` by organisation, when given); the
    definition, the compose folder and the compose document."""
    skip_without_fabric()
    definition = NetworkDefinition.load().with_overrides(port_base=free_port_base())
    holdout = tmp_path / "holdout.csv"
    holdout.write_text("x,y\n1,0\n")
    validators = ValidatorsSpec(
        None,
        {
            m.msp_id: {"credit-risk": (holdouts or {}).get(m.msp_id, holdout)}
            for m in definition.members
        },
    )
    out = tmp_path / "compose"
    write_compose(find_installation(), definition, out, validators)
    document = yaml.safe_load((out / "docker-compose.yaml").read_text())
    return definition, out, document


def test_every_mounted_file_exists_and_holds_the_native_settings(tmp_path: Path) -> None:
    definition, out, document = compose(tmp_path)
    for name, service in document["services"].items():
        for volume in service.get("volumes", []):
            source = out / volume.split(":")[0]
            assert source.exists(), f"{name} mounts {source}, which `network compose` did not write"
    native = RunLayout(tmp_path / "native")
    installation = find_installation()
    NodeSet(FabricCommands(installation, definition, native)).write_configs()
    hosts = list(document["services"])
    compared = 0
    for name, service in document["services"].items():
        if not str(service.get("image", "")).startswith("hyperledger/"):
            continue
        file = "core.yaml" if "peer" in service["command"] else "orderer.yaml"
        prefix = PEER_PREFIX if file == "core.yaml" else ORDERER_PREFIX
        mounted = out / RUN_FOLDER / "nodes" / name / file
        theirs = flatten(yaml.safe_load((native.node(name) / file).read_text()))
        env = {key: str(value) for key, value in service["environment"].items()}
        in_file = flatten(yaml.safe_load(mounted.read_text()))
        ours = apply_environment(in_file, env, prefix, known=theirs)
        assert set(ours) == set(theirs), name
        for key, value in ours.items():
            compared += 1
            if str(value) == str(theirs[key]):
                continue
            expected = native_value(value, hosts, native.root, installation.ccaas_builder)
            assert str(expected) == str(theirs[key]), (name, key, value, theirs[key])
    assert compared > 600  # every setting of the sample files (634 on 2.5.16), not only ours


def native_value(value: Any, hosts: list[str], root: Path, builder: Path) -> Any:
    """A compose setting as the native network holds it: the documented differences undone."""
    if isinstance(value, list):
        return [native_value(item, hosts, root, builder) for item in value]
    if isinstance(value, dict):
        return {key: native_value(item, hosts, root, builder) for key, item in value.items()}
    if not isinstance(value, str):
        return value
    text = value.replace(str(PEER_IMAGE_CCAAS_BUILDER), str(builder))
    text = text.replace(str(CONTAINER_ROOT), str(root))
    for host in [*hosts, ALL_INTERFACES]:
        text = re.sub(rf"^{re.escape(host)}(?=:|$)", LOCALHOST, text)
    return text


@pytest.mark.slow
@pytest.mark.timeout(480)
def test_the_compose_services_run_natively_to_decided_proposals(tmp_path: Path) -> None:
    if not namespaces_work():
        pytest.skip("needs `unshare --mount --map-root-user` (user namespaces) to mount volumes")
    members = [m.msp_id for m in NetworkDefinition.load().members]
    data = split_between(members, 3000, tmp_path / "data")
    definition, out, document = compose(tmp_path, {m: data[m].holdout_path for m in members})
    services = NativeServices(
        out,
        document["services"],
        find_installation(),
        definition.chaincode_source,
        tmp_path / "logs",
    )
    started = time.monotonic()
    try:
        for name, service in document["services"].items():
            if "profiles" not in service:  # the validators need a task on the ledger first
                services.start(name)
        for i in range(len(definition.members)):
            port = definition.peer_ports(i).operations
            health.wait_for(lambda p=port: health.healthz(p) or None, f"peer {i} healthy", 60)  # type: ignore[misc]
        assert services.exited() == {}, {n: services.log_tail(n) for n in services.exited()}
        healthy = time.monotonic() - started
        deployment = deploy_on_compose(find_installation(), definition, out / RUN_FOLDER, 120)
        deployed = time.monotonic() - started
        profile = ConnectionProfile.load(out / RUN_FOLDER / "connection-profile.yaml")
        name = f"compose-{uuid.uuid4().hex[:8]}"
        with connect(profile, "Org1MSP") as gateway:
            contract = gateway.network(profile.channel).contract(profile.chaincode)
            assert contract.submit("health:Beat", [name]) == b"1"
        with connect(profile, "Org3MSP") as gateway:
            contract = gateway.network(profile.channel).contract(profile.chaincode)
            assert contract.evaluate("health:Beat", [name]) == b"2"
        committed = time.monotonic() - started
        listed = subprocess.run(
            [sys.executable, "-m", "fedledger", "task", "list"],
            env={**os.environ, "FEDLEDGER_RUN_DIR": str(out / RUN_FOLDER)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert listed.returncode == 0, listed.stderr  # the ledger commands, as the docs give them
        status = run_cli("network", "status", "--profile", str(profile.path))
        assert status.returncode == 0, status.stderr
        rows = [line for line in status.stdout.splitlines() if ".fedledger.local" in line]
        assert len(rows) == 3
        assert all("healthy" in row and "unhealthy" not in row for row in rows), status.stdout
        assert deployment.sequence == 1
        print(f"compose services natively: healthy {healthy:.1f} s, channel joined and chaincode"
              f" ready {deployed:.1f} s, first Gateway commit {committed:.1f} s")  # fmt: skip
        decided_by_compose_validators(services, document, profile, data, out / RUN_FOLDER)
        print(f"proposal decided by the compose validators {time.monotonic() - started:.1f} s")
        demo_on_compose(out, profile)
        print(f"demo on the compose network done {time.monotonic() - started:.1f} s")
        assert services.exited() == {}, {n: services.log_tail(n) for n in services.exited()}
    finally:
        services.stop()


def decided_by_compose_validators(
    services: NativeServices,
    document: dict[str, Any],
    profile: ConnectionProfile,
    data: dict[str, OrgData],
    run_folder: Path,
) -> None:
    """Task credit-risk on the ledger, the compose file's validators started with their own
    mounted configuration, and a proposal made from this host, which they decide: rejected,
    since they cannot read a model stored in this host's folder (docs/docker-compose.md)."""
    schema = demo_schema()
    with open_registry(profile, "Org1MSP") as registry:
        registry.create_task(
            "credit-risk",
            schema=schema.to_dict(),
            metric="roc_auc",
            members=profile.msp_ids,
            policy=policy(len(profile.msp_ids)),
        )
    for name, service in document["services"].items():
        if "profiles" in service:
            services.start(name)
    trained = train(schema, data["Org1MSP"].train, LogisticRegression(max_iter=500))
    model = convert(trained, task_id="credit-risk")
    with open_registry(profile, "Org1MSP") as registry:
        proposal = propose_model(registry, open_store(run_folder / "store"), "credit-risk", model)
        decided = wait_for_decision(registry, proposal.id, 120, lambda p: None)
        votes = registry.get_votes(proposal.id)
    logs = {n: services.log_tail(n) for n in document["services"] if n.startswith("validator")}
    assert decided.status == "ACCEPTED", (decided, votes, logs)
    # The model's URI names this host's store folder; each validator reads the same content
    # address in the folder mounted at /var/fedledger/store (store/local.py).
    assert sorted((v.voter, v.decision) for v in votes) == [
        ("Org1MSP", "approve"), ("Org2MSP", "approve"), ("Org3MSP", "approve"),
    ]  # fmt: skip


def demo_on_compose(out: Path, profile: ConnectionProfile) -> None:
    """`fedledger demo --profile` as the docs give it, typed in the compose file's folder: a
    task, two proposals accepted and one rejected by the demo's validators; they stop after."""
    demo = subprocess.run(
        [sys.executable, "-m", "fedledger", "demo", "--rows", "3000", "--profile",
         f"{RUN_FOLDER}/connection-profile.yaml"],
        cwd=out, capture_output=True, text=True, check=False, timeout=360,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert "The demo's validators are stopped" in " ".join(demo.stderr.split())
    profile_caught_up(profile)  # the demo's last decision may be on its decider's peer only
    with open_registry(profile, "Org2MSP") as registry:
        proposals = sorted(registry.all_proposals(task_id="credit-risk-1"), key=lambda p: p.id)
        assert len(proposals) == 3
        statuses = sorted(p.status for p in proposals)
        assert statuses == ["ACCEPTED", "ACCEPTED", "REJECTED"], proposals
        votes = [v for p in proposals for v in registry.get_votes(p.id)]
        assert sorted({v.voter for v in votes}) == ["Org1MSP", "Org2MSP", "Org3MSP"]
        champion = registry.get_champion("credit-risk-1")
    assert (out / RUN_FOLDER / "store").is_dir()
    assert champion.proposal_id in demo.stdout
    kept = NetworkValidators(
        NetworkDefinition.load(), out / RUN_FOLDER, out / RUN_FOLDER / "demo" / "validators"
    )
    assert kept.table.records == {}  # the demo's validators stopped with it


def test_compose_with_its_defaults_writes_into_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    skip_without_fabric()
    monkeypatch.chdir(tmp_path)
    port_base = str(free_port_base())
    written = run_cli("network", "compose", "--orgs", "2", "--port-base", port_base)
    assert written.returncode == 0, written.stderr
    assert "wrote docker-compose.yaml and" in written.stderr
    document = yaml.safe_load((tmp_path / "docker-compose.yaml").read_text())
    assert len(document["services"]) == 1 + 3 * 2
    chaincode = document["services"]["chaincode.org1.fedledger.local"]["build"]["context"]
    assert (tmp_path / chaincode / "package.json").is_file()  # relative to the compose file
    profile = ConnectionProfile.load(tmp_path / RUN_FOLDER / "connection-profile.yaml")
    assert profile.org("Org2MSP").gateway.endpoint == f"127.0.0.1:{int(port_base) + 110}"


def test_compose_refuses_validators_of_an_unknown_organisation(tmp_path: Path) -> None:
    skip_without_fabric()
    spec = tmp_path / "validators.yaml"
    (tmp_path / "holdout.csv").write_text("x,y\n1,0\n")
    spec.write_text("organizations:\n  Org9MSP:\n    tasks:\n      t: holdout.csv\n")
    refused = run_cli("network", "compose", "--validators", str(spec), "--out", str(tmp_path))
    assert refused.returncode == 1
    assert " ".join(refused.stderr.split()) == (
        "error: no organisation Org9MSP in the network (known: Org1MSP, Org2MSP, Org3MSP)"
    )
    assert not (tmp_path / RUN_FOLDER).exists()  # nothing written


def test_the_demo_refuses_a_profile_that_is_not_there(tmp_path: Path) -> None:
    missing = tmp_path / RUN_FOLDER / "connection-profile.yaml"
    refused = run_cli("demo", "--profile", str(missing))
    assert refused.returncode == 1
    assert " ".join(refused.stderr.split()) == (
        f"error: no connection profile at {missing}: start a network with `fedledger network up`"
        " or write one (docs/connection-profile.md)"
    )
    assert not (tmp_path / RUN_FOLDER).exists()  # no demo folder, no validators


def test_status_of_a_profile_whose_peers_do_not_answer(tmp_path: Path) -> None:
    _, out, _ = compose(tmp_path)  # written, not started
    status = run_cli(
        "network", "status", "--profile", str(out / RUN_FOLDER / "connection-profile.yaml")
    )
    assert status.returncode == 3, status.stderr
    rows = [line for line in status.stdout.splitlines() if ".fedledger.local" in line]
    assert len(rows) == 3
    assert all("stopped" in row for row in rows)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedledger", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
