"""`fedledger channel`: show the channel's organisations and change them by config updates.

An update is prepared by one admin (`add-org`, `remove-org`), signed by each organisation's
admin on their own host (`sign-update`), and sent by one of them once enough have signed
(`submit-update`); docs/multi-host.md describes the flow and the policies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fedledger.cli.channel_create import (
    DEFAULT_BATCH_TIMEOUT,
    BatchTimeoutOption,
    LegacyAsOption,
    OrdererOrgOption,
    create_participation,
    require_as,
)
from fedledger.cli.common import DEFAULT_RUN_DIR, ProfileOption, RunDir, load_profile, out

if TYPE_CHECKING:
    from fabric_protos.common.configtx_pb2 import ConfigUpdateEnvelope

    from fedledger.fabric.contract import Network
    from fedledger.profile import ConnectionProfile

channel_app = typer.Typer(
    help="Create, join and show channels; add or remove organisations by signed config updates.",
    no_args_is_help=True,
)

AsOption = Annotated[
    str,
    typer.Option("--as", envvar="FEDLEDGER_ORG", help="Act as this organisation's admin (MSP ID)."),
]
OutOption = Annotated[Path, typer.Option("--out", help="The update file to write.")]
UpdateFile = Annotated[Path, typer.Argument(help="The update file (update.pb).")]


@contextmanager
def _admin_network(profile: ConnectionProfile, msp_id: str) -> Iterator[Network]:
    from fedledger.fabric.connect import connect

    with connect(profile, msp_id, identity="admin") as gateway:
        yield gateway.network(profile.channel)


def _write(path: Path, envelope: ConfigUpdateEnvelope) -> None:
    from fedledger.channelconfig.envelopes import write_update_file

    write_update_file(path, envelope)
    out.print(
        f"wrote the unsigned update to {path}; next: each admin runs `fedledger channel "
        f"sign-update {path}`, then one runs `fedledger channel submit-update {path}`"
    )


@channel_app.command("add-org")
def add_org(
    org_file: Annotated[Path, typer.Argument(help="The organisation's file (org export).")],
    as_org: AsOption,
    output: OutOption = Path("update.pb"),
    profile: ProfileOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Prepare the config update that adds an organisation (from its exported file)."""
    from fedledger.channelconfig.workflow import prepare_add
    from fedledger.orgs.export import read_org_file

    org = read_org_file(org_file)
    loaded = load_profile(run_dir, profile)
    with _admin_network(loaded, as_org) as network:
        envelope = prepare_add(network, org)
    _write(output, envelope)


@channel_app.command("remove-org")
def remove_org(
    msp_id: Annotated[str, typer.Argument(help="The member organisation to remove (MSP ID).")],
    as_org: AsOption,
    output: OutOption = Path("update.pb"),
    profile: ProfileOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Prepare the config update that removes a member organisation."""
    from fedledger.channelconfig.workflow import prepare_remove

    loaded = load_profile(run_dir, profile)
    with _admin_network(loaded, as_org) as network:
        envelope = prepare_remove(network, msp_id)
    _write(output, envelope)


@channel_app.command("sign-update")
def sign_update(
    update_file: UpdateFile,
    as_org: AsOption,
    profile: ProfileOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Add this organisation's admin signature to an update file (only its own key is read)."""
    from fedledger.channelconfig import envelopes
    from fedledger.fabric.identity import SigningIdentity

    org = load_profile(run_dir, profile).org(as_org)
    signer = SigningIdentity.from_msp_folder(org.identity("admin"), org.msp_id)
    envelope, _ = envelopes.read_update_file(update_file)
    signed = envelopes.sign_update(envelope, signer)
    envelopes.write_update_file(update_file, signed)
    out.print(
        f"signed {update_file} as {org.msp_id}'s admin; signed by "
        f"{', '.join(envelopes.signer_msp_ids(signed))}"
    )


@channel_app.command("submit-update")
def submit_update(
    update_file: UpdateFile,
    as_org: AsOption,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the peer.")] = 60.0,
    profile: ProfileOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Check the signatures against the channel's policies, send the update, wait for it."""
    from fedledger.channelconfig.envelopes import read_update_file
    from fedledger.channelconfig.ledger import orderer_of
    from fedledger.channelconfig.members import member_summaries
    from fedledger.channelconfig.workflow import submit
    from fedledger.fabric.identity import SigningIdentity

    loaded = load_profile(run_dir, profile)
    orderer = orderer_of(loaded)
    org = loaded.org(as_org)
    submitter = SigningIdentity.from_msp_folder(org.identity("admin"), org.msp_id)
    envelope, update = read_update_file(update_file)
    with _admin_network(loaded, as_org) as network:
        config = submit(network, orderer, envelope, update, submitter, timeout)
    members = ", ".join(m.msp_id for m in member_summaries(config))
    out.print(f"channel {loaded.channel} at config sequence {config.sequence}; members: {members}")


@channel_app.command()
def create(
    org_files: Annotated[
        list[Path], typer.Argument(help="Each member organisation's file (org export).")
    ],
    orderer_org: OrdererOrgOption = None,
    as_org: LegacyAsOption = None,
    legacy: Annotated[
        bool,
        typer.Option(
            "--legacy",
            help="Create it by a channel creation transaction, on an ordering service with a "
            "system channel (Fabric 2.2, AWS Managed Blockchain).",
        ),
    ] = False,
    channel: Annotated[
        str | None, typer.Option(help="The new channel's name (default: the profile's).")
    ] = None,
    consortium: Annotated[
        str, typer.Option(help="The system channel's consortium (AWS: AWSSystemConsortium).")
    ] = "FedledgerConsortium",
    update: Annotated[
        Path | None,
        typer.Option(help="A creation update other admins signed (sign-update) to send."),
    ] = None,
    block_out: Annotated[
        Path | None,
        typer.Option(
            "--block-out", "--out", help="Where to write its genesis block (default CHANNEL.block)."
        ),
    ] = None,
    batch_timeout: BatchTimeoutOption = DEFAULT_BATCH_TIMEOUT,
    write_update: Annotated[
        Path | None,
        typer.Option(help="Only write the update, signed by --as, for other admins to sign."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the orderer.")] = 60.0,
    profile: ProfileOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Create a channel of the given organisations and write its genesis block.

    Without --legacy: the genesis block from the exported files, for the ordering
    organisation's `channel join-orderer` (Fabric 2.3+, docs/consortium.md). With --legacy: a
    creation transaction on a system channel, as --as's admin (Fabric 2.2).
    """
    if not legacy:
        create_participation(org_files, orderer_org, channel, block_out, batch_timeout)
        return
    from fedledger.cli.legacy_channel import create_legacy, next_steps

    admin = require_as(as_org)
    loaded = load_profile(run_dir, profile)
    name = channel or loaded.channel
    target = block_out or Path(f"{name}.block")
    members = create_legacy(
        loaded, admin, org_files, name, consortium, update, target, timeout, write_update
    )
    out.print(next_steps(name, admin, members, target, write_update))


@channel_app.command()
def join(
    block: Annotated[Path, typer.Argument(help="The channel's genesis block (channel create).")],
    as_org: AsOption,
    profile: ProfileOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Join this organisation's peers to a channel with its genesis block."""
    from fabric_protos.common.common_pb2 import Block

    from fedledger.channelconfig.joining import join_peers
    from fedledger.cli.failures import fail
    from fedledger.fabric.identity import SigningIdentity

    if not block.is_file():
        fail(f"no block at {block}: `fedledger channel create --legacy` writes one")
    org = load_profile(run_dir, profile).org(as_org)
    admin = SigningIdentity.from_msp_folder(org.identity("admin"), org.msp_id)
    joined = join_peers(org, admin, Block.FromString(block.read_bytes()))
    peers = ", ".join(joined) if joined else "none (every peer was on it already)"
    out.print(f"{org.msp_id}'s peers joined from {block}: {peers}")


@channel_app.command()
def show(
    as_org: AsOption,
    profile: ProfileOption = None,
    run_dir: RunDir = DEFAULT_RUN_DIR,
) -> None:
    """Print the channel's organisations, their anchor peers and the config sequence."""
    from fedledger.channelconfig.ledger import latest_config
    from fedledger.channelconfig.members import member_summaries

    loaded = load_profile(run_dir, profile)
    with _admin_network(loaded, as_org) as network:
        config, block = latest_config(network)
    out.print(f"channel {loaded.channel}: config sequence {config.sequence} (block {block})")
    for member in member_summaries(config):
        anchors = ", ".join(member.anchor_peers) or "no anchor peer"
        out.print(f"  {member.msp_id}  anchor peers: {anchors}")


# Channel participation's join of the ordering organisation lives beside its `create`.
def _register_join_orderer() -> None:
    from fedledger.cli.channel_create import join_orderer

    channel_app.command("join-orderer")(join_orderer)


_register_join_orderer()
