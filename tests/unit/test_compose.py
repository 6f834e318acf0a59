"""The docker-compose file: generated from the network definition, the same node settings as the
native network, valid for docker-compose, and the Dockerfiles it builds (docs/docker-compose.md).

Everything here runs without Fabric or Docker; tests/integration/test_compose.py writes the
mounted files with a Fabric installation and runs the compose file's services natively.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from fedledger.network.compose import (
    CONTAINER_ROOT,
    PEER_IMAGE_CCAAS_BUILDER,
    compose_document,
    container_settings,
    render,
)
from fedledger.network.compose_env import (
    ORDERER_ENV_KEYS,
    ORDERER_PREFIX,
    PEER_ENV_KEYS,
    PEER_PREFIX,
    apply_environment,
    env_name,
    flatten,
    split_settings,
)
from fedledger.network.compose_folder import PROJECT_ROOT, sources_for, written_package
from fedledger.network.errors import NetworkError
from fedledger.network.nodeconfig import ALL_INTERFACES, LOCALHOST
from fedledger.network.nodes import Placement, node_overrides
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.layout import RunLayout

COMMITTED = PROJECT_ROOT / "docker-compose.yaml"
NATIVE_ROOT = Path("/home/someone/.fedledger")
NATIVE_BUILDER = Path("/home/someone/fabric/builders/ccaas")

# The settings whose values differ between a node in a container and the same node on the
# native network, by kind (docs/docker-compose.md, "What differs"); paths differ only by the
# run folder's place (CONTAINER_ROOT instead of the native run folder).
LISTEN = {
    "peer.listenAddress",
    "peer.chaincodeListenAddress",
    "operations.listenAddress",
    "General.ListenAddress",
    "Admin.ListenAddress",
    "Operations.ListenAddress",
}
ADVERTISED = {
    "peer.address",
    "peer.chaincodeAddress",
    "peer.gossip.bootstrap",
    "peer.gossip.endpoint",
    "peer.gossip.externalEndpoint",
}
BUILDER = {"chaincode.externalBuilders"}
PATH_KEY_ENDINGS = (
    "file", "files", "Path", "Dir", "Location", "Certificate", "PrivateKey", "RootCAs",
    "ClientCertificate", "ClientPrivateKey",
)  # fmt: skip
ENV_KEYS = {
    "core.yaml": (PEER_ENV_KEYS, PEER_PREFIX),
    "orderer.yaml": (ORDERER_ENV_KEYS, ORDERER_PREFIX),
}


def committed_document(definition: NetworkDefinition) -> str:
    return render(compose_document(definition, sources_for(PROJECT_ROOT, definition)))


def test_the_committed_compose_file_is_the_default_topology() -> None:
    expected = committed_document(NetworkDefinition.load())
    assert COMMITTED.read_text() == expected, (
        "docker-compose.yaml is out of date: run `fedledger network compose` at the "
        "repository's root and commit the file"
    )


@pytest.mark.parametrize(
    ("prefix", "key", "variable"),
    [
        (PEER_PREFIX, "peer.gossip.bootstrap", "CORE_PEER_GOSSIP_BOOTSTRAP"),
        (PEER_PREFIX, "peer.localMspId", "CORE_PEER_LOCALMSPID"),
        (PEER_PREFIX, "operations.listenAddress", "CORE_OPERATIONS_LISTENADDRESS"),
        (ORDERER_PREFIX, "General.ListenPort", "ORDERER_GENERAL_LISTENPORT"),
        (ORDERER_PREFIX, "Admin.ListenAddress", "ORDERER_ADMIN_LISTENADDRESS"),
    ],
)
def test_environment_names_are_fabrics(prefix: str, key: str, variable: str) -> None:
    assert env_name(prefix, key) == variable


def test_a_variable_that_names_no_setting_is_refused() -> None:
    with pytest.raises(KeyError, match="CORE_PEER_GOSIP_BOOTSTRAP names no setting"):
        apply_environment(
            {"peer.gossip.bootstrap": "a"}, {"CORE_PEER_GOSIP_BOOTSTRAP": "b"}, "CORE"
        )


def as_native(value: Any, hosts: list[str]) -> Any:
    """A compose value as the native network would hold it, undoing the documented differences."""
    if isinstance(value, list):
        return [as_native(item, hosts) for item in value]
    if isinstance(value, dict):
        return {key: as_native(item, hosts) for key, item in value.items()}
    if not isinstance(value, str):
        return value
    text = value.replace(str(PEER_IMAGE_CCAAS_BUILDER), str(NATIVE_BUILDER))
    text = text.replace(str(CONTAINER_ROOT), str(NATIVE_ROOT))
    for host in [*hosts, ALL_INTERFACES]:
        text = re.sub(rf"^{re.escape(host)}(?=:|$)", LOCALHOST, text)
    return text


def compare(
    ours: dict[str, Any], theirs: dict[str, Any], hosts: list[str], kinds: dict[str, set[str]]
) -> None:
    """Compose settings `ours` against native `theirs`, key by key: equal once the documented
    differences are undone; each differing key noted under its kind."""
    assert set(ours) == set(theirs)
    for key, value in ours.items():
        expected = theirs[key]
        if str(value) == str(expected):
            continue
        assert str(as_native(value, hosts)) == str(expected), (key, value, expected)
        kinds.setdefault(_kind(value), set()).add(key)


def differences(definition: NetworkDefinition) -> dict[str, set[str]]:
    """Every Fabric node's settings in the compose file (its file's part, then its environment)
    against the native network's (`node_overrides`); the keys that differ, by kind."""
    document = compose_document(definition, sources_for(PROJECT_ROOT, definition))
    native = node_overrides(definition, RunLayout(NATIVE_ROOT), Placement(NATIVE_BUILDER))
    kinds: dict[str, set[str]] = {}
    for node, (file, settings) in container_settings(definition).items():
        keys, prefix = ENV_KEYS[file]
        file_part, _ = split_settings(settings, keys, prefix)
        theirs = flatten(native[node][1])
        env = {k: str(v) for k, v in document["services"][node]["environment"].items()}
        ours = apply_environment(flatten(file_part), env, prefix, known=theirs)
        compare(ours, theirs, list(document["services"]), kinds)
    return kinds


def _kind(value: Any) -> str:
    text = str(value)
    if str(PEER_IMAGE_CCAAS_BUILDER) in text:
        return "builder"
    if str(CONTAINER_ROOT) in text:
        return "path"
    return "listen" if ALL_INTERFACES in text else "advertised"


@pytest.mark.parametrize(("orgs", "orderers"), [(3, 1), (5, 3)])
def test_compose_nodes_have_the_native_nodes_settings(orgs: int, orderers: int) -> None:
    definition = NetworkDefinition.load().with_overrides(orgs=orgs, orderers=orderers)
    kinds = differences(definition)
    assert set(kinds) == {"listen", "advertised", "builder", "path"}
    assert kinds["listen"] == LISTEN
    assert kinds["advertised"] == ADVERTISED
    assert kinds["builder"] == BUILDER
    assert kinds["path"]  # the TLS, MSP and data paths, under the mounted run folder
    assert all(k.endswith(PATH_KEY_ENDINGS) for k in kinds["path"]), kinds["path"]


def services_of(definition: NetworkDefinition) -> dict[str, Any]:
    services: dict[str, Any] = compose_document(definition, sources_for(PROJECT_ROOT, definition))[
        "services"
    ]
    return services


@pytest.mark.parametrize(("orgs", "orderers"), [(3, 1), (10, 9)])
def test_ports_and_container_names_are_unique(orgs: int, orderers: int) -> None:
    services = services_of(NetworkDefinition.load().with_overrides(orgs=orgs, orderers=orderers))
    names = [s["container_name"] for s in services.values()]
    published = [p for s in services.values() for p in s.get("ports", [])]
    assert len(names) == len(set(names)) == len(services) == orderers + 3 * orgs
    assert len(published) == len(set(published)) == 3 * orderers + 3 * orgs
    for port in published:
        host, _, container = port.partition(":")
        assert host == container  # the port plan, inside and outside the containers


def test_chaincode_services_share_their_peers_network() -> None:
    services = services_of(NetworkDefinition.load())
    assert services["chaincode.org2.fedledger.local"]["network_mode"] == (
        "service:peer0.org2.fedledger.local"
    )
    assert "127.0.0.1:17113" in services["chaincode.org2.fedledger.local"]["command"][2]
    builder = services["peer0.org2.fedledger.local"]["environment"]
    assert builder["CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG"] == '{"ccport": "17113"}'


DOCKER_COMPOSE = shutil.which("docker-compose")


@pytest.mark.skipif(
    DOCKER_COMPOSE is None,
    reason="docker-compose is not installed (Debian: apt-get install docker-compose; .ci/run does)",
)
@pytest.mark.parametrize("orgs", [3, 10])
def test_docker_compose_accepts_the_file(tmp_path: Path, orgs: int) -> None:
    definition = NetworkDefinition.load().with_overrides(orgs=orgs)
    compose_file = tmp_path / "docker-compose.yaml"
    compose_file.write_text(render(compose_document(definition, sources_for(tmp_path, definition))))
    assert DOCKER_COMPOSE is not None
    result = subprocess.run(
        [DOCKER_COMPOSE, "-f", str(compose_file), "config"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert len(services) == 1 + 3 * orgs
    assert services[f"validator.org{orgs}.fedledger.local"]["profiles"] == ["validators"]


def test_docker_compose_refuses_an_unknown_key(tmp_path: Path) -> None:
    if DOCKER_COMPOSE is None:
        pytest.skip("docker-compose is not installed (Debian: apt-get install docker-compose)")
    document = compose_document(
        NetworkDefinition.load(), sources_for(tmp_path, NetworkDefinition.load())
    )
    document["services"]["peer0.org1.fedledger.local"]["enviroment"] = {}
    compose_file = tmp_path / "docker-compose.yaml"
    compose_file.write_text(yaml.safe_dump(document))
    result = subprocess.run(
        [DOCKER_COMPOSE, "-f", str(compose_file), "config", "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "enviroment" in result.stderr


def stages(dockerfile: Path) -> list[list[str]]:
    """The Dockerfile's instructions (continuation lines joined), split into build stages."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    found: list[list[str]] = []
    for line in instructions:
        if line.upper().startswith("FROM "):
            found.append([])
        assert found, f"{dockerfile}: {line!r} before the first FROM"
        found[-1].append(line)
    return found


def final_user(stage: list[str]) -> str | None:
    users = [line.split()[1] for line in stage if line.upper().startswith("USER ")]
    return users[-1] if users else None


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "chaincode/Dockerfile"])
def test_images_are_multi_stage_and_run_as_non_root(dockerfile: str) -> None:
    found = stages(PROJECT_ROOT / dockerfile)
    assert len(found) >= 2
    assert final_user(found[-1]) not in (None, "root", "0")
    assert any("--from=" in line for line in found[-1] if line.startswith("COPY"))


def test_the_validator_image_comes_from_the_lock_file_and_checks_grpc_health() -> None:
    build, run = stages(PROJECT_ROOT / "Dockerfile")
    assert any("uv sync --locked" in line for line in build)
    healthchecks = [line for line in run if line.startswith("HEALTHCHECK")]
    assert len(healthchecks) == 1
    assert "fedledger validator health" in healthchecks[0]


def test_the_chaincode_image_runs_the_server_without_dev_dependencies() -> None:
    build, run = stages(PROJECT_ROOT / "chaincode" / "Dockerfile")
    assert any("npm run build" in line for line in build)
    assert any("npm ci --omit=dev" in line for line in run)
    assert run[-1] == 'CMD ["fabric-chaincode-node", "server"]'


def test_deploying_without_a_written_package_says_to_compose_first(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    with pytest.raises(
        NetworkError,
        match=rf"^no chaincode package in {re.escape(str(layout.chaincode_dir))}: run "
        r"`fedledger network compose` first$",
    ):
        written_package(layout)
    layout.chaincode_dir.mkdir()
    (layout.chaincode_dir / "package-id").write_text("fedledger_0.3.0_abc:123\n")
    with pytest.raises(
        NetworkError,
        match=r"package-id names fedledger_0.3.0_abc:123, which is not the package beside it: "
        r"run `fedledger network compose` again$",
    ):
        written_package(layout)
