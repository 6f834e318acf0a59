"""`fedledger network compose`: the compose file and everything it mounts, and, once its
containers run, the channel joins and the chaincode deployment from this host.

The run folder (`.fedledger-compose/` beside the compose file) is laid out like the native
network's (`RunLayout`) and mounted at CONTAINER_ROOT; its node configuration files hold
container paths, its connection profile this host's view (127.0.0.1 and the published ports).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedledger.installation import Installation
from fedledger.network import channel, readiness
from fedledger.network.compose import (
    CONTAINER_ROOT,
    ComposeSources,
    compose_document,
    container_settings,
    render,
    validator_config_path,
)
from fedledger.network.compose_env import (
    ORDERER_ENV_KEYS,
    ORDERER_PREFIX,
    PEER_ENV_KEYS,
    PEER_PREFIX,
    split_settings,
)
from fedledger.network.errors import NetworkError
from fedledger.network.lifecycle import Deployment, deploy
from fedledger.network.nodeconfig import ALL_INTERFACES, LOCALHOST, write_config
from fedledger.network.packaging import ChaincodePackage, package_ccaas
from fedledger.network.peercli import FabricCommands
from fedledger.network.validators import ValidatorsSpec
from fedledger.orgs.layout import OrgLayout
from fedledger.profile import ConnectionProfile, OrgProfile
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.layout import RunLayout
from fedledger.validator.profile_config import config_document, render_config

COMPOSE_FILE = "docker-compose.yaml"
RUN_FOLDER = ".fedledger-compose"
PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class ComposeOutput:
    compose_file: Path
    run_folder: Path
    package_id: str


def sources_for(out: Path, definition: NetworkDefinition) -> ComposeSources:
    """The folders a compose file in `out` mounts and builds from, relative to `out`."""

    def relative(path: Path) -> str:
        text = Path(os.path.relpath(path.resolve(), out.resolve())).as_posix()
        return text if text.startswith(".") else f"./{text}"

    return ComposeSources(
        run_folder=f"./{RUN_FOLDER}",
        chaincode=relative(definition.chaincode_source),
        project=relative(PROJECT_ROOT),
    )


def write_compose(
    installation: Installation,
    definition: NetworkDefinition,
    out: Path,
    validators: ValidatorsSpec | None = None,
) -> ComposeOutput:
    """Write `out`/docker-compose.yaml and its run folder: organisation material, each node's
    configuration, the genesis block, the chaincode package, the validators' configurations and
    this host's connection profile. Material and genesis block are kept when they exist.

    Raises DefinitionError, before writing anything, when `validators` lists an organisation the
    network lacks; NetworkError (PackagingError when the chaincode is not built; configtxgen's
    error).
    """
    for msp_id in validators.tasks if validators else {}:
        definition.member(msp_id)
    commands = FabricCommands(installation, definition, RunLayout(out.resolve() / RUN_FOLDER))
    layout = commands.layout
    channel.write_material(commands)
    _write_node_configs(installation, definition, layout)
    if not layout.genesis_block.exists():
        channel.write_genesis_block(commands, host=lambda node: node)
    package = package_ccaas(definition.chaincode_source, definition.chaincode_name,
                            layout.chaincode_dir)  # fmt: skip
    (layout.chaincode_dir / "package-id").write_text(package.package_id + "\n")
    layout.store.mkdir(parents=True, exist_ok=True)
    host_profile(definition, layout).write(layout.profile)
    if validators is not None:
        _write_validators(definition, layout, validators)
    document = compose_document(definition, sources_for(out, definition))
    compose_file = out / COMPOSE_FILE  # as the user named it, for the message
    compose_file.write_text(render(document))
    return ComposeOutput(compose_file, layout.root, package.package_id)


def _write_node_configs(
    installation: Installation, definition: NetworkDefinition, layout: RunLayout
) -> None:
    keys = {"core.yaml": (PEER_ENV_KEYS, PEER_PREFIX), "orderer.yaml": (ORDERER_ENV_KEYS,
            ORDERER_PREFIX)}  # fmt: skip
    for name, (file, settings) in container_settings(definition).items():
        in_file, _ = split_settings(settings, *keys[file])
        write_config(installation.config_dir / file, in_file, layout.node(name) / file)


def host_profile(definition: NetworkDefinition, layout: RunLayout) -> ConnectionProfile:
    """The profile this host uses: each peer at 127.0.0.1 and its published port (its TLS
    certificate names 127.0.0.1 too)."""
    organizations = {
        member.msp_id: OrgProfile.from_material(
            member.msp_id,
            OrgLayout.under(layout.crypto, member.domain),
            f"{LOCALHOST}:{definition.peer_ports(i).listen}",
        )
        for i, member in enumerate(definition.members)
    }
    return ConnectionProfile(
        name=definition.name,
        ledger="fabric",
        channel=definition.channel,
        chaincode=definition.chaincode_name,
        organizations=organizations,
        path=layout.profile,
    )


def in_container(value: Any, root: Path) -> Any:
    """`value` with every path below `root` (the run folder) moved under CONTAINER_ROOT."""
    if isinstance(value, Path):
        return CONTAINER_ROOT / value.relative_to(root) if value.is_relative_to(root) else value
    if isinstance(value, dict):
        return {key: in_container(item, root) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [in_container(item, root) for item in value]
    return value


def _write_validators(
    definition: NetworkDefinition, layout: RunLayout, spec: ValidatorsSpec
) -> None:
    """Each listed organisation's validator configuration, as its container reads it: its
    holdouts copied beside it, its peer reached by host name."""
    for msp_id, tasks in spec.tasks.items():
        index, member = definition.member(msp_id)
        folder = layout.root / "validators" / msp_id
        holdouts = {}
        for task, holdout in tasks.items():
            copy = folder / "holdouts" / f"{task}{holdout.suffix}"
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(holdout, copy)
            holdouts[task] = copy
        org = OrgLayout.under(layout.crypto, member.domain)
        peer = org.peer(0).name
        profile = host_profile(definition, layout)
        container_view = OrgProfile.from_material(
            msp_id, org, f"{peer}:{definition.peer_ports(index).listen}"
        )
        profile.organizations[msp_id] = container_view
        document = config_document(
            profile,
            msp_id,
            tasks=holdouts,
            store=str(CONTAINER_ROOT / "store"),
            state_dir=folder / "state",
            listen=f"{ALL_INTERFACES}:{definition.peer_ports(index).validator}",
        )
        config = validator_config_path(msp_id)
        target = layout.root / config.relative_to(CONTAINER_ROOT)
        target.write_text(render_config(config, in_container(document, layout.root)))


def deploy_on_compose(
    installation: Installation, definition: NetworkDefinition, run_folder: Path, timeout: float
) -> Deployment:
    """Once the compose file's containers run: join the orderers and peers to the channel and
    deploy the chaincode package `write_compose` made, from this host through the published
    ports, with the native network's own steps; then wait until the chaincode answers on every
    peer and the peers know each other.

    Raises NetworkError (CommandError when a Fabric command fails), NotReadyError on time, and
    deploy.DeployError when a lifecycle step fails.
    """
    commands = FabricCommands(installation, definition, RunLayout(run_folder.resolve()))
    package = written_package(commands.layout)
    readiness.wait_for_admin(commands, timeout)
    channel.join_orderers(commands)
    readiness.wait_for_leader(commands, timeout)
    channel.join_peers(commands)
    deployment = deploy(commands, package)
    readiness.wait_for_chaincode(commands, timeout)
    readiness.wait_for_gossip(commands, timeout)
    return deployment


def written_package(layout: RunLayout) -> ChaincodePackage:
    """The package whose id the chaincode services read; raises NetworkError when missing."""
    id_file = layout.chaincode_dir / "package-id"
    try:
        package_id = id_file.read_text().strip()
    except FileNotFoundError:
        raise NetworkError(
            f"no chaincode package in {layout.chaincode_dir}: run `fedledger network compose` first"
        ) from None
    label = package_id.partition(":")[0]
    package = ChaincodePackage(layout.chaincode_dir / f"{label}.ccaas.tar.gz", label)
    if not package.path.exists() or package.package_id != package_id:
        raise NetworkError(
            f"{id_file} names {package_id}, which is not the package beside it: "
            "run `fedledger network compose` again"
        )
    return package
